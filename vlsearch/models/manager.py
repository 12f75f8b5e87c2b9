"""Named models the service can list, load and unload at run time (the UI's "Load model" button)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping

from vlsearch.errors import NotFoundError
from vlsearch.models.base import Embedder, ModelInfo, Reranker

log = logging.getLogger(__name__)


class ModelRegistry:
    """Holds the embedder and (optionally) the reranker under stable names."""

    def __init__(self, *, embedder: Embedder, reranker: Reranker | None = None) -> None:
        self._models: dict[str, Embedder | Reranker] = {"embedder": embedder}
        if reranker is not None:
            self._models["reranker"] = reranker
        self._locks: Mapping[str, threading.Lock] = {name: threading.Lock() for name in self._models}

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._models)

    def list(self) -> list[ModelInfo]:
        return [model.info() for model in self._models.values()]

    def info(self, name: str) -> ModelInfo:
        return self._get(name).info()

    def load(self, name: str) -> ModelInfo:
        """Blocking load; concurrent callers for the same model wait for one load."""
        model = self._get(name)
        with self._locks[name]:
            model.load()
        info = model.info()
        log.info("model %s loaded: %s on %s (%s)", name, info.model_id, info.device, info.dtype)
        return info

    def unload(self, name: str) -> ModelInfo:
        model = self._get(name)
        with self._locks[name]:
            model.unload()
        return model.info()

    def _get(self, name: str) -> Embedder | Reranker:
        try:
            return self._models[name]
        except KeyError:
            known = ", ".join(self._models)
            raise NotFoundError(f"no model named {name!r}; known models: {known}") from None
