"""Document and job state in a SQL database (SQLite file by default, PostgreSQL by URL).

SQLAlchemy Core only, no ORM: the same statements run on both engines. Timestamps are stored and
returned in UTC. The schema is migrated with alembic (`migrations/`, run by `schema.upgrade` when
the catalog opens).

    records.py     statuses (enums) and the immutable records callers get back
    tables.py      the tables, as the migrations must leave them
    schema.py      alembic upgrade under a lock, adopting catalogs made before alembic
    connection.py  engine, transactions, schema revision
    documents.py   document queries          jobs.py    job queries
    backup.py      whole-table rows for export/import
    filelock.py    the cross-process lock SQLite migrations run under
"""

from vlsearch.catalog.catalog import Catalog
from vlsearch.catalog.records import (
    DocStatus,
    DocumentRecord,
    FileResult,
    FileStatus,
    JobRecord,
    JobStatus,
)
from vlsearch.catalog.tables import ingest_tasks

__all__ = [
    "Catalog",
    "DocStatus",
    "DocumentRecord",
    "FileResult",
    "FileStatus",
    "JobRecord",
    "JobStatus",
    "ingest_tasks",
]
