from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from vlsearch.catalog import Catalog, DocStatus, FileResult, JobStatus
from vlsearch.errors import NotFoundError
from vlsearch.types import Document


def _doc(
    i: int | str, *, groups: tuple[str, ...] = ("eng",), doc_type: str = "pdf", name: str = ""
) -> Document:
    return Document(
        id=f"d{i}",
        source=f"/srv/docs/{i}.{doc_type}",
        name=name or f"manual-{i}.{doc_type}",
        sha256=f"{i}".rjust(64, "0"),
        doc_type=doc_type,
        groups=groups,
        size_bytes=100 + len(str(i)),
        title=f"Manual {i}",
    )


def test_put_get_and_replace(catalog: Catalog) -> None:
    before = datetime.now(UTC)
    rec = catalog.put_document(_doc(1, groups=("ops", "eng")), status=DocStatus.INDEXING)
    assert rec.document == _doc(1, groups=("eng", "ops"))  # groups come back sorted
    assert rec.status is DocStatus.INDEXING and rec.item_count == 0 and rec.error == ""
    assert rec.created_at.tzinfo is not None and rec.created_at.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=1) <= rec.created_at <= datetime.now(UTC)
    assert catalog.get_document("d1") == rec

    changed = Document(**{**_doc(1).__dict__, "sha256": "f" * 64, "groups": ("hr",)})
    again = catalog.put_document(changed, status=DocStatus.READY, item_count=7)
    assert again.created_at == rec.created_at
    assert again.updated_at >= rec.updated_at
    assert again.document.sha256 == "f" * 64 and again.document.groups == ("hr",)
    assert again.item_count == 7 and again.status is DocStatus.READY
    assert catalog.get_document("nope") is None


def test_find_by_source(catalog: Catalog) -> None:
    catalog.put_document(_doc(2), status=DocStatus.READY)
    found = catalog.find_by_source("/srv/docs/2.pdf")
    assert found is not None and found.document.id == "d2"
    assert catalog.find_by_source("/srv/docs/none.pdf") is None


def test_set_status(catalog: Catalog) -> None:
    catalog.put_document(_doc(3), status=DocStatus.INDEXING)
    catalog.set_status("d3", DocStatus.FAILED, error="extraction failed: encrypted PDF")
    rec = catalog.get_document("d3")
    assert rec is not None and rec.status is DocStatus.FAILED
    assert rec.error == "extraction failed: encrypted PDF" and rec.item_count == 0
    catalog.set_status("d3", DocStatus.READY, item_count=12)
    rec = catalog.get_document("d3")
    assert rec is not None and (rec.status, rec.error, rec.item_count) == (DocStatus.READY, "", 12)
    with pytest.raises(NotFoundError, match="d404"):
        catalog.set_status("d404", DocStatus.READY)


def test_list_paging_is_complete_and_stable(catalog: Catalog) -> None:
    for i in range(25):
        catalog.put_document(_doc(i), status=DocStatus.READY)
    seen: list[str] = []
    for offset in (0, 10, 20):
        rows, total = catalog.list_documents(groups=None, offset=offset, limit=10)
        assert total == 25
        seen.extend(r.document.id for r in rows)
    assert len(seen) == 25 and set(seen) == {f"d{i}" for i in range(25)}
    assert seen[0] == "d24"  # newest first
    rows, total = catalog.list_documents(groups=None, offset=30, limit=10)
    assert (rows, total) == ([], 25)


def test_list_filters(catalog: Catalog) -> None:
    catalog.put_document(_doc("a", groups=("eng",), name="Pump_Manual.pdf"), status=DocStatus.READY)
    catalog.put_document(_doc("b", groups=("ops", "eng"), doc_type="docx"), status=DocStatus.READY)
    catalog.put_document(
        _doc("c", groups=("hr",), name="100% coffee.txt", doc_type="text"), status=DocStatus.FAILED
    )
    catalog.put_document(_doc("d", groups=()), status=DocStatus.PENDING)

    def ids(**kw: object) -> tuple[list[str], int]:
        rows, total = catalog.list_documents(**kw)  # type: ignore[arg-type]
        return sorted(r.document.id for r in rows), total

    assert ids(groups=None) == (["da", "db", "dc", "dd"], 4)
    assert ids(groups=("eng",)) == (["da", "db"], 2)
    assert ids(groups=("ops", "hr")) == (["db", "dc"], 2)
    assert ids(groups=("nobody",)) == ([], 0)
    assert ids(groups=()) == ([], 0)
    assert ids(groups=None, doc_type="docx") == (["db"], 1)
    assert ids(groups=None, status=DocStatus.FAILED) == (["dc"], 1)
    assert ids(groups=("eng",), status=DocStatus.FAILED) == ([], 0)
    assert ids(groups=None, query="pump_man") == (["da"], 1)  # case-insensitive
    assert ids(groups=None, query="100%") == (["dc"], 1)  # % is literal
    assert ids(groups=None, query="_") == (["da"], 1)  # _ is literal
    rows, _ = catalog.list_documents(groups=("ops",))
    assert rows[0].document.groups == ("eng", "ops")  # all its groups, not just the matching one


def test_delete_and_status_counts(catalog: Catalog) -> None:
    catalog.put_document(_doc(1), status=DocStatus.READY)
    catalog.put_document(_doc(2), status=DocStatus.READY)
    catalog.put_document(_doc(3), status=DocStatus.FAILED)
    assert catalog.status_counts() == {"pending": 0, "indexing": 0, "ready": 2, "failed": 1}
    assert catalog.delete_document("d1") is True
    assert catalog.delete_document("d1") is False
    assert catalog.get_document("d1") is None
    assert catalog.list_documents(groups=("eng",))[1] == 2
    assert catalog.status_counts()["ready"] == 1


def test_jobs(catalog: Catalog) -> None:
    job = catalog.create_job(total=3, groups=("eng", "ops"))
    assert job.status is JobStatus.QUEUED and job.done == 0 and job.results == ()
    catalog.add_job_result(job.id, FileResult("a.pdf", "ingested", "da", "", 12))
    catalog.add_job_result(job.id, FileResult("b.pdf", "unchanged", "db", "", 0))
    catalog.add_job_result(job.id, FileResult("c.bin", "failed", None, "unsupported type", 0))
    mid = catalog.get_job(job.id)
    assert mid is not None and mid.status is JobStatus.RUNNING and mid.done == 3
    catalog.finish_job(job.id, status=JobStatus.DONE)
    done = catalog.get_job(job.id)
    assert done is not None
    assert done.status is JobStatus.DONE and done.groups == ("eng", "ops") and done.total == 3
    assert [r.name for r in done.results] == ["a.pdf", "b.pdf", "c.bin"]
    assert done.results[2] == FileResult("c.bin", "failed", None, "unsupported type", 0)
    assert done.created_at == job.created_at and done.updated_at >= job.updated_at
    assert catalog.get_job("missing") is None
    with pytest.raises(NotFoundError):
        catalog.add_job_result("missing", FileResult("x", "failed", None, "", 0))
    with pytest.raises(NotFoundError):
        catalog.finish_job("missing", status=JobStatus.FAILED)
    with pytest.raises(ValueError, match="file status"):
        catalog.add_job_result(job.id, FileResult("x", "weird", None, "", 0))  # type: ignore[arg-type]


def test_concurrent_writers_lose_nothing(catalog: Catalog) -> None:
    job = catalog.create_job(total=80, groups=())
    errors: list[BaseException] = []

    def worker(w: int) -> None:
        try:
            for i in range(20):
                catalog.add_job_result(job.id, FileResult(f"{w}-{i}", "ingested", None, "", 1))
                catalog.put_document(_doc(f"{w}x{i}"), status=DocStatus.READY)
        except BaseException as exc:  # surfaced by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    got = catalog.get_job(job.id)
    assert got is not None and got.done == 80 and len(got.results) == 80
    assert catalog.list_documents(groups=None, limit=1)[1] == 80


def test_persists_across_reopen_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "catalog.db"
    first = Catalog(url=f"sqlite:///{path}")
    first.open()
    first.put_document(_doc(9), status=DocStatus.READY, item_count=4)
    first.close()
    second = Catalog(url=f"sqlite:///{path}")
    second.open()
    try:
        rec = second.get_document("d9")
        assert rec is not None and rec.item_count == 4 and rec.created_at.tzinfo is not None
    finally:
        second.close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_unopened_and_bad_urls(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="open"):
        Catalog(url=f"sqlite:///{tmp_path / 'c.db'}").get_document("x")
    with pytest.raises(ValueError, match="names no file"):
        Catalog(url="sqlite://").open()
