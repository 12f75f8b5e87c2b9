"""Where uploaded originals live, and what an upload's identity is.

An upload is identified by its file name *and* the set of groups it is shared with:
`upload:<g1,g2>/<name>`. Two groups that upload the same file name therefore get two documents,
and a write can only ever replace a document with exactly the writer's group set (the API lets a
caller share only with groups they are in). No request-time check, no race between the check and
the write, and no answer that would reveal that another group has a file of that name.

Each document keeps its original under `<data_dir>/uploads/<doc_id>/<sha256[:24]>/<name>`: one
folder per document (so deleting it removes exactly its files, and two documents with the same
bytes never share a file), one subfolder per version (so a failed update keeps the previous one).
Data dirs written before this layout kept `uploads/<sha256[:24]>/<name>`; those are still read.
vlsearch.source_ref names these paths and `SourceRef.stored_copy` finds a version; this module
keeps the folder tidy.
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

from vlsearch.source_ref import UPLOADS, SourceRef, legacy_upload_path, upload_folder
from vlsearch.types import Document

log = logging.getLogger(__name__)


def upload_source(name: str, groups: Sequence[str]) -> str:
    return str(SourceRef.upload(name, groups))


def stored_upload(data_dir: Path, doc: Document) -> Path | None:
    """The kept original of an uploaded document's current version, or None when it is gone."""
    ref = SourceRef.parse(doc.source)
    if not ref.keeps_original:
        return None
    return ref.stored_copy(data_dir, doc_id=doc.id, sha256=doc.sha256, name=doc.name)


def relative_stored_upload(data_dir: Path, doc: Document) -> str | None:
    path = stored_upload(data_dir, doc)
    return path.relative_to(data_dir).as_posix() if path is not None else None


def keep_only_version(data_dir: Path, doc_id: str, sha256: str | None) -> None:
    """Remove the document's other versions (all of them when `sha256` is None)."""
    folder = upload_folder(data_dir, doc_id)
    if not folder.is_dir():
        return
    keep = sha256[:24] if sha256 else None
    for version in folder.iterdir():
        if version.name != keep:
            _remove(version)
    if keep is None or not any(folder.iterdir()):
        _remove(folder)


def remove_document_files(data_dir: Path, doc: Document | None, doc_id: str) -> None:
    """Everything stored for an uploaded document: its folder, and a legacy-layout copy."""
    keep_only_version(data_dir, doc_id, None)
    if doc is not None and SourceRef.parse(doc.source).keeps_original and doc.sha256:
        legacy = legacy_upload_path(data_dir, doc.sha256, doc.name)
        # a legacy copy belonged to this document alone: legacy ids were derived from the name
        if legacy.is_file():
            legacy.unlink(missing_ok=True)
            if not any(legacy.parent.iterdir()):
                legacy.parent.rmdir()


_DOC_FOLDER = re.compile(r"d[0-9a-f]{20}")


def sweep_unreferenced(data_dir: Path, current_sha: Callable[[str], str | None]) -> int:
    """Remove document folders and versions that no catalog record points to: what a server killed
    between keeping an upload and recording it left. `current_sha(doc_id)` is the catalog's sha256
    of the document (None when there is no record, or it has no stored original). Only for a
    process that owns the data dir (the in-process API at start): separate ingest workers may be
    writing there. Legacy folders are left to `vlsearch doctor`. Returns the folders changed."""
    root = data_dir / UPLOADS
    if not root.is_dir():
        return 0
    changed = 0
    for folder in root.iterdir():
        if not folder.is_dir() or _DOC_FOLDER.fullmatch(folder.name) is None:
            continue
        sha = current_sha(folder.name)
        keep = sha[:24] if sha else None
        if any(version.name != keep for version in folder.iterdir()) or keep is None:
            keep_only_version(data_dir, folder.name, sha)
            changed += 1
    if changed:
        log.warning("removed the kept uploads of %d interrupted upload(s)", changed)
    return changed


def _remove(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except OSError as exc:  # a file that cannot go now is an orphan `vlsearch doctor` reports
        log.warning("could not remove %s: %s", path, exc)
