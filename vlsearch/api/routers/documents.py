"""Upload documents (ingest job), follow jobs, list / show / delete documents, download originals."""

from __future__ import annotations

import shutil
import uuid
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile, status
from fastapi.responses import FileResponse

from vlsearch.api.auth import Caller
from vlsearch.api.deps import CallerDep, StateDep
from vlsearch.api.errors import ApiError, forbidden, not_found
from vlsearch.api.files import original_file
from vlsearch.api.originals import original_response
from vlsearch.api.schemas.common import ERROR_RESPONSES
from vlsearch.api.schemas.documents import (
    DeletedOut,
    DocumentOut,
    DocumentPage,
    FileResultOut,
    JobAccepted,
    JobOut,
    OriginalLinkOut,
)
from vlsearch.api.state import ApiState
from vlsearch.api.uploads import copy_upload
from vlsearch.catalog import DocStatus, DocumentRecord, JobRecord
from vlsearch.source_ref import SourceRef

router = APIRouter(prefix="/v1", tags=["documents"], responses=ERROR_RESPONSES)

_DEFAULT_GROUPS = ("public",)  # what the CLI uses too when no groups are given


@router.post(
    "/documents",
    response_model=JobAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Upload one or more files; they are ingested by a background job",
)
def upload_documents(
    state: StateDep,
    caller: CallerDep,
    files: Annotated[
        list[UploadFile], File(description="PDF, DOCX, PPTX, XLSX, HTML, Markdown, text, images, videos")
    ],
    groups: Annotated[str, Form(description="Comma-separated access groups (default: yours)")] = "",
) -> JobAccepted:
    if not files:
        raise ApiError("invalid_request", "files: attach at least one file", status=422)
    if len(files) > state.limits.files_per_upload:
        raise ApiError(
            "invalid_request",
            f"files: {len(files)} files in one upload, over the limit of {state.limits.files_per_upload}; "
            "split the upload",
            status=422,
        )
    # An upload is the document `upload:<groups>/<name>` (vlsearch.media.stored): a same-named
    # file of other groups is another document, so nothing here can replace it or reveal it.
    doc_groups = _upload_groups(caller, groups)
    folder = state.scratch_dir / f"upload-{uuid.uuid4().hex}"
    folder.mkdir(parents=True)
    try:
        spooled = []
        for i, upload in enumerate(files):
            target = folder / f"{i:04d}"
            copy_upload(
                upload, target, max_bytes=state.limits.file_bytes, limit_name="file (VLSEARCH_MAX_FILE_MB)"
            )
            spooled.append((upload.filename or f"upload-{i}", target))
        job = state.jobs.submit(spooled, groups=doc_groups, folder=folder)
    except BaseException:
        # a refused file (413), a full disk, a client gone: nothing of this request stays behind
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return JobAccepted(job_id=job.id, status=job.status.value, total=job.total, job_url=f"/v1/jobs/{job.id}")


@router.get("/jobs/{job_id}", response_model=JobOut, summary="Progress and per-file results of an ingest job")
def get_job(job_id: str, state: StateDep, caller: CallerDep) -> JobOut:
    job = state.runtime.catalog.get_job(job_id)
    if job is None or not caller.can_see(job.groups):
        raise not_found("job", job_id)
    return job_out(job)


@router.get("/documents", response_model=DocumentPage, summary="List the documents visible to the caller")
def list_documents(
    state: StateDep,
    caller: CallerDep,
    # bounded: SQLite integers are 64-bit, a larger offset was an OverflowError (500)
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    doc_type: Annotated[str | None, Query(max_length=32)] = None,
    status_: Annotated[DocStatus | None, Query(alias="status")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Substring of the name or title")] = None,
) -> DocumentPage:
    records, total = state.runtime.catalog.list_documents(
        groups=caller.groups, doc_type=doc_type, status=status_, query=q or None, offset=offset, limit=limit
    )
    return DocumentPage(documents=[document_out(r) for r in records], total=total, offset=offset, limit=limit)


@router.get("/documents/{doc_id}", response_model=DocumentOut, summary="One document")
def get_document(doc_id: str, state: StateDep, caller: CallerDep) -> DocumentOut:
    return document_out(_visible(state, caller, doc_id))


@router.delete("/documents/{doc_id}", response_model=DeletedOut, summary="Delete a document and its rows")
def delete_document(doc_id: str, state: StateDep, caller: CallerDep) -> DeletedOut:
    _visible(state, caller, doc_id)
    deleted = state.runtime.pipeline.delete_document(doc_id)
    return DeletedOut(id=doc_id, deleted=deleted)


@router.get(
    "/documents/{doc_id}/original",
    response_class=FileResponse,
    summary="Download the stored original file (active types such as HTML only as attachments)",
)
def get_original(doc_id: str, state: StateDep, caller: CallerDep) -> FileResponse:
    return original_response(state.runtime.settings, _visible(state, caller, doc_id).document)


@router.post(
    "/documents/{doc_id}/original/link",
    response_model=OriginalLinkOut,
    summary="A short-lived link to the original that a browser can open without the API key",
)
def link_original(doc_id: str, state: StateDep, caller: CallerDep) -> OriginalLinkOut:
    record = _visible(state, caller, doc_id)
    original_file(state.runtime.settings, record.document)  # 404 now rather than from the link
    token = state.links.issue(record.document.id, caller.groups)
    return OriginalLinkOut(url=f"/v1/originals/{token}", expires_in=state.links.ttl_s)


@router.get(
    "/originals/{token}",
    response_class=FileResponse,
    summary="Open an original through a link from POST /v1/documents/{id}/original/link (no key needed)",
)
def open_original_link(token: str, state: StateDep) -> FileResponse:
    doc_id, groups = state.links.redeem(token)
    record = _visible(state, Caller(groups=groups), doc_id)
    return original_response(state.runtime.settings, record.document)


def _visible(state: ApiState, caller: Caller, doc_id: str) -> DocumentRecord:
    record = state.runtime.catalog.get_document(doc_id)
    if record is None or not caller.can_see(record.document.groups):
        raise not_found("document", doc_id)
    return record


def _upload_groups(caller: Caller, raw: str) -> tuple[str, ...]:
    asked = tuple(dict.fromkeys(g.strip() for g in raw.split(",") if g.strip()))
    for group in asked:
        if len(group) > 64 or not group.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise ApiError(
                "invalid_request",
                f"groups: {group!r} is not a valid group name (letters, digits, '-', '_', '.'; ≤ 64 chars)",
                status=422,
            )
    if caller.groups is None:
        return asked or _DEFAULT_GROUPS
    if not asked:
        if not caller.groups:
            raise forbidden("Your API key has no groups, so you cannot upload documents.")
        return caller.groups
    outside = [g for g in asked if g not in caller.groups]
    if outside:
        raise forbidden(
            f"groups: you may only share documents with your own groups ({', '.join(caller.groups)}); "
            f"not allowed: {', '.join(outside)}"
        )
    return asked


def document_out(record: DocumentRecord) -> DocumentOut:
    doc = record.document
    return DocumentOut(
        id=doc.id,
        name=doc.name,
        title=doc.title,
        source=doc.source,
        doc_type=doc.doc_type,
        groups=list(doc.groups),
        size_bytes=doc.size_bytes,
        sha256=doc.sha256,
        status=record.status.value,
        error=record.error,
        item_count=record.item_count,
        created_at=record.created_at,
        updated_at=record.updated_at,
        original_url=SourceRef.parse(doc.source).download_url(doc.id, sha256=doc.sha256),
    )


def job_out(job: JobRecord) -> JobOut:
    return JobOut(
        id=job.id,
        status=job.status.value,
        total=job.total,
        done=job.done,
        progress=(job.done / job.total) if job.total else 1.0,
        results=[
            FileResultOut(name=r.name, status=r.status, doc_id=r.doc_id, error=r.error, items=r.items)
            for r in job.results
        ],
        groups=list(job.groups),
        error=job.error,
        created_at=job.created_at,
        updated_at=job.updated_at,
    )
