"""A bounded LRU of rerank scores keyed by (model id, instruction, query hash, document hash).

Hashes are over content (text, image bytes, video bytes, sampling options), so the same file under a
new path hits and a changed file under the same path misses.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
from collections import OrderedDict
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from vlsearch.models.qwen3vl.inputs import SideContent, VideoClip

CacheKey = tuple[str, str, str, str]


class _FileDigests:
    """sha256 of files, memoised by (path, size, mtime) so unchanged files are read once."""

    def __init__(self, max_entries: int = 4096) -> None:
        self._memo: OrderedDict[tuple[str, int, int], str] = OrderedDict()
        self._max = max_entries
        self._lock = threading.Lock()

    def digest(self, path: str) -> str:
        st = os.stat(path)
        key = (os.path.abspath(path), st.st_size, st.st_mtime_ns)
        with self._lock:
            if key in self._memo:
                self._memo.move_to_end(key)
                return self._memo[key]
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        value = h.hexdigest()
        with self._lock:
            self._memo[key] = value
            while len(self._memo) > self._max:
                self._memo.popitem(last=False)
        return value


def _ref_digest(ref: Any, files: _FileDigests) -> str:
    if isinstance(ref, Image.Image):
        buf = io.BytesIO()
        ref.save(buf, format="PNG")
        return "pil:" + hashlib.sha256(buf.getvalue()).hexdigest()
    if isinstance(ref, np.ndarray):
        return f"arr:{ref.shape}:" + hashlib.sha256(np.ascontiguousarray(ref).tobytes()).hexdigest()
    if isinstance(ref, VideoClip):
        return f"clip:{ref.start:.3f}:{ref.end:.3f}:" + _ref_digest(ref.path, files)
    if isinstance(ref, (list, tuple)):
        return "frames:" + hashlib.sha256("|".join(_ref_digest(r, files) for r in ref).encode()).hexdigest()
    text = str(ref)
    local = text.removeprefix("file://")
    if not text.startswith(("http://", "https://", "data:")) and Path(local).is_file():
        return "file:" + files.digest(local)
    # URLs and data URIs: the reference itself is the best content identity available.
    return "ref:" + hashlib.sha256(text.encode()).hexdigest()


class ScoreCache:
    """Thread-safe bounded LRU mapping CacheKey -> score."""

    def __init__(self, *, max_entries: int = 50_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be >= 1")
        self.max_entries = max_entries
        self._data: OrderedDict[Hashable, float] = OrderedDict()
        self._lock = threading.Lock()
        self._files = _FileDigests()
        self.hits = 0
        self.misses = 0

    def content_hash(
        self, side: SideContent, *, fps: float | None = None, max_frames: int | None = None
    ) -> str:
        h = hashlib.sha256()
        for text in side.texts:
            h.update(b"t" + hashlib.sha256(text.encode()).digest())
        for image in side.images:
            h.update(b"i" + _ref_digest(image, self._files).encode())
        for video in side.videos:
            h.update(b"v" + _ref_digest(video, self._files).encode())
        if side.videos:
            h.update(f"fps={fps};max_frames={max_frames}".encode())
        return h.hexdigest()

    def key(self, model_id: str, instruction: str, query_hash: str, document_hash: str) -> CacheKey:
        return (model_id, instruction, query_hash, document_hash)

    def get(self, key: CacheKey) -> float | None:
        with self._lock:
            value = self._data.get(key)
            if value is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: CacheKey, score: float) -> None:
        with self._lock:
            self._data[key] = float(score)
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)
