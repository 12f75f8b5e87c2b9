"""Hostile files through the real pipeline, in one batch with a good file: each fails alone, with
a reason naming the problem, and nothing else in the store, the catalog or the disk changes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.hostile.conftest import CONTROL_NAME, EXPECTED
from vlsearch.catalog import DocStatus, FileResult
from vlsearch.demo.writers import Doc, Heading, Para, write_docx
from vlsearch.ids import doc_id_for
from vlsearch.ingest.pipeline import IngestReport
from vlsearch.runtime import Runtime
from vlsearch.types import COLLECTIONS, Query, SearchFilter


def _names(runtime: Runtime, text: str) -> list[str]:
    query = Query(text=text, top_k=5, rerank=False, filters=SearchFilter())
    return [hit.item.name for hit in runtime.search.search(query).hits]


@pytest.fixture(scope="module")
def batch(runtime: Runtime, root: Path, hostile: dict[str, Path], good: Path) -> tuple[IngestReport, float]:
    earlier = write_docx(
        root / "ups.docx",
        Doc(
            title="UPS runbook", blocks=(Heading("UPS"), Para("Battery string B2 is replaced every 4 years."))
        ),
    )
    assert runtime.pipeline.ingest_paths([earlier], groups=("ops",)).results[0].status == "ingested"
    started = time.perf_counter()
    report = runtime.pipeline.ingest_paths([*hostile.values(), good], groups=("ops",))
    return report, time.perf_counter() - started


def _by_name(report: IngestReport) -> dict[str, FileResult]:
    return {r.name: r for r in report.results}


def test_each_hostile_file_fails_alone_with_a_reason(batch: tuple[IngestReport, float]) -> None:
    report, seconds = batch
    results = _by_name(report)
    assert results["chiller.docx"].status == "ingested"
    for name, (status, words) in EXPECTED.items():
        result = results[name]
        assert result.status == status, f"{name}: {result}"
        if status == "failed":
            reason = result.error.lower()
            assert not reason.startswith("internal error"), f"{name}: {reason}"
            for word in words:
                assert word in reason, f"{name}: {word!r} not in {reason!r}"
    # bounded: the duration lie is either refused or read as the two real seconds
    absurd = results["absurd_duration.mp4"]
    assert absurd.status == "ingested" or "video" in absurd.error.lower()
    assert seconds < 60, f"the hostile batch took {seconds:.0f} s"


def test_failures_are_recorded_and_leave_no_rows_or_media(
    runtime: Runtime, batch: tuple[IngestReport, float], hostile: dict[str, Path]
) -> None:
    report, _ = batch
    media = runtime.settings.media_dir
    for result in report.results:
        if result.status != "failed":
            continue
        assert result.doc_id is not None
        record = runtime.catalog.get_document(result.doc_id)
        assert record is not None and record.status == DocStatus.FAILED and record.error == result.error
        assert runtime.store.count(doc_id=result.doc_id) == 0
        assert not (media / result.doc_id).exists()
    # nothing was unpacked anywhere: archive member names never reach the file system
    root = runtime.settings.resolved_allowed_roots[0]
    assert not (root.parent / "evil.txt").exists() and not (root / "evil.txt").exists()
    assert not Path("/tmp/evil_absolute.txt").exists()


def test_good_and_earlier_documents_are_searchable(
    runtime: Runtime, batch: tuple[IngestReport, float]
) -> None:
    assert _names(runtime, "chiller alarm A-41 low refrigerant")[0] == "chiller.docx"
    assert _names(runtime, "battery string B2 replaced")[0] == "ups.docx"
    total = sum(runtime.store.count(c) for c in COLLECTIONS)
    ingested = sum(r.items for r in batch[0].results) + runtime.store.count(
        doc_id=doc_id_for(_source(runtime, "ups.docx"))
    )
    assert total == ingested  # every row belongs to a document that was ingested


def _source(runtime: Runtime, name: str) -> str:
    return str(runtime.settings.resolved_allowed_roots[0] / name)


def test_malformed_pdfs_index_only_their_real_page(
    runtime: Runtime, batch: tuple[IngestReport, float]
) -> None:
    results = _by_name(batch[0])
    for name in ("recursive_pages.pdf", "outline_cycle.pdf", "huge_count.pdf"):
        doc_id = results[name].doc_id
        assert doc_id is not None
        items = runtime.store.get(runtime.store.item_ids(doc_id))
        assert items and {item.locator.page for item in items} == {1}, name
    record = runtime.catalog.get_document(results["recursive_pages.pdf"].doc_id or "")
    assert record is not None and "cannot be loaded" in record.error  # the skipped kids are reported


def test_a_broken_figure_costs_only_the_figure(runtime: Runtime, batch: tuple[IngestReport, float]) -> None:
    result = _by_name(batch[0])["broken_figure.docx"]
    record = runtime.catalog.get_document(result.doc_id or "")
    assert record is not None and record.status == DocStatus.READY
    assert "figure 1" in record.error and "truncated" in record.error
    assert _names(runtime, "slide the rails into rack unit 12")[0] == "broken_figure.docx"


def test_control_characters_never_reach_names_logs_or_reasons(
    runtime: Runtime, batch: tuple[IngestReport, float], hostile: dict[str, Path]
) -> None:
    results = _by_name(batch[0])
    shown = CONTROL_NAME.replace("\n", "_").replace("\u202e", "_")
    result = results[shown]
    assert result.status == "ingested"
    record = runtime.catalog.get_document(result.doc_id or "")
    assert record is not None
    assert record.document.name == shown and record.document.name.isprintable()
    assert record.document.title.isprintable()
    assert record.document.source == str(hostile[CONTROL_NAME])  # the real path, to read it again
    assert _names(runtime, "rotate Kafka broker certificates")[0] == shown
    for r in batch[0].results:
        assert r.name.isprintable() and r.error.isprintable(), r


def test_hostile_upload_names_stay_inside_the_uploads_dir(runtime: Runtime) -> None:
    data_dir = runtime.settings.data_dir.resolve()
    for name in ("../../../../tmp/evil_upload.md", "/etc/passwd", "a\r\nb\u202egpj.md", "..", "\x00"):
        result = runtime.pipeline.ingest_upload(
            name, b"# Note\n\nUpload name test for pumps.\n", groups=("ops",)
        )
        assert result.name.isprintable() and "/" not in result.name and result.name not in ("..", ".")
        stored = list((data_dir / "uploads").rglob(result.name))
        assert stored and all(p.resolve().is_relative_to(data_dir / "uploads") for p in stored)
    assert not Path("/tmp/evil_upload.md").exists()


def test_symlinks_cannot_lead_ingest_outside_the_allowed_roots(
    runtime: Runtime, root: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text("# Secret\n\nPayroll export for the finance team.\n")
    links = root / "links"
    links.mkdir()
    (links / "secret_link.md").symlink_to(outside / "secret.md")
    (links / "outside_dir").symlink_to(outside, target_is_directory=True)
    report = runtime.pipeline.ingest_paths([links, links / "outside_dir" / "secret.md"], groups=("ops",))
    assert report.results and all(r.status == "failed" for r in report.results), report.results
    assert all("outside the allowed roots" in r.error for r in report.results)
    assert not any("secret" in name for name in _names(runtime, "payroll export finance team"))
