"""What a killed process leaves half-done, and how the next start settles it.

A SIGKILL can stop an ingest between any two writes. The pipeline marks a document INDEXING before
its rows change and READY after, so a document still INDEXING at start-up was interrupted: it is
indexed again from its stored copy (the kept upload or its source file) or, when no copy is left,
its rows and media are removed and it is marked failed with the reason. Jobs still queued or
running belong to the dead process (one server per catalog); their spooled uploads are gone, so
they are marked failed with what was finished and what to do.

Only a process that is the store's sole writer can call everything unfinished "interrupted": with
Milvus Lite (one process per data dir) that is certain. With a Milvus server other API replicas or
`vlsearch worker` processes may be mid-ingest, so only work untouched for `STALE_AFTER` is settled
at start-up; `vlsearch doctor --repair` settles the rest. Jobs of the task queue (vlsearch.queue)
are never touched here: their leases already hand an abandoned file to another worker.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from vlsearch.catalog import (
    Catalog,
    DocStatus,
    DocumentRecord,
    FileResult,
    FileStatus,
    JobRecord,
    JobStatus,
)
from vlsearch.errors import InputRejectedError
from vlsearch.ingest.pipeline import IngestPipeline, printable
from vlsearch.milvus import Store

log = logging.getLogger(__name__)

_PAGE = 500
STALE_AFTER = timedelta(hours=1)


def interrupted_job_reason(done: int, total: int) -> str:
    return (
        f"the server stopped while this job ran ({done} of {total} files finished); "
        "upload the files that have no result again"
    )


def unfinished_jobs(catalog: Catalog, *, older_than: datetime | None = None) -> list[JobRecord]:
    """Queued or running jobs (last updated before `older_than` when given), without the task
    queue's jobs, whose leases settle them."""
    from vlsearch.queue import TaskQueue

    queue = TaskQueue(catalog=catalog)
    out = []
    for job_id in catalog.job_ids(statuses=(JobStatus.QUEUED, JobStatus.RUNNING)):
        job = catalog.get_job(job_id)
        if job is None or queue.tasks(job_id):  # deleted meanwhile, or the queue's own
            continue
        if older_than is None or job.updated_at < older_than:
            out.append(job)
    return out


def fail_interrupted_jobs(catalog: Catalog, *, older_than: datetime | None = None) -> list[str]:
    """Mark `unfinished_jobs` failed with the reason. Returns their ids."""
    failed = []
    for job in unfinished_jobs(catalog, older_than=older_than):
        catalog.finish_job(job.id, status=JobStatus.FAILED, error=interrupted_job_reason(job.done, job.total))
        failed.append(job.id)
    if failed:
        log.warning("marked %d interrupted ingest job(s) failed: %s", len(failed), ", ".join(failed))
    return failed


def documents_with_status(catalog: Catalog, status: DocStatus) -> Iterator[DocumentRecord]:
    offset = 0
    while True:
        page, total = catalog.list_documents(groups=None, status=status, offset=offset, limit=_PAGE)
        yield from page
        offset += len(page)
        if not page or offset >= total:
            return


def interrupted_documents(catalog: Catalog, *, older_than: datetime | None = None) -> list[DocumentRecord]:
    return [
        r
        for r in documents_with_status(catalog, DocStatus.INDEXING)
        if older_than is None or r.updated_at < older_than
    ]


@dataclass(frozen=True)
class StartupRecovery:
    failed_jobs: tuple[str, ...]
    documents: tuple[DocumentRecord, ...]  # to index again (recover_document), in this order


def settle_at_start(*, catalog: Catalog, store: Store) -> StartupRecovery:
    """Fail the jobs a dead process left unfinished and list the documents it left INDEXING."""
    older_than = None if store.is_lite else datetime.now(UTC) - STALE_AFTER
    failed = fail_interrupted_jobs(catalog, older_than=older_than)
    docs = interrupted_documents(catalog, older_than=older_than)
    if docs:
        log.warning("%d document(s) were left half-indexed; indexing them again", len(docs))
    return StartupRecovery(failed_jobs=tuple(failed), documents=tuple(docs))


def discard_document_rows(
    *, store: Store, catalog: Catalog, media_dir: Path, doc_id: str, reason: str
) -> int:
    """Remove a document's rows and media, keep its catalog record as FAILED with `reason`."""
    removed = store.delete_document(doc_id)
    shutil.rmtree(media_dir / doc_id, ignore_errors=True)
    catalog.set_status(doc_id, DocStatus.FAILED, error=printable(reason), item_count=0)
    return removed


def recover_document(
    record: DocumentRecord, *, pipeline: IngestPipeline, store: Store, catalog: Catalog, media_dir: Path
) -> FileResult:
    """Index the document again from its stored copy; without one, remove what is half-written."""
    doc = record.document
    try:
        result = pipeline.reingest(doc)
    except InputRejectedError as exc:
        reason = f"indexing was interrupted and cannot be redone: {exc}"
        discard_document_rows(store=store, catalog=catalog, media_dir=media_dir, doc_id=doc.id, reason=reason)
        return FileResult(
            name=doc.name, status=FileStatus.FAILED, doc_id=doc.id, error=printable(reason), items=0
        )
    if result.status is FileStatus.FAILED:
        # the pipeline kept the FAILED record and its reason; rows of the interrupted attempt must go
        after = catalog.get_document(doc.id)
        if after is None or after.status != DocStatus.READY:
            store.delete_document(doc.id)
            shutil.rmtree(media_dir / doc.id, ignore_errors=True)
    return result
