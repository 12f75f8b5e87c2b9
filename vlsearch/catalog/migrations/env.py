"""alembic environment for the catalog.

`vlsearch.catalog.schema.upgrade` runs it on a connection it already holds (inside the migration
lock, passed as `config.attributes["connection"]`). The alembic command line works too, from the
repository root: `alembic -x url=postgresql+psycopg://... upgrade head` (without `-x url`, the
catalog of the current settings: VLSEARCH_CATALOG_URL or <data_dir>/catalog.db).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from vlsearch.catalog.tables import metadata

config = context.config


def _configure_and_run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=metadata,
        render_as_batch=True,  # SQLite ALTERs go through a table copy
    )
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url")
    if url:
        return url
    from vlsearch.config import get_settings

    return get_settings().resolved_catalog_url


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    held = config.attributes.get("connection")
    if held is not None:
        _configure_and_run(held)
    else:
        engine = create_engine(_url())
        try:
            with engine.begin() as conn:
                _configure_and_run(conn)
        finally:
            engine.dispose()
