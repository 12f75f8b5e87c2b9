"""Query vectors of a sentence-transformers BERT (MiniLM) through ONNX Runtime, same float weights.

A plain BERT with mean pooling is the whole of all-MiniLM-L6-v2; for a single short query its
torch forward is mostly dispatch overhead. The weights are the loaded model's own float32 tensors
(no quantisation), so vectors match torch's to float rounding.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vlsearch.models.onnx_encoder import (
    EncoderLayer,
    EncoderWeights,
    Linear,
    Norm,
    OnnxEncoder,
    stack_linears,
)


def _np(tensor: Any) -> np.ndarray:
    """A view of a CPU float32 tensor (no copy: the weights already take memory once)."""
    return np.asarray(tensor.detach().to("cpu").float().numpy(), dtype=np.float32)


def _linear(module: Any) -> Linear:
    return Linear(_np(module.weight), _np(module.bias))


def _norm(module: Any) -> Norm:
    return Norm(_np(module.weight), _np(module.bias))


def is_plain_bert(model: Any) -> bool:
    """A transformers BertModel this graph reproduces: absolute positions, exact GELU, post-LN."""
    config = getattr(model, "config", None)
    return (
        config is not None
        and getattr(config, "model_type", "") == "bert"
        and getattr(config, "position_embedding_type", "absolute") == "absolute"
        and getattr(config, "hidden_act", "") == "gelu"
        and getattr(config, "is_decoder", False) is False
        and hasattr(model, "embeddings")
        and hasattr(model, "encoder")
    )


def bert_encoder_weights(model: Any) -> EncoderWeights:
    config = model.config
    layers = []
    for layer in model.encoder.layer:
        attn = layer.attention
        layers.append(
            EncoderLayer(
                qkv=stack_linears(
                    [_linear(attn.self.query), _linear(attn.self.key), _linear(attn.self.value)]
                ),
                attn_out=_linear(attn.output.dense),
                attn_norm=_norm(attn.output.LayerNorm),
                ffn_in=_linear(layer.intermediate.dense),
                ffn_out=_linear(layer.output.dense),
                ffn_norm=_norm(layer.output.LayerNorm),
            )
        )
    return EncoderWeights(
        hidden=int(config.hidden_size),
        heads=int(config.num_attention_heads),
        eps=float(config.layer_norm_eps),
        embed_norm=_norm(model.embeddings.LayerNorm),
        layers=tuple(layers),
    )


class BertQueryEncoder:
    """Mean-pooled, L2-normalised vectors of one text at a time (no padding: every token counts)."""

    def __init__(self, model: Any, *, name: str) -> None:
        if not is_plain_bert(model):
            raise ValueError("not a plain BERT model")
        emb = model.embeddings
        self._words = _np(emb.word_embeddings.weight)
        self._positions = _np(emb.position_embeddings.weight)
        self._type0 = _np(emb.token_type_embeddings.weight)[0]
        self._encoder = OnnxEncoder(bert_encoder_weights(model), name=name)

    @property
    def max_positions(self) -> int:
        return int(self._positions.shape[0])

    def warm_up(self, threads: int) -> None:
        self._encoder.warm_up(threads)

    def embed_ids(self, ids: list[int], *, threads: int) -> np.ndarray:
        if not ids or len(ids) > self.max_positions:
            raise ValueError(f"expected 1..{self.max_positions} token ids, got {len(ids)}")
        n = len(ids)
        x = self._words[np.asarray(ids, dtype=np.int64)] + self._positions[:n] + self._type0
        pooled = self._encoder.pooled(x, threads=threads)
        return pooled / max(float(np.linalg.norm(pooled)), 1e-12)
