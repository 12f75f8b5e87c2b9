"""alembic migrations: a fresh catalog and one made by the pre-alembic code both reach the head
revision with exactly the tables the queries are written against; concurrent opens migrate once;
a catalog from a newer vlsearch is refused."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from tests.catalog.legacy_catalog import make_legacy_catalog
from vlsearch.catalog import Catalog, DocStatus, FileResult, FileStatus, JobStatus, schema
from vlsearch.catalog.tables import metadata
from vlsearch.types import Document

DOC = Document(id="d1", source="/srv/a.pdf", name="a.pdf", sha256="0" * 64, doc_type="pdf", groups=("eng",))
HEAD = "0003"


def _schema_diff(url: str) -> list[object]:
    """What alembic autogenerate would still have to change to reach `tables.py` (empty = same)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(ctx, metadata))
    finally:
        engine.dispose()


def _tables(cat: Catalog) -> set[str]:
    return set(inspect(cat.engine).get_table_names())


def test_head_is_the_last_revision() -> None:
    assert schema.head_revision() == HEAD
    chain = [s.revision for s in schema.script().walk_revisions()]
    assert chain == ["0003", "0002", "0001"]


def test_fresh_catalog_reaches_head_and_matches_the_tables(catalog_url: str) -> None:
    cat = Catalog(url=catalog_url)
    cat.open()
    try:
        assert cat.schema_revision() == HEAD and cat.schema_version() == 3
        assert _tables(cat) == set(metadata.tables) | {"alembic_version"}
    finally:
        cat.close()
    assert _schema_diff(catalog_url) == []


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
        with opened[0].engine.connect() as conn:
            assert list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars()) == [HEAD]
        opened[0].put_document(DOC, status=DocStatus.READY)
        assert opened[1].get_document("d1") is not None
    finally:
        for cat in opened:
            cat.close()


def test_upgrades_a_catalog_made_by_the_pre_alembic_code(catalog_url: str) -> None:
    make_legacy_catalog(catalog_url, version=2)
    cat = Catalog(url=catalog_url)
    cat.open()
    try:
        assert cat.schema_revision() == HEAD
        assert "schema_migrations" not in _tables(cat)
        rec = cat.get_document("d1")
        assert rec is not None and rec.item_count == 5 and rec.document.groups == ("eng",)
        assert rec.status is DocStatus.READY
        job = cat.get_job("j1")
        assert job is not None and job.status is JobStatus.RUNNING and job.groups == ("eng",)
        assert [r.status for r in job.results] == [FileStatus.INGESTED]
        assert cat.row_count("ingest_tasks") == 1
        # the old rows keep working with new writes (the PostgreSQL sequence continues past them)
        cat.add_job_result("j1", FileResult("b.pdf", FileStatus.FAILED, None, "bad", 0))
        with cat.transaction() as conn:
            assert cat.finish_job_if_complete(conn, "j1") is JobStatus.DONE
    finally:
        cat.close()
    assert _schema_diff(catalog_url) == []


@pytest.mark.parametrize("version", [0, 1])
def test_upgrades_older_pre_alembic_catalogs(tmp_path: Path, version: int) -> None:
    """Version 1 (no task queue yet) and the first catalogs, which recorded no version at all."""
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    make_legacy_catalog(url, version=version)
    cat = Catalog(url=url)
    cat.open()
    try:
        assert cat.schema_revision() == HEAD
        assert cat.row_count("ingest_tasks") == 0
        rec = cat.get_document("d1")
        assert rec is not None and rec.item_count == 5
    finally:
        cat.close()
    assert _schema_diff(url) == []


def test_downgrade_to_nothing_and_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    cat = Catalog(url=url)
    cat.open()
    cat.close()
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            cfg = schema._config(conn)
            command.downgrade(cfg, "0002")
            assert "schema_migrations" in inspect(conn).get_table_names()  # what the old code expects
            command.downgrade(cfg, "base")
            assert set(inspect(conn).get_table_names()) == {"alembic_version"}
    finally:
        engine.dispose()
    again = Catalog(url=url)
    again.open()
    try:
        assert again.schema_revision() == HEAD
    finally:
        again.close()
    assert _schema_diff(url) == []


def test_refuses_a_catalog_from_a_newer_vlsearch(catalog_url: str) -> None:
    cat = Catalog(url=catalog_url)
    cat.open()
    with cat.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    cat.close()
    with pytest.raises(RuntimeError, match="schema revision 0099, newer"):
        Catalog(url=catalog_url).open()


def test_refuses_a_pre_alembic_catalog_from_a_newer_hand_rolled_version(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    make_legacy_catalog(url, version=2)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', :t)"),
            {"t": "2030-01-01 00:00:00"},
        )
    engine.dispose()
    with pytest.raises(RuntimeError, match="schema version 99, newer"):
        Catalog(url=url).open()
