"""The catalog's tables as SQLAlchemy Core metadata: what queries are written against and what the
alembic migrations (`vlsearch/catalog/migrations/versions/`) must produce. A change here needs a new
migration; tests/catalog/test_migrations.py compares a migrated database with this metadata."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

documents = Table(
    "documents",
    metadata,
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

document_groups = Table(
    "document_groups",
    metadata,
    Column("doc_id", String(128), ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True),
    Column("group_name", String(128), primary_key=True),
    Index("ix_document_groups_group", "group_name", "doc_id"),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("total", Integer, nullable=False),
    Column("done", Integer, nullable=False, default=0),
    Column("groups", Text, nullable=False),  # JSON list; only read back whole
    Column("error", Text, nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

job_results = Table(
    "job_results",
    metadata,
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
    metadata,
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


def table(name: str) -> Table:
    found = metadata.tables.get(name)
    if found is None:
        raise ValueError(f"unknown catalog table {name!r}: use one of {', '.join(sorted(metadata.tables))}")
    return found
