"""What the catalog hands back: statuses as enums and immutable records (no SQL here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from vlsearch.types import Document


class DocStatus(StrEnum):
    PENDING = "pending"
    INDEXING = "indexing"
    READY = "ready"
    FAILED = "failed"


class JobStatus(StrEnum):
    """Where a job stands, and each of the task queue's tasks (vlsearch.queue): both go queued ->
    running -> done | failed."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class FileStatus(StrEnum):
    """What became of one file of a job."""

    INGESTED = "ingested"
    UNCHANGED = "unchanged"
    FAILED = "failed"


@dataclass(frozen=True)
class DocumentRecord:
    document: Document
    status: DocStatus
    error: str
    item_count: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class FileResult:
    name: str
    status: FileStatus  # a plain string of one of its values is accepted and converted
    doc_id: str | None
    error: str
    items: int

    def __post_init__(self) -> None:
        # always a FileStatus once built; an unknown value fails here, not later in the database
        try:
            status = FileStatus(self.status)
        except ValueError:
            raise ValueError(
                f"file status {self.status!r} is not one of {', '.join(s.value for s in FileStatus)}"
            ) from None
        object.__setattr__(self, "status", status)

    @property
    def failed(self) -> bool:
        return self.status is FileStatus.FAILED


@dataclass(frozen=True)
class JobRecord:
    id: str
    status: JobStatus
    total: int
    done: int
    results: tuple[FileResult, ...]
    groups: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    error: str
