"""Unloading a shared model without breaking the work that is using it.

The embedder and the reranker are shared by every request and ingest of the process. Unloading
one while a search embedded its query or an ingest embedded a batch pulled the weights from under
the call (`AttributeError: 'NoneType' ...`, a 500). A `ModelGate` counts the calls in flight: an
unload first closes the gate (new calls get `ModelUnavailableError`, a 503 that says to retry),
waits until the calls in flight have returned, unloads, and opens the gate again (the next call
loads the model again as before). A caller may hold the gate across several calls (`lease`): an
ingest does, so an unload waits for the document instead of failing its next batch, and an ingest
that starts during an unload waits for it instead of failing its file.

`GuardedEmbedder` / `GuardedReranker` put the gate in front of a model; the Runtime hands these to
every stage, so no caller can reach the model around it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import numpy as np

from vlsearch.errors import ModelUnavailableError, VlsearchError
from vlsearch.models.base import Embedder, ModelInfo, Reranker, RerankInput
from vlsearch.types import EmbedInput, Role

DRAIN_TIMEOUT_S = 120.0


class ModelBusyError(VlsearchError):
    code = "model_busy"
    http_status = 409


class ModelGate:
    def __init__(self, name: str) -> None:
        self.name = name
        self._cond = threading.Condition()
        self._active = 0
        self._closing = False
        self._unloading = threading.Lock()  # one unload at a time
        self._depth = threading.local()  # leases this thread holds (nested calls pass through)

    @property
    def in_flight(self) -> int:
        with self._cond:
            return self._active

    @contextmanager
    def lease(self, *, wait: bool = False) -> Iterator[None]:
        """Hold the model for a span of calls. During an unload: refused (`ModelUnavailableError`,
        a 503 for a request), or with `wait` (background work that must not lose a file) held
        back until the unload is done."""
        depth = getattr(self._depth, "n", 0)
        if depth == 0:
            with self._cond:
                if self._closing and wait:
                    self._cond.wait_for(lambda: not self._closing, timeout=DRAIN_TIMEOUT_S)
                if self._closing:
                    raise ModelUnavailableError(
                        f"the {self.name} is being unloaded by an administrator; retry in a moment "
                        "(it loads again on the next request once the unload is done)"
                    )
                self._active += 1
        self._depth.n = depth + 1
        try:
            yield
        finally:
            self._depth.n = depth
            if depth == 0:
                with self._cond:
                    self._active -= 1
                    self._cond.notify_all()

    def drain_then(self, action: Callable[[], None], *, timeout_s: float = DRAIN_TIMEOUT_S) -> None:
        """Close the gate, wait for the calls in flight, run `action`, open the gate again."""
        if getattr(self._depth, "n", 0):
            raise ModelBusyError(f"cannot unload the {self.name} from work that is using it")
        with self._unloading:
            with self._cond:
                self._closing = True
                drained = self._cond.wait_for(lambda: self._active == 0, timeout=timeout_s)
                busy = self._active
            try:
                if not drained:
                    raise ModelBusyError(
                        f"the {self.name} is still used by {busy} request(s) or ingest(s) after "
                        f"{timeout_s:g} s; it stays loaded: retry the unload later"
                    )
                action()
            finally:
                with self._cond:
                    self._closing = False
                    self._cond.notify_all()


def lease_of(model: object, *, wait: bool = False) -> AbstractContextManager[None]:
    """Hold `model`'s gate for a span of calls (a whole document's batches), or nothing."""
    gate = getattr(model, "gate", None)
    return gate.lease(wait=wait) if isinstance(gate, ModelGate) else nullcontext()


class _Guarded:
    """Forwards everything to the model; the calls that use its weights go through the gate."""

    def __init__(self, model: Any, gate: ModelGate) -> None:
        self._model = model
        self.gate = gate

    @property
    def wrapped(self) -> Any:
        return self._model

    @property
    def model_id(self) -> str:
        return str(self._model.model_id)

    def info(self) -> ModelInfo:
        info: ModelInfo = self._model.info()
        return info

    def load(self) -> None:
        with self.gate.lease():
            self._model.load()

    def unload(self) -> None:
        self.gate.drain_then(self._model.unload)

    def __getattr__(self, name: str) -> Any:
        # anything else (a backend's own attributes, e.g. a remote reranker's kind) as the model has it
        return getattr(self._model, name)


class GuardedEmbedder(_Guarded):
    def __init__(self, model: Embedder, gate: ModelGate | None = None) -> None:
        super().__init__(model, gate or ModelGate("embedder"))

    @property
    def dim(self) -> int:
        return int(self._model.dim)

    @property
    def multimodal(self) -> bool:
        return bool(self._model.multimodal)

    def embed(self, inputs: Sequence[EmbedInput], *, role: Role) -> np.ndarray:
        with self.gate.lease():
            out: np.ndarray = self._model.embed(inputs, role=role)
            return out


class GuardedReranker(_Guarded):
    def __init__(self, model: Reranker, gate: ModelGate | None = None) -> None:
        super().__init__(model, gate or ModelGate("reranker"))

    def score(
        self,
        query: RerankInput,
        documents: Sequence[RerankInput],
        *,
        instruction: str | None = None,
        **options: Any,
    ) -> list[float]:
        with self.gate.lease():
            scores: list[float] = self._model.score(query, documents, instruction=instruction, **options)
            return scores


def unwrap(model: Any) -> Any:
    """The model behind a guard (for checks of its concrete type)."""
    return model.wrapped if isinstance(model, _Guarded) else model
