"""Baseline: documents, document groups, jobs, job results (the hand-rolled schema's version 1).

Spelled out column by column, never taken from `vlsearch.catalog.tables`: a migration describes the
schema as it was when written, so later edits of the tables cannot change what it creates.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("doc_type", sa.String(32), nullable=False),
        sa.Column("size_bytes", sa.Integer, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("item_count", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_documents_source", "documents", ["source"])
    op.create_index("ix_documents_updated", "documents", ["updated_at"])
    op.create_table(
        "document_groups",
        sa.Column(
            "doc_id", sa.String(128), sa.ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("group_name", sa.String(128), primary_key=True),
    )
    op.create_index("ix_document_groups_group", "document_groups", ["group_name", "doc_id"])
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("done", sa.Integer, nullable=False),
        sa.Column("groups", sa.Text, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "job_results",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.String(32), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("doc_id", sa.String(128), nullable=True),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("items", sa.Integer, nullable=False),
    )
    op.create_index("ix_job_results_job", "job_results", ["job_id", "id"])


def downgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("schema_migrations"):
        op.drop_table("schema_migrations")
    op.drop_table("job_results")
    op.drop_table("jobs")
    op.drop_table("document_groups")
    op.drop_table("documents")
