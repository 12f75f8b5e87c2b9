"""Scores of the tiny reranker checked against an independent full-LM-head computation."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from vlsearch.errors import ModelUnavailableError
from vlsearch.models.base import ModelState, Reranker, RerankInput
from vlsearch.models.qwen3vl.inputs import parse_side
from vlsearch.rerank import Qwen3VLReranker

from .test_prompt import DEFAULT_INSTRUCTION, IMAGE, REFERENCE_TEMPLATE, VIDEO


def _reference_score(model_dir: Path, prompt: str, images=None, videos=None, metadata=None) -> float:
    """P(yes) from the full Qwen3VLForConditionalGeneration logits, one unpadded pair."""
    from transformers import AutoProcessor, Qwen3VLForConditionalGeneration

    processor = AutoProcessor.from_pretrained(model_dir)
    model = Qwen3VLForConditionalGeneration.from_pretrained(model_dir, dtype=torch.float32).eval()
    kwargs = {}
    if images:
        kwargs["images"] = images
    if videos:
        kwargs.update(videos=videos, video_metadata=metadata, do_sample_frames=False)
    batch = processor(text=[prompt], return_tensors="pt", do_resize=False, **kwargs)
    with torch.inference_mode():
        logits = model(**batch).logits[0, -1]
    tok = processor.tokenizer
    yes, no = tok.convert_tokens_to_ids("yes"), tok.convert_tokens_to_ids("no")
    p_yes = torch.softmax(logits[[no, yes]].double(), dim=0)[1].item()
    assert p_yes == pytest.approx(torch.sigmoid(logits[yes] - logits[no]).item(), abs=1e-6)
    return p_yes


def test_text_score_matches_full_lm_head(reranker: Qwen3VLReranker, tiny_model_dir: Path) -> None:
    q, d = "A cat standing in the snow.", "This product was excellent and exceeded my expectations."
    got = reranker.process({"query": {"text": q}, "documents": [{"text": d}]})
    prompt = REFERENCE_TEMPLATE.format(instruction=DEFAULT_INSTRUCTION, Q=q, D=d)
    assert got == pytest.approx([_reference_score(tiny_model_dir, prompt)], abs=1e-5)


def test_multimodal_score_matches_full_lm_head(
    reranker: Qwen3VLReranker, tiny_model_dir: Path, tmp_path: Path
) -> None:
    from qwen_vl_utils import fetch_image, fetch_video

    rng = np.random.default_rng(5)
    img = Image.fromarray(rng.integers(0, 255, (64, 96, 3), dtype=np.uint8))
    paths = []
    for i in range(4):
        paths.append(tmp_path / f"f{i}.png")
        Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(paths[-1])
    img.save(tmp_path / "img.png")
    got = reranker.process(
        {
            "instruction": "Find the matching clip.",
            "query": {"text": "red car", "image": str(tmp_path / "img.png")},
            "documents": [{"video": [str(p) for p in paths], "text": "a clip"}],
            "fps": 2.0,
        }
    )
    prompt = REFERENCE_TEMPLATE.format(
        instruction="Find the matching clip.", Q=IMAGE + "red car", D=VIDEO + "a clip"
    )
    image = fetch_image(
        {"image": str(tmp_path / "img.png"), "min_pixels": 4096, "max_pixels": 1_843_200}, image_patch_size=16
    )
    video, meta = fetch_video(
        {"video": [str(p) for p in paths], "total_pixels": 7_864_320},
        image_patch_size=16,
        return_video_metadata=True,
    )
    want = _reference_score(tiny_model_dir, prompt, images=[image], videos=[video], metadata=[meta])
    assert got == pytest.approx([want], abs=1e-5)


def _mixed_documents(media: dict[str, Path]) -> list[dict]:
    return [
        {"text": "short"},
        {"text": " ".join(["a much longer document about power supplies"] * 12)},
        {"image": str(media["img_a"]), "text": "figure of a server"},
        {"image": [str(media["img_b"]), str(media["img_c"])]},
        {"video": str(media["video"]), "text": "clip"},
        {"video": [str(media[f"frame{i}"]) for i in range(3)]},
        {"text": "medium length text about a cat standing in the snow"},
        {},
    ]


def test_batched_scores_equal_single_pair_scores(reranker: Qwen3VLReranker, media: dict[str, Path]) -> None:
    query = parse_side({"text": "server power supply", "image": str(media["img_c"])})
    docs = [parse_side(d) for d in _mixed_documents(media)]
    encoded = reranker.encode_pairs(query, docs)
    before = reranker.forward_calls
    batched = reranker.score_encoded(encoded)
    batched_calls = reranker.forward_calls - before
    single = reranker.score_encoded(encoded, batched=False)
    assert batched_calls < len(docs)
    assert reranker.forward_calls - before - batched_calls == len(docs)
    np.testing.assert_allclose(batched, single, rtol=0, atol=2e-5)
    assert len(set(np.round(single, 4))) > 3  # the scores actually differ between documents


def test_token_budget_splits_batches(tiny_model_dir: Path, media: dict[str, Path]) -> None:
    tight = Qwen3VLReranker(model_name_or_path=str(tiny_model_dir), device="cpu", token_budget=200)
    loose = Qwen3VLReranker(model_name_or_path=str(tiny_model_dir), device="cpu", token_budget=100_000)
    docs = [{"text": f"document number {i} " * (i + 1)} for i in range(6)]
    a = tight.score({"text": "q"}, docs)
    b = loose.score({"text": "q"}, docs)
    assert loose.forward_calls == 1 and tight.forward_calls > 1
    np.testing.assert_allclose(a, b, atol=2e-5)


def test_process_accepts_seed_dict_and_keeps_order(reranker: Qwen3VLReranker, media: dict[str, Path]) -> None:
    inputs: dict[str, Any] = {
        "instruction": "Given a search query, retrieve relevant candidates.",
        "query": {"text": "A woman playing with her dog"},
        "documents": [
            {"text": "A woman and dog on beach", "image": str(media["img_a"])},
            {"text": "Dog training tips for beginners", "video": str(media["video"])},
            {"text": ["two", "texts"], "image": [str(media["img_b"])]},
        ],
        "fps": 1.0,
        "max_frames": 8,
    }
    scores = reranker.process(inputs)
    assert len(scores) == 3 and all(isinstance(s, float) and 0.0 <= s <= 1.0 for s in scores)
    reversed_inputs = dict(inputs, documents=inputs["documents"][::-1])
    np.testing.assert_allclose(reranker.process(reversed_inputs), scores[::-1], atol=2e-5)
    # Video query and document together.
    both = reranker.process(
        {"query": {"video": str(media["video"]), "text": "clip"}, "documents": inputs["documents"]}
    )
    assert len(both) == 3


def test_empty_inputs_give_empty_list(reranker: Qwen3VLReranker) -> None:
    calls = reranker.forward_calls
    assert reranker.process({"query": {"text": "q"}, "documents": []}) == []
    assert reranker.process({"query": {"text": "q"}}) == []
    assert reranker.process({"documents": [{"text": "d"}]}) == []
    assert reranker.process({"query": {}, "documents": [{"text": "d"}]}) == []
    assert reranker.score(RerankInput(), [RerankInput(text="d")]) == []
    assert reranker.forward_calls == calls


def test_protocol_and_info(reranker: Qwen3VLReranker) -> None:
    assert isinstance(reranker, Reranker)
    info = reranker.info()
    assert info.state is ModelState.READY and info.kind == "reranker" and info.dtype == "float32"
    assert info.device == "cpu"
    scores = reranker.score(RerankInput(text="q"), [RerankInput(text="a"), RerankInput(text="b")])
    assert len(scores) == 2


def test_cheap_constructor_lazy_load_threads_and_unload(tiny_model_dir: Path) -> None:
    model = Qwen3VLReranker(model_name_or_path=str(tiny_model_dir), device="cpu")
    assert not model.loaded and model.info().state is ModelState.UNLOADED
    errors: list[BaseException] = []

    def load() -> None:
        try:
            model.load()
        except BaseException as exc:  # collected and re-raised by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=load) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and model.loaded
    first = model._model
    model.load()
    assert model._model is first  # second load is a no-op
    model.unload()
    assert not model.loaded and model.info().state is ModelState.UNLOADED
    assert len(model.score({"text": "q"}, [{"text": "d"}])) == 1  # loads again on use


def test_missing_model_offline_says_what_to_set(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    model = Qwen3VLReranker(model_name_or_path="Qwen/Qwen3-VL-Reranker-2B")
    with pytest.raises(ModelUnavailableError, match="set VLSEARCH_RERANKER to a local folder"):
        model.load()
    assert model.info().state is ModelState.FAILED and "VLSEARCH_RERANKER" in model.info().error


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_bf16_batch_equals_single_on_cuda(tiny_model_dir: Path, media: dict[str, Path]) -> None:
    model = Qwen3VLReranker(model_name_or_path=str(tiny_model_dir), torch_dtype=torch.bfloat16, device="cuda")
    query = parse_side({"text": "server power supply"})
    docs = [parse_side(d) for d in _mixed_documents(media)]
    encoded = model.encode_pairs(query, docs)
    batched = model.score_encoded(encoded)
    single = model.score_encoded(encoded, batched=False)
    np.testing.assert_allclose(batched, single, atol=2e-2)  # bf16 noise
    assert model.info().dtype == "bfloat16"
    model.unload()
    assert torch.cuda.memory_allocated() < 50 * 1024**2


def test_device_map_loading_gives_same_scores(reranker: Qwen3VLReranker, tiny_model_dir: Path) -> None:
    mapped = Qwen3VLReranker(model_name_or_path=str(tiny_model_dir), device_map={"": "cpu"})
    docs = [{"text": "x " * k} for k in (3, 9, 27)]
    np.testing.assert_allclose(
        mapped.score({"text": "q"}, docs), reranker.score({"text": "q"}, docs), atol=1e-6
    )
    assert mapped.info().device == "{'': 'cpu'}"
