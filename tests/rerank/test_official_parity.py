"""Scores and vectors equal the official recipe's (tests/rerank/official_reference.py) within 1e-4.

The reference is independent of vlsearch: its own prompts and element dicts, qwen-vl-utils and the
HF processor called directly, one pair per forward. Ours runs batched and one document at a time.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from vlsearch.models.qwen3vl.inputs import VisionLimits, parse_side
from vlsearch.models.qwen3vl_embedder import Qwen3VLEmbedder
from vlsearch.rerank import Qwen3VLReranker
from vlsearch.types import EmbedInput, Role

from .official_reference import OfficialEmbedder, OfficialReranker
from .parity_cases import RerankCase, build_parity_media, embed_cases, rerank_cases

TOL = 1e-4
_NAMES = defaultdict(str)
RERANK_CASES = [c.name for c in rerank_cases(_NAMES)]
EMBED_GROUPS = sorted({tuple(sorted(c.ctor.items())) for c in embed_cases(_NAMES)})


@pytest.fixture(scope="session")
def parity_media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return build_parity_media(tmp_path_factory.mktemp("parity-media"))


class _PerCtor:
    """One reference and one vlsearch model per constructor option set, built on first use."""

    def __init__(self, model_dir: Path) -> None:
        self.model_dir = model_dir
        self.refs: dict[tuple, OfficialReranker] = {}
        self.ours: dict[tuple, Qwen3VLReranker] = {}

    def pair(self, ctor: dict[str, Any]) -> tuple[OfficialReranker, Qwen3VLReranker]:
        key = tuple(sorted(ctor.items()))
        if key not in self.refs:
            self.refs[key] = OfficialReranker(self.model_dir, **ctor)
            self.ours[key] = Qwen3VLReranker(
                model_name_or_path=str(self.model_dir), torch_dtype=torch.float32, device="cpu", **ctor
            )
        return self.refs[key], self.ours[key]


@pytest.fixture(scope="module")
def models(tiny_model_dir: Path) -> _PerCtor:
    return _PerCtor(tiny_model_dir)


@pytest.mark.parametrize("name", RERANK_CASES)
def test_rerank_matches_official_recipe(name: str, models: _PerCtor, parity_media: dict[str, str]) -> None:
    case: RerankCase = next(c for c in rerank_cases(parity_media) if c.name == name)
    ref, ours = models.pair(case.ctor)
    want = ref.process(case.inputs)
    batched = ours.process(case.inputs)
    single = [ours.process(dict(case.inputs, documents=[d]))[0] for d in case.inputs["documents"]]
    np.testing.assert_allclose(batched, want, rtol=0, atol=TOL)
    np.testing.assert_allclose(single, want, rtol=0, atol=TOL)
    # our prompt text (before the processor expands visual tokens) is the reference's, byte for byte
    q = parse_side(case.inputs["query"])
    for doc, prompt in zip(case.inputs["documents"], ref.last_prompts, strict=True):
        assert ours.build_prompt(q, parse_side(doc), case.inputs.get("instruction")) == prompt


@pytest.mark.parametrize(
    "ctor_key", EMBED_GROUPS, ids=lambda k: ",".join(f"{a}={b}" for a, b in k) or "default"
)
def test_embedder_matches_official_recipe(
    ctor_key: tuple, tiny_model_dir: Path, parity_media: dict[str, str]
) -> None:
    ctor = dict(ctor_key)
    cases = [c for c in embed_cases(parity_media) if tuple(sorted(c.ctor.items())) == ctor_key]
    ref = OfficialEmbedder(tiny_model_dir, **ctor)
    ours = Qwen3VLEmbedder(model=str(tiny_model_dir), device="cpu", limits=VisionLimits(**ctor))
    for role in (Role.DOCUMENT, Role.QUERY):
        picked = [c for c in cases if c.query == (role is Role.QUERY)]
        if not picked:
            continue
        items = [
            EmbedInput(
                text=c.item.get("text", ""),
                images=tuple(c.item.get("image", ())),
                video_frames=tuple(c.item.get("video", ())),
            )
            for c in picked
        ]
        instruction = "Retrieve relevant passages." if role is Role.QUERY else "Represent the user's input."
        want = np.vstack([ref.embed(c.item, instruction) for c in picked])
        np.testing.assert_allclose(ours.embed(items, role=role), want, rtol=0, atol=TOL)
        single = np.vstack([ours.embed([it], role=role) for it in items])
        np.testing.assert_allclose(single, want, rtol=0, atol=TOL)


def test_videos_are_read_by_decord() -> None:
    from vlsearch.models.qwen3vl.vision import video_reader

    assert video_reader() == "decord"
