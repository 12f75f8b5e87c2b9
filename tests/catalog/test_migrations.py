"""Versioned schema: applied once, upgrades an unversioned catalog, safe under concurrent opens."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from vlsearch.catalog import MIGRATIONS, Catalog, DocStatus
from vlsearch.types import Document

DOC = Document(id="d1", source="/srv/a.pdf", name="a.pdf", sha256="0" * 64, doc_type="pdf", groups=("eng",))


def _versions(cat: Catalog) -> list[int]:
    with cat.engine.connect() as conn:
        return list(conn.execute(text("SELECT version FROM schema_migrations ORDER BY version")).scalars())


def test_concurrent_opens_migrate_once_and_reopen_is_a_no_op(catalog_url: str) -> None:
    opened: list[Catalog] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def open_one() -> None:
        cat = Catalog(url=catalog_url)
        start.wait()
        try:
            cat.open()
            opened.append(cat)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert _versions(opened[0]) == [m.version for m in MIGRATIONS] == [1, 2]
        assert opened[0].schema_version() == 2
        opened[0].put_document(DOC, status=DocStatus.READY)
        assert opened[1].get_document("d1") is not None
    finally:
        for cat in opened:
            cat.close()


def test_upgrades_an_unversioned_sqlite_catalog(tmp_path: Path) -> None:
    path = tmp_path / "catalog.db"
    cat = Catalog(url=f"sqlite:///{path}")
    cat.open()
    cat.put_document(DOC, status=DocStatus.READY, item_count=5)
    cat.close()
    with sqlite3.connect(path) as raw:  # what a catalog made before versioning looks like
        raw.execute("DROP TABLE schema_migrations")
        raw.execute("DROP TABLE ingest_tasks")
    again = Catalog(url=f"sqlite:///{path}")
    again.open()
    try:
        assert again.schema_version() == 2
        rec = again.get_document("d1")
        assert rec is not None and rec.item_count == 5
        with again.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM ingest_tasks")).scalar_one() == 0
    finally:
        again.close()


def test_refuses_a_catalog_from_a_newer_vlsearch(catalog_url: str) -> None:
    cat = Catalog(url=catalog_url)
    cat.open()
    with cat.engine.begin() as conn:
        conn.execute(
            text("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', :t)"),
            {"t": "2030-01-01 00:00:00"},
        )
    cat.close()
    with pytest.raises(RuntimeError, match="schema version 99, newer"):
        Catalog(url=catalog_url).open()
