"""A catalog as vlsearch made it before alembic (main at 7627a6b, vlsearch/catalog.py): the same
table definitions and the same hand-rolled `schema_migrations` bookkeeping, frozen here so the
upgrade tests keep meaning "a catalog from the old code" whatever the tables become."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    insert,
    make_url,
)

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
    Column("groups", Text, nullable=False),
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
_ingest_tasks = Table(
    "ingest_tasks",
    _meta,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_id", String(32), ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("name", Text, nullable=False),
    Column("path", Text, nullable=False),
    Column("groups", Text, nullable=False),
    Column("status", String(16), nullable=False),
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
_MIGRATIONS = (
    (1, "documents, document groups, jobs, job results", (_documents, _document_groups, _jobs, _job_results)),
    (2, "ingest task queue", (_ingest_tasks,)),
)


def make_legacy_catalog(url: str, *, version: int) -> None:
    """Create the old code's catalog at hand-rolled `version` (0: before versioning existed, when
    only the version-1 tables were created and nothing recorded) with one document, one job with
    one result and, from version 2, one queued task."""
    database = make_url(url).database
    if url.startswith("sqlite") and database:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    now = datetime.now(UTC)
    try:
        with engine.begin() as conn:
            if version:
                _versions.create(conn)
            for number, name, tables in _MIGRATIONS[: max(version, 1)]:
                for table in tables:
                    table.create(conn)
                if version:
                    conn.execute(insert(_versions).values(version=number, name=name, applied_at=now))
            conn.execute(
                insert(_documents).values(
                    id="d1",
                    source="/srv/a.pdf",
                    name="a.pdf",
                    sha256="0" * 64,
                    doc_type="pdf",
                    size_bytes=10,
                    title="A",
                    status="ready",
                    error="",
                    item_count=5,
                    created_at=now,
                    updated_at=now,
                )
            )
            conn.execute(insert(_document_groups).values(doc_id="d1", group_name="eng"))
            conn.execute(
                insert(_jobs).values(
                    id="j1", status="running", total=2, done=1, groups='["eng"]', error="",
                    created_at=now, updated_at=now,
                )
            )  # fmt: skip
            conn.execute(
                insert(_job_results).values(
                    job_id="j1", name="a.pdf", status="ingested", doc_id="d1", error="", items=5
                )
            )
            if version >= 2:
                conn.execute(
                    insert(_ingest_tasks).values(
                        job_id="j1", kind="file", name="b.pdf", path="/srv/b.pdf", groups='["eng"]',
                        status="queued", attempts=0, max_attempts=3, worker_id="", lease_until=None,
                        error="", created_at=now, updated_at=now,
                    )
                )  # fmt: skip
    finally:
        engine.dispose()
