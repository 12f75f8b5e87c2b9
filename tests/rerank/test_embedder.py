"""Qwen3-VL-Embedding on the tiny model: pooling, normalisation, Matryoshka, prompts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from vlsearch.models.base import Embedder
from vlsearch.models.qwen3vl_embedder import Qwen3VLEmbedder
from vlsearch.types import EmbedInput, Role


@pytest.fixture(scope="module")
def embedder(tiny_model_dir: Path) -> Qwen3VLEmbedder:
    model = Qwen3VLEmbedder(model=str(tiny_model_dir), device="cpu", token_budget=4096)
    model.load()
    return model


def _inputs(media: dict[str, Path]) -> list[EmbedInput]:
    return [
        EmbedInput(text="power supply replacement"),
        EmbedInput(text=" ".join(["a longer passage about racks and servers"] * 8)),
        EmbedInput(text="figure", images=(str(media["img_a"]),)),
        EmbedInput(video_frames=tuple(str(media[f"frame{i}"]) for i in range(4))),
        EmbedInput(text="both", images=(str(media["img_b"]),), video_frames=(str(media["frame0"]),)),
    ]


def test_protocol_dim_and_unit_vectors(embedder: Qwen3VLEmbedder, media: dict[str, Path]) -> None:
    assert isinstance(embedder, Embedder) and embedder.multimodal
    assert embedder.dim == 64 and embedder.info().dim == 64
    vecs = embedder.embed(_inputs(media), role=Role.DOCUMENT)
    assert vecs.shape == (5, 64) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert embedder.embed([], role=Role.QUERY).shape == (0, 64)


def test_last_token_pooling_matches_manual(
    embedder: Qwen3VLEmbedder, tiny_model_dir: Path, media: dict[str, Path]
) -> None:
    from transformers import AutoProcessor, Qwen3VLModel

    items = [EmbedInput(text="short"), EmbedInput(text="a considerably longer text to force right padding")]
    got = embedder.embed(items, role=Role.QUERY)  # one padded batch
    processor = AutoProcessor.from_pretrained(tiny_model_dir)
    model = Qwen3VLModel.from_pretrained(tiny_model_dir, dtype=torch.float32).eval()
    for row, item in enumerate(items):
        prompt = (
            "<|im_start|>system\nRetrieve relevant passages.<|im_end|>\n"
            f"<|im_start|>user\n{item.text}<|im_end|>\n<|im_start|>assistant\n"
        )
        assert embedder.build_prompt(item, role=Role.QUERY) == prompt
        batch = processor(text=[prompt], return_tensors="pt")
        with torch.inference_mode():
            hidden = model(**batch).last_hidden_state[0, -1]
        want = torch.nn.functional.normalize(hidden, dim=0).numpy()
        np.testing.assert_allclose(got[row], want, atol=1e-5)


def test_batch_equals_single(embedder: Qwen3VLEmbedder, media: dict[str, Path]) -> None:
    items = _inputs(media)
    batched = embedder.embed(items, role=Role.DOCUMENT)
    single = np.vstack([embedder.embed([it], role=Role.DOCUMENT) for it in items])
    np.testing.assert_allclose(batched, single, atol=2e-5)


def test_matryoshka_truncates_then_renormalises(tiny_model_dir: Path, embedder: Qwen3VLEmbedder) -> None:
    small = Qwen3VLEmbedder(model=str(tiny_model_dir), device="cpu", dim=16)
    assert small.dim == 16  # known from config.json before loading
    items = [EmbedInput(text="alpha"), EmbedInput(text="beta gamma")]
    full = embedder.embed(items, role=Role.DOCUMENT)
    cut = small.embed(items, role=Role.DOCUMENT)
    want = full[:, :16] / np.linalg.norm(full[:, :16], axis=1, keepdims=True)
    np.testing.assert_allclose(cut, want, atol=1e-5)
    with pytest.raises(ValueError, match="exceeds"):
        _ = Qwen3VLEmbedder(model=str(tiny_model_dir), dim=4096).dim


def test_query_and_document_prompts_differ(embedder: Qwen3VLEmbedder) -> None:
    item = EmbedInput(text="replace the fan")
    q = embedder.build_prompt(item, role=Role.QUERY)
    d = embedder.build_prompt(item, role=Role.DOCUMENT)
    assert "Retrieve relevant passages." in q and "Represent the user's input." in d and q != d
    vq = embedder.embed([item], role=Role.QUERY)
    vd = embedder.embed([item], role=Role.DOCUMENT)
    assert not np.allclose(vq, vd, atol=1e-3)
