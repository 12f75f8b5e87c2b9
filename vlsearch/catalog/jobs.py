"""Ingest job queries: a job, one result per file, and the transitions queued → running → done/failed.

The `conn` methods run inside a caller's transaction so the task queue can complete a task and
record its file's result atomically."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from vlsearch.catalog.connection import CatalogConnection, now, utc
from vlsearch.catalog.records import FileResult, FileStatus, JobRecord, JobStatus
from vlsearch.catalog.tables import job_results as _results
from vlsearch.catalog.tables import jobs as _jobs
from vlsearch.errors import NotFoundError

_SETTLED = (JobStatus.DONE.value, JobStatus.FAILED.value)


class JobQueries(CatalogConnection):
    def create_job(self, *, total: int, groups: tuple[str, ...]) -> JobRecord:
        at = now()
        job_id = uuid.uuid4().hex
        with self._e().begin() as conn:
            conn.execute(
                insert(_jobs).values(
                    id=job_id,
                    status=JobStatus.QUEUED.value,
                    total=total,
                    done=0,
                    groups=json.dumps(list(groups)),
                    error="",
                    created_at=at,
                    updated_at=at,
                )
            )
        return JobRecord(
            id=job_id,
            status=JobStatus.QUEUED,
            total=total,
            done=0,
            results=(),
            groups=tuple(groups),
            created_at=at,
            updated_at=at,
            error="",
        )

    def add_job_result(self, job_id: str, result: FileResult) -> None:
        """Record one file's outcome and count it done; the first result marks a queued job running."""
        with self._e().begin() as conn:
            self.record_job_result(conn, job_id, result)

    def record_job_result(self, conn: Connection, job_id: str, result: FileResult) -> int:
        """`add_job_result` inside the caller's transaction; returns the job's done count after it."""
        status = FileStatus(result.status)
        done = conn.execute(
            update(_jobs)
            .where(_jobs.c.id == job_id)
            .values(done=_jobs.c.done + 1, updated_at=now())
            .returning(_jobs.c.done)
        ).scalar_one_or_none()
        if done is None:
            raise NotFoundError(f"job {job_id} does not exist")
        conn.execute(
            update(_jobs)
            .where(_jobs.c.id == job_id, _jobs.c.status == JobStatus.QUEUED.value)
            .values(status=JobStatus.RUNNING.value)
        )
        conn.execute(
            insert(_results).values(
                job_id=job_id,
                name=result.name,
                status=status.value,
                doc_id=result.doc_id,
                error=result.error,
                items=result.items,
            )
        )
        return int(done)

    def mark_job_running(self, conn: Connection, job_id: str) -> None:
        """Inside the caller's transaction: a queued job whose first file a worker took is running."""
        conn.execute(
            update(_jobs)
            .where(_jobs.c.id == job_id, _jobs.c.status == JobStatus.QUEUED.value)
            .values(status=JobStatus.RUNNING.value, updated_at=now())
        )

    def finish_job_if_complete(self, conn: Connection, job_id: str) -> JobStatus | None:
        """Inside the caller's transaction: once every file has a result, mark the job done (failed
        when every file failed) and return that status; None while files remain."""
        row = conn.execute(
            select(_jobs.c.done, _jobs.c.total, _jobs.c.status).where(_jobs.c.id == job_id)
        ).first()
        if row is None:
            raise NotFoundError(f"job {job_id} does not exist")
        done, total, current = row
        if done < total or current in _SETTLED:
            return None
        failed = int(
            conn.execute(
                select(func.count())
                .select_from(_results)
                .where(_results.c.job_id == job_id, _results.c.status == FileStatus.FAILED.value)
            ).scalar_one()
        )
        status = JobStatus.FAILED if total and failed == total else JobStatus.DONE
        conn.execute(
            update(_jobs)
            .where(_jobs.c.id == job_id)
            .values(
                status=status.value,
                error=f"{failed} of {total} files failed" if failed else "",
                updated_at=now(),
            )
        )
        return status

    def finish_job(self, job_id: str, *, status: JobStatus, error: str = "") -> None:
        with self._e().begin() as conn:
            changed = conn.execute(
                update(_jobs)
                .where(_jobs.c.id == job_id)
                .values(status=JobStatus(status).value, error=error, updated_at=now())
            )
            if not changed.rowcount:
                raise NotFoundError(f"job {job_id} does not exist")

    def get_job(self, job_id: str) -> JobRecord | None:
        with self._e().connect() as conn:
            row = conn.execute(select(_jobs).where(_jobs.c.id == job_id)).mappings().first()
            if row is None:
                return None
            results = conn.execute(
                select(_results).where(_results.c.job_id == job_id).order_by(_results.c.id)
            ).mappings()
            files = tuple(
                FileResult(
                    name=r["name"],
                    status=FileStatus(r["status"]),
                    doc_id=r["doc_id"],
                    error=r["error"],
                    items=r["items"],
                )
                for r in results
            )
        return JobRecord(
            id=row["id"],
            status=JobStatus(row["status"]),
            total=row["total"],
            done=row["done"],
            results=files,
            groups=tuple(json.loads(row["groups"])),
            created_at=utc(row["created_at"]),
            updated_at=utc(row["updated_at"]),
            error=row["error"],
        )

    def job_ids(self, *, statuses: tuple[JobStatus, ...]) -> list[str]:
        """Ids of the jobs in any of `statuses`, oldest first (start-up recovery, doctor)."""
        stmt = (
            select(_jobs.c.id)
            .where(_jobs.c.status.in_([JobStatus(s).value for s in statuses]))
            .order_by(_jobs.c.created_at, _jobs.c.id)
        )
        with self._e().connect() as conn:
            return [str(v) for v in conn.execute(stmt).scalars()]
