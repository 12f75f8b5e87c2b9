"""Bring a catalog database to the schema this vlsearch expects, with alembic.

The revisions live in `migrations/versions/`. `upgrade()` runs them on a connection the caller
holds inside the migration lock (a PostgreSQL advisory lock taken here, a file lock next to a SQLite
file taken by the caller), so several processes starting at once migrate exactly once.

Catalogs made before alembic recorded their schema in a `schema_migrations` table (versions 1 and
2, the same tables as revisions 0001 and 0002) or, older still, nowhere: those are stamped with the
matching revision first and then upgraded like any other.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import Connection

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_PG_MIGRATION_LOCK = 0x76_6C_73_01  # pg_advisory_xact_lock key, arbitrary but fixed
_LEGACY_TABLE = "schema_migrations"
_LEGACY_REVISIONS = {1: "0001", 2: "0002"}  # hand-rolled version -> the alembic revision it equals


def _config(conn: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if conn is not None:
        cfg.attributes["connection"] = conn
    return cfg


def script() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head_revision() -> str:
    head = script().get_current_head()
    assert head is not None, "the catalog has no migrations"
    return head


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def upgrade(conn: Connection) -> None:
    """Apply every migration the database lacks. `conn` is inside a transaction the caller commits."""
    if conn.dialect.name == "postgresql":
        # held until commit; concurrent openers wait here, then find nothing left to apply
        conn.execute(select(func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
    cfg = _config(conn)
    current = current_revision(conn)
    if current is None:
        legacy = _legacy_revision(conn)
        if legacy is not None:
            command.stamp(cfg, legacy)
    elif current not in {s.revision for s in script().walk_revisions()}:
        raise RuntimeError(
            f"the catalog has schema revision {current}, newer than this vlsearch knows "
            f"({head_revision()}); upgrade vlsearch on this machine"
        )
    command.upgrade(cfg, "head")


def _legacy_revision(conn: Connection) -> str | None:
    """The revision a catalog made before alembic already has, None for an empty database."""
    tables = set(inspect(conn).get_table_names())
    if _LEGACY_TABLE in tables:
        versions = set(conn.execute(text(f"SELECT version FROM {_LEGACY_TABLE}")).scalars())
        newer = sorted(v for v in versions if v not in _LEGACY_REVISIONS)
        if newer:
            raise RuntimeError(
                f"the catalog has schema version {newer[-1]}, newer than this vlsearch knows "
                f"({max(_LEGACY_REVISIONS)}); upgrade vlsearch on this machine"
            )
        if versions:
            return _LEGACY_REVISIONS[max(versions)]
    # unversioned: the first catalogs created the version-1 tables and recorded nothing
    return _LEGACY_REVISIONS[1] if "documents" in tables else None
