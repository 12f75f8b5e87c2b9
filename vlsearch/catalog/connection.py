"""The catalog's engine: opened once (migrating the schema under a lock), shared by every query."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url

from vlsearch.catalog import schema
from vlsearch.catalog.filelock import file_lock


def now() -> datetime:
    return datetime.now(UTC)


def utc(value: datetime) -> datetime:
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


class CatalogConnection:
    """Opens and holds the engine; the query mixins (documents, jobs, backup) build on `_e()`."""

    def __init__(self, *, url: str) -> None:
        self._url = url
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return self._url

    def open(self) -> None:
        """Connect and bring the schema up to date (alembic). Safe to call twice."""
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
                    with file_lock(Path(url.database or "").with_suffix(".migrate.lock")):
                        self._migrate(engine)
                else:
                    self._migrate(engine)
            except BaseException:
                engine.dispose()
                raise
            self._engine = engine

    @staticmethod
    def _migrate(engine: Engine) -> None:
        with engine.begin() as conn:
            schema.upgrade(conn)

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

    def schema_revision(self) -> str | None:
        """The alembic revision the database is at (the head once `open()` returned)."""
        with self._e().connect() as conn:
            return schema.current_revision(conn)

    def schema_version(self) -> int:
        """The schema revision as a number (revisions are numbered 0001, 0002, ...)."""
        revision = self.schema_revision()
        return int(revision) if revision else 0
