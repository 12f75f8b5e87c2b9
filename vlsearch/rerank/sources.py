"""Where the source video of a frame row can be read on this machine, for the rerank stage.

Uploaded videos are kept where vlsearch.media.stored says (written by the ingest pipeline);
videos ingested from disk are read at their source path only while it is still inside an allowed
root or the data dir and still has the size the catalog recorded (a replaced file's keyframe times
would no longer match). A source that is gone, moved, replaced or unreadable answers None, and the
stage falls back to the stored keyframes.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

from vlsearch.errors import VlsearchError
from vlsearch.source_ref import SourceRef
from vlsearch.types import Item

if TYPE_CHECKING:
    from vlsearch.catalog import Catalog
    from vlsearch.config import Settings

log = logging.getLogger(__name__)


class SourceVideos:
    """Item -> readable source video path (or None), checked once per file version and memoised."""

    def __init__(self, *, settings: Settings, catalog: Catalog, max_entries: int = 1024) -> None:
        self._data_dir = settings.data_dir.resolve()
        self._roots = (self._data_dir, *settings.resolved_allowed_roots)
        self._catalog = catalog
        self._max = max_entries
        self._memo: OrderedDict[tuple[str, str, int, int], bool] = OrderedDict()
        # doc id -> (sha256, stored name) of uploads, which never change in place
        self._uploads: OrderedDict[str, tuple[str, str]] = OrderedDict()
        self._lock = threading.Lock()

    def _path(self, item: Item) -> Path | None:
        ref = SourceRef.parse(item.source)
        if ref.keeps_original:
            kept = self._kept_upload(ref, item)
            if kept is None:  # a newer version replaced the remembered one (its copy is removed)
                with self._lock:
                    self._uploads.pop(item.doc_id, None)
                kept = self._kept_upload(ref, item)
            if kept is None:
                return None
            path = kept.resolve()
            return path if path.is_relative_to(self._data_dir) else None
        if ref.path_on_disk is None:
            return None
        path = Path(ref.path_on_disk).resolve()
        return path if any(path.is_relative_to(root) for root in self._roots) else None

    def _kept_upload(self, ref: SourceRef, item: Item) -> Path | None:
        sha256, name = self._upload(item)
        return ref.stored_copy(self._data_dir, doc_id=item.doc_id, sha256=sha256, name=name)

    def _upload(self, item: Item) -> tuple[str, str]:
        with self._lock:
            known = self._uploads.get(item.doc_id)
        if known is None:
            record = self._catalog.get_document(item.doc_id)
            if record is None:
                return "", ""
            known = (record.document.sha256, record.document.name)
            with self._lock:
                self._uploads[item.doc_id] = known
                while len(self._uploads) > self._max:
                    self._uploads.popitem(last=False)
        return known

    def _check(self, item: Item, path: Path, size: int) -> bool:
        from vlsearch.media import probe_video

        record = self._catalog.get_document(item.doc_id)
        if record is None or (record.document.size_bytes and record.document.size_bytes != size):
            log.info("source video %s changed since it was ingested; frame rows rerank on keyframes", path)
            return False
        try:
            probe_video(path, name=path.name)
        except VlsearchError as exc:
            log.warning("source video %s is not readable (%s); frame rows rerank on keyframes", path, exc)
            return False
        return True

    def __call__(self, item: Item) -> str | None:
        if item.doc_type != "video":
            return None
        path = self._path(item)
        if path is None:
            return None
        try:
            st = path.stat()
        except OSError:
            return None
        key = (item.doc_id, str(path), st.st_size, st.st_mtime_ns)
        with self._lock:
            known = self._memo.get(key)
            if known is not None:
                self._memo.move_to_end(key)
        if known is None:
            known = self._check(item, path, st.st_size)
            with self._lock:
                self._memo[key] = known
                while len(self._memo) > self._max:
                    self._memo.popitem(last=False)
        return str(path) if known else None
