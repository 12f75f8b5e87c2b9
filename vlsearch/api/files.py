"""Resolving stored files for download without ever leaving the data dir (or an allowed root)."""

from __future__ import annotations

from pathlib import Path

from vlsearch.api.errors import ApiError
from vlsearch.config import Settings
from vlsearch.media.stored import relative_stored_upload
from vlsearch.source_ref import SourceRef
from vlsearch.types import Document, Item


def inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def data_file(settings: Settings, relative: str) -> Path:
    """A file named by a path relative to the data dir; symlinks and '..' cannot escape it."""
    root = settings.data_dir.resolve()
    if not relative or Path(relative).is_absolute():
        raise _missing()
    candidate = (root / relative).resolve()
    if not inside(candidate, root) or not candidate.is_file():
        raise _missing()
    return candidate


def original_file(settings: Settings, doc: Document) -> Path:
    """The stored original of a document.

    Uploads live under <data_dir>/uploads/<doc_id>/<sha256[:24]>/<name> (vlsearch.media.stored).
    Files ingested from disk are served from their source path only while it is still inside an
    allowed root: the catalog, not the caller, names that path.
    """
    ref = SourceRef.parse(doc.source)
    if ref.keeps_original:
        relative = relative_stored_upload(settings.data_dir, doc)
        if relative is None:
            raise _missing()
        return data_file(settings, relative)
    if ref.path_on_disk is None:
        raise _missing()
    candidate = Path(ref.path_on_disk).resolve()
    allowed = (settings.data_dir.resolve(), *settings.resolved_allowed_roots)
    if not any(inside(candidate, root) for root in allowed) or not candidate.is_file():
        raise _missing()
    return candidate


def item_file(settings: Settings, item: Item, kind: str) -> Path:
    if kind == "thumbnail":
        return data_file(settings, item.thumbnail or item.media)
    if kind == "image":
        return data_file(settings, item.media)
    raise ApiError(
        "invalid_request", f"unknown media kind {kind!r}; use thumbnail, image or original", status=422
    )


def _missing() -> ApiError:
    return ApiError("not_found", "No stored file for this id and kind.", status=404)
