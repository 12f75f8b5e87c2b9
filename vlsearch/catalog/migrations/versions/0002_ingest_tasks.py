"""Ingest task queue (the hand-rolled schema's version 2)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"


def upgrade() -> None:
    op.create_table(
        "ingest_tasks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.String(32), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("groups", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("max_attempts", sa.Integer, nullable=False),
        sa.Column("worker_id", sa.String(128), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ingest_tasks_claim", "ingest_tasks", ["status", "id"])
    op.create_index("ix_ingest_tasks_job", "ingest_tasks", ["job_id"])


def downgrade() -> None:
    op.drop_table("ingest_tasks")
    # keep the pre-alembic bookkeeping (restored by 0003's downgrade) telling the truth
    if sa.inspect(op.get_bind()).has_table("schema_migrations"):
        op.execute(sa.text("DELETE FROM schema_migrations WHERE version = 2"))
