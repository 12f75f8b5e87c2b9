"""Document and job state in a SQL database (SQLite file by default, PostgreSQL by URL).

SQLAlchemy Core only, no ORM: the same statements run on both engines. Group membership lives in
its own table so "visible to any of the caller's groups" is an indexed EXISTS on either engine.
Timestamps are stored and returned in UTC.

The schema is versioned: `open()` applies the numbered migrations in `MIGRATIONS` that the
`schema_migrations` table does not list yet, under a lock (a PostgreSQL advisory lock, a file lock
next to a SQLite file) so several worker processes starting at once migrate exactly once.
"""

from __future__ import annotations

import fcntl
import json
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, cast

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.sql.elements import ColumnElement

from vlsearch.errors import NotFoundError
from vlsearch.types import Document


class DocStatus(StrEnum):
    PENDING = "pending"
    INDEXING = "indexing"
    READY = "ready"
    FAILED = "failed"


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


FileStatus = Literal["ingested", "unchanged", "failed"]
_FILE_STATUSES = ("ingested", "unchanged", "failed")


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
    status: FileStatus
    doc_id: str | None
    error: str
    items: int


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


_meta = MetaData()

_documents = Table(
    "documents",
    _meta,
    Column("id", String(128), primary_key=True),
    Column("source", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("doc_type", String(32), nullable=False),
    Column("size_bytes", Integer, nullable=False, default=0),
    Column("title", Text, nullable=False, default=""),
    Column("status", String(16), nullable=False),
    Column("error", Text, nullable=False, default=""),
    Column("item_count", Integer, nullable=False, default=0),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_documents_source", "source"),
    Index("ix_documents_updated", "updated_at"),
)

_document_groups = Table(
    "document_groups",
    _meta,
    Column("doc_id", String(128), ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True),
    Column("group_name", String(128), primary_key=True),
    Index("ix_document_groups_group", "group_name", "doc_id"),
)

_jobs = Table(
    "jobs",
    _meta,
    Column("id", String(32), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("total", Integer, nullable=False),
    Column("done", Integer, nullable=False, default=0),
    Column("groups", Text, nullable=False),  # JSON list; only read back whole
    Column("error", Text, nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

_job_results = Table(
    "job_results",
    _meta,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_id", String(32), ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("doc_id", String(128), nullable=True),
    Column("error", Text, nullable=False, default=""),
    Column("items", Integer, nullable=False, default=0),
    Index("ix_job_results_job", "job_id", "id"),
)

# One row per file of a queued ingest job; `vlsearch.queue.TaskQueue` claims and completes them.
ingest_tasks = Table(
    "ingest_tasks",
    _meta,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_id", String(32), ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),  # "file": ingest `path`; "upload": `path` holds the bytes
    Column("name", Text, nullable=False),
    Column("path", Text, nullable=False),
    Column("groups", Text, nullable=False),  # JSON list
    Column("status", String(16), nullable=False),  # queued | running | done | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("max_attempts", Integer, nullable=False),
    Column("worker_id", String(128), nullable=False, default=""),
    Column("lease_until", DateTime(timezone=True), nullable=True),
    Column("error", Text, nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_ingest_tasks_claim", "status", "id"),
    Index("ix_ingest_tasks_job", "job_id"),
)

_versions = Table(
    "schema_migrations",
    MetaData(),
    Column("version", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[Connection], None]


def _create(*tables: Table) -> Callable[[Connection], None]:
    # checkfirst: catalogs created before versioning already hold the version-1 tables
    def run(conn: Connection) -> None:
        for table in tables:
            table.create(conn, checkfirst=True)

    return run


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "documents, document groups, jobs, job results",
        _create(_documents, _document_groups, _jobs, _job_results),
    ),
    Migration(2, "ingest task queue", _create(ingest_tasks)),
)

_PG_MIGRATION_LOCK = 0x76_6C_73_01  # pg_advisory_xact_lock key, arbitrary but fixed


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; every value we wrote was UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets the API read while the ingest worker writes; busy_timeout waits out short write locks.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


class Catalog:
    """What the service knows about documents and ingest jobs. Safe to share between threads."""

    def __init__(self, *, url: str) -> None:
        self._url = url
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return self._url

    def open(self) -> None:
        """Connect and create missing tables. Safe to call twice."""
        with self._lock:
            if self._engine is not None:
                return
            url = make_url(self._url)
            kwargs: dict[str, Any] = {"future": True}
            is_sqlite = url.get_backend_name() == "sqlite"
            if is_sqlite:
                database = url.database or ""
                if database in ("", ":memory:"):
                    raise ValueError(
                        f"catalog URL {self._url!r} names no file; use sqlite:////abs/path/catalog.db"
                    )
                Path(database).parent.mkdir(parents=True, exist_ok=True)
                kwargs["connect_args"] = {"check_same_thread": False, "timeout": 10}
            else:
                kwargs["pool_pre_ping"] = True
            engine = create_engine(self._url, **kwargs)
            try:
                if is_sqlite:
                    event.listen(engine, "connect", _sqlite_pragmas)
                    with _file_lock(Path(url.database or "").with_suffix(".migrate.lock")):
                        _migrate(engine)
                else:
                    _migrate(engine)
            except BaseException:
                engine.dispose()
                raise
            self._engine = engine

    def close(self) -> None:
        with self._lock:
            engine, self._engine = self._engine, None
        if engine is not None:
            engine.dispose()

    def _e(self) -> Engine:
        engine = self._engine
        if engine is None:
            raise RuntimeError("catalog is not open: call open() first")
        return engine

    @property
    def engine(self) -> Engine:
        """The open engine, for modules that keep their own tables in this database (the task queue)."""
        return self._e()

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self._e().dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction for several catalog writes (see `record_job_result`)."""
        with self._e().begin() as conn:
            yield conn

    def schema_version(self) -> int:
        with self._e().connect() as conn:
            return int(conn.execute(select(func.max(_versions.c.version))).scalar_one() or 0)

    # -- documents -------------------------------------------------------------------------

    def get_document(self, doc_id: str) -> DocumentRecord | None:
        with self._e().connect() as conn:
            row = conn.execute(select(_documents).where(_documents.c.id == doc_id)).mappings().first()
            return None if row is None else self._record(conn, row)

    def statuses(self, doc_ids: Iterable[str]) -> dict[str, DocStatus]:
        """Status per known document, in one query (a search hides unsettled documents with it)."""
        ids = list(dict.fromkeys(doc_ids))
        if not ids:
            return {}
        stmt = select(_documents.c.id, _documents.c.status).where(_documents.c.id.in_(ids))
        with self._e().connect() as conn:
            return {row.id: DocStatus(row.status) for row in conn.execute(stmt)}

    def find_by_source(self, source: str) -> DocumentRecord | None:
        stmt = (
            select(_documents)
            .where(_documents.c.source == source)
            .order_by(_documents.c.updated_at.desc())
            .limit(1)
        )
        with self._e().connect() as conn:
            row = conn.execute(stmt).mappings().first()
            return None if row is None else self._record(conn, row)

    def put_document(
        self, doc: Document, *, status: DocStatus, error: str = "", item_count: int = 0
    ) -> DocumentRecord:
        """Insert or replace a document's record (created_at survives a replace)."""
        now = _now()
        values = {
            "source": doc.source,
            "name": doc.name,
            "sha256": doc.sha256,
            "doc_type": doc.doc_type,
            "size_bytes": doc.size_bytes,
            "title": doc.title,
            "status": DocStatus(status).value,
            "error": error,
            "item_count": item_count,
            "updated_at": now,
        }
        with self._e().begin() as conn:
            # one atomic upsert: two workers re-ingesting the same document must not both INSERT;
            # on PostgreSQL it also row-locks the document, serialising the group rewrite below
            dialect = pg_dialect if conn.dialect.name == "postgresql" else sqlite_dialect
            stmt = dialect.insert(_documents).values(id=doc.id, created_at=now, **values)
            conn.execute(stmt.on_conflict_do_update(index_elements=[_documents.c.id], set_=values))
            conn.execute(delete(_document_groups).where(_document_groups.c.doc_id == doc.id))
            groups = sorted(set(doc.groups))
            if groups:
                conn.execute(insert(_document_groups), [{"doc_id": doc.id, "group_name": g} for g in groups])
            row = conn.execute(select(_documents).where(_documents.c.id == doc.id)).mappings().one()
            return self._record(conn, row)

    def set_status(
        self, doc_id: str, status: DocStatus, *, error: str = "", item_count: int | None = None
    ) -> None:
        values: dict[str, Any] = {"status": DocStatus(status).value, "error": error, "updated_at": _now()}
        if item_count is not None:
            values["item_count"] = item_count
        with self._e().begin() as conn:
            changed = conn.execute(update(_documents).where(_documents.c.id == doc_id).values(**values))
            if not changed.rowcount:
                raise NotFoundError(f"document {doc_id} is not in the catalog; ingest it first")

    def list_documents(
        self,
        *,
        groups: tuple[str, ...] | None,
        doc_type: str | None = None,
        status: DocStatus | None = None,
        query: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> tuple[list[DocumentRecord], int]:
        """One page of documents visible to `groups` (None = all, () = none), newest first, and
        the total that match."""
        if offset < 0 or limit < 0:
            raise ValueError("offset and limit must be >= 0")
        if groups is not None and not groups:
            return [], 0
        conds: list[ColumnElement[bool]] = []
        if groups is not None:
            member = (
                select(_document_groups.c.doc_id)
                .where(_document_groups.c.doc_id == _documents.c.id)
                .where(_document_groups.c.group_name.in_(sorted(set(groups))))
            )
            conds.append(member.exists())
        if doc_type:
            conds.append(_documents.c.doc_type == doc_type)
        if status is not None:
            conds.append(_documents.c.status == DocStatus(status).value)
        if query:
            conds.append(func.lower(_documents.c.name).contains(query.lower(), autoescape=True))
        page = (
            select(_documents)
            .where(*conds)
            .order_by(_documents.c.updated_at.desc(), _documents.c.id)
            .offset(offset)
            .limit(limit)
        )
        total_stmt = select(func.count()).select_from(_documents).where(*conds)
        with self._e().connect() as conn:
            total = int(conn.execute(total_stmt).scalar_one())
            rows = conn.execute(page).mappings().all()
            groups_by_doc = self._groups(conn, [r["id"] for r in rows])
            records = [self._record(conn, r, groups_by_doc.get(r["id"], ())) for r in rows]
        return records, total

    def delete_document(self, doc_id: str) -> bool:
        with self._e().begin() as conn:
            conn.execute(delete(_document_groups).where(_document_groups.c.doc_id == doc_id))
            return bool(conn.execute(delete(_documents).where(_documents.c.id == doc_id)).rowcount)

    def status_counts(self, *, groups: tuple[str, ...] | None = None) -> dict[str, int]:
        """Documents per status (visible to `groups`; None = all), every status present (0 when none)."""
        counts = {s.value: 0 for s in DocStatus}
        if groups is not None and not groups:
            return counts
        stmt = select(_documents.c.status, func.count()).group_by(_documents.c.status)
        if groups is not None:
            member = (
                select(_document_groups.c.doc_id)
                .where(_document_groups.c.doc_id == _documents.c.id)
                .where(_document_groups.c.group_name.in_(sorted(set(groups))))
            )
            stmt = stmt.where(member.exists())
        with self._e().connect() as conn:
            for status, n in conn.execute(stmt):
                counts[status] = int(n)
        return counts

    def _groups(self, conn: Connection, doc_ids: list[str]) -> dict[str, tuple[str, ...]]:
        if not doc_ids:
            return {}
        stmt = (
            select(_document_groups.c.doc_id, _document_groups.c.group_name)
            .where(_document_groups.c.doc_id.in_(doc_ids))
            .order_by(_document_groups.c.doc_id, _document_groups.c.group_name)
        )
        out: dict[str, list[str]] = {}
        for doc_id, group in conn.execute(stmt):
            out.setdefault(doc_id, []).append(group)
        return {k: tuple(v) for k, v in out.items()}

    def _record(self, conn: Connection, row: Any, groups: tuple[str, ...] | None = None) -> DocumentRecord:
        if groups is None:
            groups = self._groups(conn, [row["id"]]).get(row["id"], ())
        doc = Document(
            id=row["id"],
            source=row["source"],
            name=row["name"],
            sha256=row["sha256"],
            doc_type=row["doc_type"],
            groups=groups,
            size_bytes=row["size_bytes"],
            title=row["title"],
        )
        return DocumentRecord(
            document=doc,
            status=DocStatus(row["status"]),
            error=row["error"],
            item_count=row["item_count"],
            created_at=_utc(row["created_at"]),
            updated_at=_utc(row["updated_at"]),
        )

    # -- jobs ------------------------------------------------------------------------------

    def create_job(self, *, total: int, groups: tuple[str, ...]) -> JobRecord:
        now = _now()
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
                    created_at=now,
                    updated_at=now,
                )
            )
        return JobRecord(
            id=job_id,
            status=JobStatus.QUEUED,
            total=total,
            done=0,
            results=(),
            groups=tuple(groups),
            created_at=now,
            updated_at=now,
            error="",
        )

    def add_job_result(self, job_id: str, result: FileResult) -> None:
        """Record one file's outcome and count it done; the first result marks a queued job running."""
        with self._e().begin() as conn:
            self.record_job_result(conn, job_id, result)

    def record_job_result(self, conn: Connection, job_id: str, result: FileResult) -> int:
        """`add_job_result` inside the caller's transaction; returns the job's done count after it."""
        if result.status not in _FILE_STATUSES:
            raise ValueError(f"file status {result.status!r} is not one of {', '.join(_FILE_STATUSES)}")
        done = conn.execute(
            update(_jobs)
            .where(_jobs.c.id == job_id)
            .values(done=_jobs.c.done + 1, updated_at=_now())
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
            insert(_job_results).values(
                job_id=job_id,
                name=result.name,
                status=result.status,
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
            .values(status=JobStatus.RUNNING.value, updated_at=_now())
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
        if done < total or current in (JobStatus.DONE.value, JobStatus.FAILED.value):
            return None
        failed = int(
            conn.execute(
                select(func.count())
                .select_from(_job_results)
                .where(_job_results.c.job_id == job_id, _job_results.c.status == "failed")
            ).scalar_one()
        )
        status = JobStatus.FAILED if total and failed == total else JobStatus.DONE
        conn.execute(
            update(_jobs)
            .where(_jobs.c.id == job_id)
            .values(
                status=status.value,
                error=f"{failed} of {total} files failed" if failed else "",
                updated_at=_now(),
            )
        )
        return status

    def finish_job(self, job_id: str, *, status: JobStatus, error: str = "") -> None:
        with self._e().begin() as conn:
            changed = conn.execute(
                update(_jobs)
                .where(_jobs.c.id == job_id)
                .values(status=JobStatus(status).value, error=error, updated_at=_now())
            )
            if not changed.rowcount:
                raise NotFoundError(f"job {job_id} does not exist")

    def get_job(self, job_id: str) -> JobRecord | None:
        with self._e().connect() as conn:
            row = conn.execute(select(_jobs).where(_jobs.c.id == job_id)).mappings().first()
            if row is None:
                return None
            results = conn.execute(
                select(_job_results).where(_job_results.c.job_id == job_id).order_by(_job_results.c.id)
            ).mappings()
            files = tuple(
                FileResult(
                    name=r["name"],
                    status=cast(FileStatus, r["status"]),
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
            created_at=_utc(row["created_at"]),
            updated_at=_utc(row["updated_at"]),
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

    # -- backup (vlsearch export / import) -------------------------------------------------

    def table_names(self) -> list[str]:
        """Catalog tables, parents before children (the order to load them in)."""
        return [t.name for t in _meta.sorted_tables]

    def export_rows(self, table: str) -> Iterator[dict[str, Any]]:
        """Every row of one table as JSON-ready values (datetimes as ISO-8601 UTC strings)."""
        t = _table(table)
        order = list(t.primary_key.columns)
        with self._e().connect() as conn:
            for row in conn.execute(select(t).order_by(*order)).mappings():
                yield {k: (_utc(v).isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}

    def import_rows(self, table: str, rows: list[dict[str, Any]]) -> int:
        """Insert rows written by `export_rows`. Integer autoincrement keys are dropped so the
        database numbers them again (a PostgreSQL sequence would otherwise collide later)."""
        t = _table(table)
        if not rows:
            return 0
        renumbered = {
            c.name for c in t.primary_key.columns if isinstance(c.type, Integer) and c.autoincrement is True
        }
        dates = {c.name for c in t.columns if isinstance(c.type, DateTime)}
        known = {c.name for c in t.columns}
        clean = [
            {
                k: (datetime.fromisoformat(v) if k in dates and isinstance(v, str) else v)
                for k, v in row.items()
                if k in known and k not in renumbered
            }
            for row in rows
        ]
        with self._e().begin() as conn:
            conn.execute(insert(t), clean)
        return len(clean)

    def row_count(self, table: str) -> int:
        with self._e().connect() as conn:
            return int(conn.execute(select(func.count()).select_from(_table(table))).scalar_one())


def _migrate(engine: Engine) -> None:
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # held until commit; concurrent openers wait here, then find nothing left to apply
            conn.execute(select(func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
        _versions.create(conn, checkfirst=True)
        applied = set(conn.execute(select(_versions.c.version)).scalars())
        known = {m.version for m in MIGRATIONS}
        newer = sorted(applied - known)
        if newer:
            raise RuntimeError(
                f"the catalog has schema version {newer[-1]}, newer than this vlsearch knows "
                f"({max(known)}); upgrade vlsearch on this machine"
            )
        for migration in MIGRATIONS:
            if migration.version not in applied:
                migration.apply(conn)
                conn.execute(
                    insert(_versions).values(
                        version=migration.version, name=migration.name, applied_at=_now()
                    )
                )


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    # SQLite runs CREATE TABLE outside the driver's implicit transactions, so two processes opening
    # a new file at once would both try to create the tables; a lock file serialises them.
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _table(name: str) -> Table:
    table = _meta.tables.get(name)
    if table is None:
        raise ValueError(f"unknown catalog table {name!r}: use one of {', '.join(sorted(_meta.tables))}")
    return table
