"""A sentence-transformers BERT folder (all-MiniLM-L6-v2 and its kind) on ONNX Runtime, no torch.

What sentence-transformers does for [Transformer, mean Pooling, (Normalize)] over a plain BERT, read
from the folder's own files: the tokenizer from `tokenizer.json` through the `tokenizers` library
(truncated at the folder's max_seq_length, lower-cased first when its config says so), the float
weights from `model.safetensors` (read as numpy arrays; the word table memory-mapped), mean pooling
over real tokens, L2 normalisation. Weights are used as stored (no quantisation), so vectors match
torch's to float rounding (tests compare against sentence-transformers itself). A folder this module does not
reproduce exactly is named by `unsupported_reason`, and the caller loads it through torch.
"""

from __future__ import annotations

import json
import mmap
import struct
import threading
from collections.abc import Sequence
from pathlib import Path
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

_TRANSFORMER = "sentence_transformers.models.Transformer"
_POOLING = "sentence_transformers.models.Pooling"
_NORMALIZE = "sentence_transformers.models.Normalize"
_WEIGHTS = "model.safetensors"


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def unsupported_reason(folder: Path) -> str | None:
    """None when `folder` is a sentence-transformers model this engine reproduces; else why not.
    Reads only the folder's small JSON files (cheap enough to decide at start-up)."""
    try:
        if not folder.is_dir():
            return "not a local folder"
        for name in ("modules.json", "config.json", "tokenizer.json", _WEIGHTS):
            if not (folder / name).is_file():
                return f"no {name}"
        modules = _json(folder / "modules.json")
        kinds = [str(m.get("type", "")) for m in modules]
        if kinds not in ([_TRANSFORMER, _POOLING], [_TRANSFORMER, _POOLING, _NORMALIZE]):
            return f"modules {kinds} are not [Transformer, Pooling, (Normalize)]"
        if str(modules[0].get("path", "")) != "":
            return "the transformer does not sit at the folder's root"
        pooling = _json(folder / str(modules[1].get("path", "1_Pooling")) / "config.json")
        modes = {k for k, v in pooling.items() if k.startswith("pooling_mode") and v}
        if modes != {"pooling_mode_mean_tokens"}:
            return f"pooling {sorted(modes)} is not mean pooling"
        config = _json(folder / "config.json")
        if (
            config.get("model_type") != "bert"
            or config.get("position_embedding_type", "absolute") != "absolute"
            or config.get("hidden_act") != "gelu"
            or config.get("is_decoder", False)
        ):
            return "not a plain BERT encoder (absolute positions, exact GELU)"
        st_config = folder / "config_sentence_transformers.json"
        if st_config.is_file():
            data = _json(st_config)
            if any(data.get("prompts", {}).values()) or data.get("default_prompt_name"):
                return "the model adds prompts"
    except (OSError, ValueError, TypeError, AttributeError, IndexError) as exc:
        return f"unreadable configuration ({exc})"
    return None


class SafetensorsFile:
    """Float32 tensors of a .safetensors file (8-byte little-endian header length, a JSON header of
    name -> dtype, shape, data_offsets, then the data), names with or without a `bert.` prefix.
    `get` reads a tensor into a new array; `mapped` maps one read-only from the file, so only the
    pages used are resident (the word embedding table: a query touches a few dozen of its rows)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with open(path, "rb") as fh:
            (length,) = struct.unpack("<Q", fh.read(8))
            if length > 100 << 20:
                raise ValueError(f"{path.name}: implausible safetensors header ({length} bytes)")
            header = json.loads(fh.read(length))
        self._start = 8 + length
        self._map: mmap.mmap | None = None
        self._entries = {k: v for k, v in header.items() if k != "__metadata__"}
        self._prefix = "" if "embeddings.word_embeddings.weight" in self._entries else "bert."

    def _entry(self, name: str) -> tuple[int, tuple[int, ...]]:
        entry = self._entries.get(self._prefix + name)
        if entry is None:
            raise ValueError(f"{self.path.name} has no tensor {name!r}")
        if entry["dtype"] != "F32":
            raise ValueError(f"{self.path.name}: {name} is {entry['dtype']}, not F32")
        begin, end = (int(v) for v in entry["data_offsets"])
        shape = tuple(int(d) for d in entry["shape"])
        if end - begin != 4 * int(np.prod(shape, dtype=np.int64)):
            raise ValueError(f"{self.path.name}: {name} has the wrong size")
        return self._start + begin, shape

    def get(self, name: str) -> np.ndarray:
        offset, shape = self._entry(name)
        out = np.empty(shape, dtype="<f4")
        with open(self.path, "rb") as fh:
            fh.seek(offset)
            if fh.readinto(out.reshape(-1).view(np.uint8).data) != out.nbytes:
                raise ValueError(f"{self.path.name} is truncated")
        return out.astype(np.float32, copy=False)

    def mapped(self, name: str) -> np.ndarray:
        """A read-only view of the tensor in a mapping of the file (see `release_pages`)."""
        offset, shape = self._entry(name)
        if self._map is None:
            with open(self.path, "rb") as fh:
                self._map = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        count = int(np.prod(shape, dtype=np.int64))
        return np.frombuffer(self._map, dtype="<f4", count=count, offset=offset).reshape(shape)

    def release_pages(self) -> None:
        """Unmap the pages read so far from this process (a page used again comes back from the
        page cache): after a passage call much of the word table would otherwise stay resident."""
        advice = getattr(mmap, "MADV_DONTNEED", None)
        if self._map is not None and advice is not None:
            self._map.madvise(advice)


class _Weights:
    """Linear and norm weights of a BERT checkpoint, read on demand."""

    def __init__(self, file: SafetensorsFile) -> None:
        self._file = file

    def get(self, name: str) -> np.ndarray:
        return self._file.get(name)

    def linear(self, name: str) -> Linear:
        return Linear(self.get(f"{name}.weight"), self.get(f"{name}.bias"))

    def norm(self, name: str) -> Norm:
        return Norm(self.get(f"{name}.weight"), self.get(f"{name}.bias"))


def bert_encoder_weights(weights: _Weights, config: dict[str, Any]) -> EncoderWeights:
    layers = []
    for i in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{i}"
        layers.append(
            EncoderLayer(
                qkv=stack_linears(
                    [weights.linear(f"{p}.attention.self.{x}") for x in ("query", "key", "value")]
                ),
                attn_out=weights.linear(f"{p}.attention.output.dense"),
                attn_norm=weights.norm(f"{p}.attention.output.LayerNorm"),
                ffn_in=weights.linear(f"{p}.intermediate.dense"),
                ffn_out=weights.linear(f"{p}.output.dense"),
                ffn_norm=weights.norm(f"{p}.output.LayerNorm"),
            )
        )
    return EncoderWeights(
        hidden=int(config["hidden_size"]),
        heads=int(config["num_attention_heads"]),
        eps=float(config.get("layer_norm_eps", 1e-12)),
        embed_norm=weights.norm("embeddings.LayerNorm"),
        layers=tuple(layers),
    )


class BertEncoder:
    """Unit vectors of texts, sentence-transformers style, from a folder `unsupported_reason`
    accepts. Thread-safe: the tokenizer is used under a lock (a Rust call of microseconds)."""

    def __init__(self, folder: str | Path, *, name: str) -> None:
        from tokenizers import Tokenizer

        folder = Path(folder)
        reason = unsupported_reason(folder)
        if reason is not None:
            raise ValueError(f"{folder}: {reason}")
        config = _json(folder / "config.json")
        st = folder / "sentence_bert_config.json"
        st_config = _json(st) if st.is_file() else {}
        self._lower = bool(st_config.get("do_lower_case", False))
        max_positions = int(config.get("max_position_embeddings", 512))
        self.max_seq_length = min(int(st_config.get("max_seq_length") or max_positions), max_positions)
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # tokenizer.json carries the padding and truncation it was saved with (MiniLM: pad to 128)
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=self.max_seq_length)
        self._tokenizer = tokenizer
        self._tokenizer_lock = threading.Lock()
        file = SafetensorsFile(folder / _WEIGHTS)
        self._words = file.mapped("embeddings.word_embeddings.weight")
        self._positions = file.get("embeddings.position_embeddings.weight")[: self.max_seq_length].copy()
        self._type0 = file.get("embeddings.token_type_embeddings.weight")[0].copy()
        self.dim = int(config["hidden_size"])
        self._encoder = OnnxEncoder(
            lambda: bert_encoder_weights(_Weights(file), config),
            hidden=self.dim,
            name=name,
            embed=self._embed,
            release_pages=file.release_pages,
        )

    def _embed(self, ids: Sequence[int]) -> np.ndarray:
        n = len(ids)
        return self._words[np.asarray(ids, dtype=np.int64)] + self._positions[:n] + self._type0

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        prepared = [t.lower() for t in texts] if self._lower else list(texts)
        with self._tokenizer_lock:
            if len(prepared) == 1:
                return [list(self._tokenizer.encode(prepared[0]).ids)]
            return [list(e.ids) for e in self._tokenizer.encode_batch(prepared)]

    def warm_up(self) -> None:
        self._encoder.warm_up()

    def close(self) -> None:
        self._encoder.close()

    def embed(self, texts: Sequence[str], *, threads: int) -> np.ndarray:
        """Unit vectors; up to `threads` batches at a time."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        pooled = self._encoder.mean_pooled(self.token_ids(texts), threads=threads)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
