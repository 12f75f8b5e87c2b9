"""`Catalog`: the one object callers hold, made of the query groups in this package."""

from __future__ import annotations

from vlsearch.catalog.backup import BackupRows
from vlsearch.catalog.documents import DocumentQueries
from vlsearch.catalog.jobs import JobQueries


class Catalog(DocumentQueries, JobQueries, BackupRows):
    """What the service knows about documents and ingest jobs. Safe to share between threads.

    Cheap to build; `open()` connects and migrates. Documents: documents.py; jobs: jobs.py;
    export/import rows: backup.py; engine, transactions and schema revision: connection.py."""
