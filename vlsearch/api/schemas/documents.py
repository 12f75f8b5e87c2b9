from __future__ import annotations

from datetime import datetime

from pydantic import Field

from vlsearch.api.schemas.common import ResponseModel


class DocumentOut(ResponseModel):
    id: str
    name: str
    title: str
    source: str
    doc_type: str
    groups: list[str]
    size_bytes: int
    sha256: str
    status: str
    error: str
    item_count: int
    created_at: datetime
    updated_at: datetime
    original_url: str | None = Field(default=None, description="Download the stored original (uploads only)")


class OriginalLinkOut(ResponseModel):
    url: str = Field(description="Open in a new window; no API key needed until it expires")
    expires_in: int = Field(description="Seconds the link stays valid")


class DocumentPage(ResponseModel):
    documents: list[DocumentOut]
    total: int
    offset: int
    limit: int


class FileResultOut(ResponseModel):
    name: str
    status: str = Field(description="ingested | unchanged | failed")
    doc_id: str | None
    error: str
    items: int


class JobOut(ResponseModel):
    id: str
    status: str = Field(description="queued | running | done | failed")
    total: int
    done: int
    progress: float = Field(description="done / total, 0..1")
    results: list[FileResultOut]
    groups: list[str]
    error: str
    created_at: datetime
    updated_at: datetime


class JobAccepted(ResponseModel):
    job_id: str
    status: str
    total: int
    job_url: str


class DeletedOut(ResponseModel):
    id: str
    deleted: bool
