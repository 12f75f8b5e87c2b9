"""Where a document came from, as a typed value instead of a prefixed string.

The catalog and Milvus rows keep the string form (`Document.source`, `Item.source`), unchanged:

    /abs/path/file.pdf        FILE    a file ingested from disk (served only while inside an allowed root)
    upload:<g1,g2>/<name>     UPLOAD  uploaded bytes; the original is kept under <data_dir>/uploads
    record:<id>               RECORD  a text record (eval sets, API records): no file anywhere
    (empty)                   NONE    nothing to serve

`SourceRef.parse` reads that form and `str()` writes it back, so code asks `ref.kind` instead of
testing prefixes. An upload's identity includes its group set (see vlsearch.media.stored).

A ref also says where the document's bytes can be read again (`stored_copy`: the kept upload under
`<data_dir>/uploads/<doc_id>/<sha256[:24]>/<name>`, or the source file) and at which API URL its
original is served (`original_url` for a search hit, `download_url` for a document). The URLs are
the routes of vlsearch.api.routers.media and .documents; access checks stay with those routes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

UPLOADS = "uploads"  # the data dir's folder of kept uploads (vlsearch.media.stored keeps it tidy)
MEDIA_URL = "/v1/media"  # GET /v1/media/{item_id}?kind=thumbnail|image|original
DOCUMENTS_URL = "/v1/documents"  # GET /v1/documents/{doc_id}/original


def media_url(item_id: str, kind: str) -> str:
    """The URL GET /v1/media serves one row's thumbnail, image or original at."""
    return f"{MEDIA_URL}/{item_id}?kind={kind}"


def upload_folder(data_dir: Path, doc_id: str) -> Path:
    """Every kept version of one uploaded document, one subfolder each."""
    return data_dir / UPLOADS / doc_id


def upload_version_path(data_dir: Path, doc_id: str, sha256: str, name: str) -> Path:
    return upload_folder(data_dir, doc_id) / sha256[:24] / name


def legacy_upload_path(data_dir: Path, sha256: str, name: str) -> Path:
    """Where data dirs written before the per-document layout kept an upload (still read)."""
    return data_dir / UPLOADS / sha256[:24] / name


class SourceKind(StrEnum):
    FILE = "file"
    UPLOAD = "upload"
    RECORD = "record"
    NONE = "none"


_PREFIXED = (SourceKind.UPLOAD, SourceKind.RECORD)


@dataclass(frozen=True)
class SourceRef:
    kind: SourceKind
    value: str  # the path, "<g1,g2>/<name>" of an upload, or the record id

    @classmethod
    def parse(cls, source: str) -> SourceRef:
        if not source:
            return cls(SourceKind.NONE, "")
        for kind in _PREFIXED:
            prefix = f"{kind.value}:"
            if source.startswith(prefix):
                return cls(kind, source.removeprefix(prefix))
        return cls(SourceKind.FILE, source)

    @classmethod
    def upload(cls, name: str, groups: Sequence[str]) -> SourceRef:
        """An upload named `name` shared with exactly `groups` (order and repeats do not matter)."""
        return cls(SourceKind.UPLOAD, f"{','.join(sorted(set(groups)))}/{name}")

    @classmethod
    def record(cls, record_id: str) -> SourceRef:
        return cls(SourceKind.RECORD, record_id)

    def __str__(self) -> str:
        if self.kind in _PREFIXED:
            return f"{self.kind.value}:{self.value}"
        return self.value

    @property
    def keeps_original(self) -> bool:
        """True for uploads: the server keeps the original bytes (and may serve them)."""
        return self.kind is SourceKind.UPLOAD

    @property
    def path_on_disk(self) -> str | None:
        """The source file's path for files ingested from disk, None otherwise."""
        return self.value if self.kind is SourceKind.FILE else None

    @property
    def serves_original(self) -> bool:
        """True when GET /v1/media may serve an original for this source's rows: an upload's kept
        copy, or a file recorded at an absolute path (served only while inside an allowed root)."""
        return self.keeps_original or (self.kind is SourceKind.FILE and self.value.startswith("/"))

    def stored_copy(self, data_dir: Path, *, doc_id: str, sha256: str, name: str) -> Path | None:
        """Where the bytes of the document's recorded version (`sha256`) can be read again: an
        upload's kept copy (either layout), or a file's source path; None for records, for a
        document with no recorded version, or when the file is gone. Whether it may be read there
        (allowed roots, symlinks) is the reader's check."""
        if not sha256:
            return None
        places: tuple[Path, ...]
        if self.kind is SourceKind.UPLOAD:
            if not name:
                return None
            places = (
                upload_version_path(data_dir, doc_id, sha256, name),
                legacy_upload_path(data_dir, sha256, name),
            )
        elif self.kind is SourceKind.FILE:
            places = (Path(self.value),)
        else:
            return None
        return next((p for p in places if p.is_file()), None)

    def original_url(self, item_id: str, *, page: int | None = None) -> str | None:
        """Where GET /v1/media serves the original behind one of this source's rows (opened at
        `page`: a PDF's page fragment), or None when it serves none."""
        if not self.serves_original:
            return None
        url = media_url(item_id, "original")
        return f"{url}#page={page}" if page else url

    def download_url(self, doc_id: str, *, sha256: str) -> str | None:
        """Where GET /v1/documents/{id}/original serves the document, as the documents list offers
        it: for uploads with a recorded version only."""
        if not (self.keeps_original and sha256):
            return None
        return f"{DOCUMENTS_URL}/{doc_id}/original"
