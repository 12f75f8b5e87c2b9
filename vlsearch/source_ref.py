"""Where a document came from, as a typed value instead of a prefixed string.

The catalog and Milvus rows keep the string form (`Document.source`, `Item.source`), unchanged:

    /abs/path/file.pdf        FILE    a file ingested from disk (served only while inside an allowed root)
    upload:<g1,g2>/<name>     UPLOAD  uploaded bytes; the original is kept under <data_dir>/uploads
    record:<id>               RECORD  a text record (eval sets, API records): no file anywhere
    (empty)                   NONE    nothing to serve

`SourceRef.parse` reads that form and `str()` writes it back, so code asks `ref.kind` instead of
testing prefixes. An upload's identity includes its group set (see vlsearch.media.stored).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


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
