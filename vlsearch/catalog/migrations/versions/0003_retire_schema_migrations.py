"""Retire the hand-rolled `schema_migrations` table: alembic_version records the schema now.

Catalogs made before alembic carry it (and are stamped 0001 or 0002 from it before upgrading);
fresh ones never had it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"

_LEGACY = "schema_migrations"


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table(_LEGACY):
        op.drop_table(_LEGACY)


def downgrade() -> None:
    # what the hand-rolled migrator expects to find at version 2
    legacy = op.create_table(
        _LEGACY,
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
    )
    now = sa.func.now()
    op.execute(
        legacy.insert().values(
            [
                {"version": 1, "name": "documents, document groups, jobs, job results", "applied_at": now},
                {"version": 2, "name": "ingest task queue", "applied_at": now},
            ]
        )
    )
