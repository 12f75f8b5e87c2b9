"""Ingest task queue in the catalog database: one task per file of a job, claimed by workers.

A worker claims the oldest claimable task (queued, or running with an expired lease) and holds it
under a lease it extends by heartbeats. On PostgreSQL the claim selects the row `FOR UPDATE SKIP
LOCKED`, so concurrent workers never wait on or take the same row; on SQLite a single
`UPDATE ... WHERE id = (SELECT ...)` is atomic because SQLite has one writer at a time.

A task whose worker died (no heartbeat until the lease ran out) becomes claimable again; after
`max_attempts` claims it is failed with the reason. Only the worker holding the lease can complete
a task, and completion records the file's result on the job in the same transaction, so every file
gets exactly one result even when two workers ran it (ingest itself is idempotent: deterministic
ids, the unchanged check and delete-then-upsert per document).

Lease times come from the workers' clocks, so the hosts running workers must keep time (NTP).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from vlsearch.catalog import Catalog, FileResult, FileStatus, JobRecord, JobStatus, ingest_tasks

_t = ingest_tasks


class TaskKind(StrEnum):
    FILE = "file"  # ingest the file at `path` (IngestPipeline.ingest_file)
    UPLOAD = "upload"  # `path` holds uploaded bytes named `name` (IngestPipeline.ingest_upload)


@dataclass(frozen=True)
class TaskSpec:
    """What to enqueue for one file."""

    kind: TaskKind
    name: str
    path: Path


@dataclass(frozen=True)
class Task:
    id: int
    job_id: str
    kind: TaskKind
    name: str
    path: Path
    groups: tuple[str, ...]
    status: JobStatus
    attempts: int
    max_attempts: int
    worker_id: str
    lease_until: datetime | None
    error: str


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _task(row: object) -> Task:
    m = row._mapping  # type: ignore[attr-defined]
    return Task(
        id=int(m["id"]),
        job_id=m["job_id"],
        kind=TaskKind(m["kind"]),
        name=m["name"],
        path=Path(m["path"]),
        groups=tuple(json.loads(m["groups"])),
        status=JobStatus(m["status"]),
        attempts=int(m["attempts"]),
        max_attempts=int(m["max_attempts"]),
        worker_id=m["worker_id"],
        lease_until=_utc(m["lease_until"]),
        error=m["error"],
    )


class TaskQueue:
    """Enqueue, claim, heartbeat and complete ingest tasks. Cheap; needs an opened Catalog."""

    def __init__(self, *, catalog: Catalog, lease_seconds: float = 60.0, max_attempts: int = 3) -> None:
        if lease_seconds <= 0:
            raise ValueError("lease_seconds must be > 0")
        if max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        self._catalog = catalog
        self._lease = timedelta(seconds=lease_seconds)
        self._max_attempts = max_attempts

    @property
    def lease_seconds(self) -> float:
        return self._lease.total_seconds()

    def enqueue(self, specs: Sequence[TaskSpec], *, groups: Sequence[str]) -> JobRecord:
        """Create a job with one queued task per spec (one transaction: workers see all or none)."""
        group_t = tuple(groups)
        job = self._catalog.create_job(total=len(specs), groups=group_t)
        if not specs:
            self._catalog.finish_job(job.id, status=JobStatus.DONE)
            return job
        now = _now()
        rows = [
            {
                "job_id": job.id,
                "kind": TaskKind(spec.kind).value,
                "name": spec.name,
                "path": str(spec.path),
                "groups": json.dumps(list(group_t)),
                "status": JobStatus.QUEUED.value,
                "attempts": 0,
                "max_attempts": self._max_attempts,
                "worker_id": "",
                "lease_until": None,
                "error": "",
                "created_at": now,
                "updated_at": now,
            }
            for spec in specs
        ]
        with self._catalog.transaction() as conn:
            conn.execute(insert(_t), rows)
        return job

    def enqueue_files(self, paths: Sequence[Path], *, groups: Sequence[str]) -> JobRecord:
        specs = [TaskSpec(TaskKind.FILE, p.name, Path(p).resolve()) for p in paths]
        return self.enqueue(specs, groups=groups)

    def claim(self, worker_id: str) -> Task | None:
        """Take the oldest claimable task under a fresh lease, or None when there is none.

        Tasks whose lease expired with no attempts left are failed first (see `reap`)."""
        self.reap()
        now = _now()
        claimable = or_(
            _t.c.status == JobStatus.QUEUED.value,
            and_(_t.c.status == JobStatus.RUNNING.value, _t.c.lease_until < now),
        )
        pick = (
            select(_t.c.id)
            .where(claimable, _t.c.attempts < _t.c.max_attempts)
            .order_by(_t.c.id)
            .limit(1)
            # PostgreSQL: skip rows another worker is claiming right now instead of waiting on them;
            # SQLite ignores the clause (one writer at a time makes the UPDATE atomic anyway)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        stmt = (
            update(_t)
            # re-check claimability: on PostgreSQL the subquery's row may have changed before the lock
            .where(_t.c.id == pick, claimable)
            .values(
                status=JobStatus.RUNNING.value,
                attempts=_t.c.attempts + 1,
                worker_id=worker_id,
                lease_until=now + self._lease,
                updated_at=now,
            )
            .returning(*_t.c)
        )
        with self._catalog.transaction() as conn:
            row = conn.execute(stmt).first()
            if row is None:
                return None
            task = _task(row)
            self._catalog.mark_job_running(conn, task.job_id)
            return task

    def heartbeat(self, task: Task, worker_id: str) -> bool:
        """Extend the lease; False when this worker no longer holds the task (it was reclaimed)."""
        now = _now()
        with self._catalog.transaction() as conn:
            changed = conn.execute(
                update(_t)
                .where(*_held(task, worker_id))
                .values(lease_until=now + self._lease, updated_at=now)
            ).rowcount
        return bool(changed)

    def complete(self, task: Task, worker_id: str, result: FileResult) -> bool:
        """Record the file's result on the job and close the task, if this worker still holds it.

        False means the lease was lost (another worker reclaimed the task and will record it)."""
        status = JobStatus.FAILED if result.status is FileStatus.FAILED else JobStatus.DONE
        with self._catalog.transaction() as conn:
            changed = conn.execute(
                update(_t)
                .where(*_held(task, worker_id))
                .values(status=status.value, error=result.error, lease_until=None, updated_at=_now())
            ).rowcount
            if not changed:
                return False
            self._catalog.record_job_result(conn, task.job_id, result)
            self._catalog.finish_job_if_complete(conn, task.job_id)
        return True

    def release(self, task: Task, worker_id: str, reason: str) -> bool:
        """Give a task back to the queue after an infrastructure error (store down), for another
        attempt. False when it has no attempts left or this worker no longer holds it."""
        if task.attempts >= task.max_attempts:
            return False
        with self._catalog.transaction() as conn:
            changed = conn.execute(
                update(_t)
                .where(*_held(task, worker_id))
                .values(
                    status=JobStatus.QUEUED.value,
                    worker_id="",
                    lease_until=None,
                    error=reason,
                    updated_at=_now(),
                )
            ).rowcount
        return bool(changed)

    def pending(self) -> int:
        """Tasks not finished yet (queued, or running under any lease, expired or not)."""
        stmt = (
            select(func.count())
            .select_from(_t)
            .where(_t.c.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value]))
        )
        with self._catalog.engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def reap(self) -> int:
        """Fail the tasks whose lease expired with no attempts left; returns how many."""
        now = _now()
        stmt = (
            update(_t)
            .where(
                _t.c.status == JobStatus.RUNNING.value,
                _t.c.lease_until < now,
                _t.c.attempts >= _t.c.max_attempts,
            )
            .values(status=JobStatus.FAILED.value, lease_until=None, updated_at=now)
            .returning(_t.c.id, _t.c.job_id, _t.c.name, _t.c.attempts)
        )
        with self._catalog.transaction() as conn:
            rows = conn.execute(stmt).all()
            for task_id, job_id, name, attempts in rows:
                reason = (
                    f"gave up after {attempts} attempts: the worker running it stopped without "
                    "finishing (crash, kill or out of memory); check the worker logs, then ingest again"
                )
                conn.execute(update(_t).where(_t.c.id == task_id).values(error=reason))
                self._catalog.record_job_result(
                    conn, job_id, FileResult(name, FileStatus.FAILED, None, reason, 0)
                )
                self._catalog.finish_job_if_complete(conn, job_id)
        return len(rows)

    def tasks(self, job_id: str) -> list[Task]:
        with self._catalog.engine.connect() as conn:
            rows = conn.execute(select(_t).where(_t.c.job_id == job_id).order_by(_t.c.id)).all()
        return [_task(r) for r in rows]

    def counts(self) -> dict[str, int]:
        """Tasks per status over all jobs, every status present."""
        out = {s.value: 0 for s in JobStatus}
        with self._catalog.engine.connect() as conn:
            for status, n in conn.execute(select(_t.c.status, func.count()).group_by(_t.c.status)):
                out[status] = int(n)
        return out


def _held(task: Task, worker_id: str) -> tuple[ColumnElement[bool], ...]:
    """The task's row while `worker_id` still holds its lease (a reclaimed task no longer matches)."""
    return (_t.c.id == task.id, _t.c.worker_id == worker_id, _t.c.status == JobStatus.RUNNING.value)
