"""Line boxes and page previews stored at ingest, and what search makes of them.

Real pipeline, real Milvus Lite, real OCR: a PDF with a text page and a scanned page, a slide deck
of pictures and a DOCX (no positions)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from vlsearch.eval.grounding_set import Source, _q, _t, _u, _write_pdf, _write_slides
from vlsearch.evidence.boxes import NO_LINES
from vlsearch.runtime import Runtime
from vlsearch.types import Item, Modality, Query

from .conftest import make_settings

PAGE_1 = _u(
    _t("Fan tray maintenance"),
    "Each chassis holds one fan tray with six fans.",
    _q("Replace the fan tray FT-220 every 24 months.", "how often is the fan tray replaced"),
    "Clean the intake filter monthly with dry air.",
)
SLIDE = _u(_t("Backup policy"), "Full backup every Sunday at 01:00", "Incremental backups nightly at 23:30")


def _scanned_pdf(path: Path) -> Path:
    from vlsearch.demo.writers import Doc, Para, ScannedPage, text_png, write_pdf

    return write_pdf(
        path,
        Doc(
            title="Warranty records",
            blocks=(
                Para("The card below was scanned from the original."),
                ScannedPage(text_png(["Warranty card", "Serial number SN-4471-B", "Support extension 5512"])),
            ),
        ),
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from vlsearch.demo.writers import Doc, Para, write_docx

    folder = tmp_path_factory.mktemp("evidence-files")
    out = {
        "pdf": folder / "fans.pdf",
        "scan": _scanned_pdf(folder / "warranty.pdf"),
        "deck": folder / "backup.pptx",
        "docx": write_docx(
            folder / "notes.docx", Doc("Notes", (Para("Replace the fan tray when it rattles."),))
        ),
    }
    _write_pdf(out["pdf"], Source("p", "pdf", "fans.pdf", (PAGE_1, _u("Second page about noise levels"))))
    _write_slides(out["deck"], Source("s", "slides", "backup.pptx", (SLIDE,)))
    return out


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, files: dict[str, Path]) -> Path:
    """A data dir with the files ingested; the Runtime is closed again (tests reopen it)."""
    tmp = tmp_path_factory.mktemp("evidence")
    settings = make_settings(tmp, extract_timeout_s=0)
    root = settings.resolved_allowed_roots[0]
    for path in files.values():
        shutil.copy(path, root / path.name)
    rt = Runtime.from_settings(settings)
    rt.start()
    try:
        report = rt.pipeline.ingest_paths(sorted(root.iterdir()), groups=("ops",))
        assert all(r.status == "ingested" for r in report.results), report.results
    finally:
        rt.close()
    return tmp


@pytest.fixture(scope="module")
def runtime(deployment: Path) -> Iterator[Runtime]:
    """The data dir opened again, as after a restart."""
    rt = Runtime.from_settings(make_settings(deployment, extract_timeout_s=0))
    rt.start()
    yield rt
    rt.close()


def _items(rt: Runtime, name: str) -> list[Item]:
    return [
        i
        for c in ("chunks", "images", "frames")
        for batch, _ in rt.store.iter_items(c)
        for i in batch
        if i.name == name
    ]


def test_pdf_text_rows_show_their_page_with_their_lines(runtime: Runtime) -> None:
    rows = [i for i in _items(runtime, "fans.pdf") if i.modality is Modality.TEXT]
    assert {i.locator.page for i in rows} == {1, 2}
    for item in rows:
        assert item.media.endswith(f"page-{item.locator.page:05d}.jpg") and item.thumbnail.endswith(
            ".thumb.jpg"
        )
        assert (runtime.settings.data_dir / item.media).is_file()
        assert item.lines
        for line in item.lines:
            assert 0 <= line.start < line.end <= len(item.text)
            assert all(0 <= v <= 1 for v in line.box)
    page_1 = next(i for i in rows if i.locator.page == 1)
    texts = [page_1.text[line.start : line.end] for line in page_1.lines]
    assert "Replace the fan tray FT-220 every 24 months." in texts


def test_scanned_pages_slide_pictures_and_docx(runtime: Runtime) -> None:
    scan = _items(runtime, "warranty.pdf")
    image = next(i for i in scan if i.modality is Modality.IMAGE)
    ocr_chunks = [i for i in scan if i.modality is Modality.TEXT and i.locator.page == image.locator.page]
    assert image.lines and ocr_chunks
    assert all(c.media == image.media and c.lines for c in ocr_chunks)  # the scan is their page
    slide = next(i for i in _items(runtime, "backup.pptx") if i.modality is Modality.IMAGE)
    assert {slide.text[line.start : line.end] for line in slide.lines} >= {
        "Full backup every Sunday at 01:00"
    }
    docx = _items(runtime, "notes.docx")
    assert docx and all(not i.lines and not i.media for i in docx)


def test_search_after_a_restart_boxes_the_answer_line(runtime: Runtime) -> None:
    query = Query(text="how often is the fan tray replaced", top_k=5, rerank=False)
    result = runtime.search.search(query)
    assert "highlight" in result.timings_ms
    # highlighting only annotates: the same search without it ranks and scores the same rows
    plain = runtime.search.with_highlighter(None).search(query)
    assert "highlight" not in plain.timings_ms and all(h.evidence is None for h in plain.hits)
    assert [(h.item.id, h.rank, h.score) for h in plain.hits] == [
        (h.item.id, h.rank, h.score) for h in result.hits
    ]
    hit = result.hits[0]
    assert hit.item.name == "fans.pdf" and hit.evidence is not None
    best = hit.evidence.highlights[0]
    assert best.text == "Replace the fan tray FT-220 every 24 months."
    assert 0 < best.score <= 1
    docx = next(h for h in result.hits if h.item.name == "notes.docx")
    assert docx.evidence is not None and docx.evidence.highlights == ()
    marked = {docx.evidence.snippet[a:b].lower() for a, b in docx.evidence.snippet_spans}
    assert {"fan", "tray"} <= marked


def test_boxes_do_not_change_row_ids(runtime: Runtime, tmp_path: Path, monkeypatch) -> None:
    """The same files ingested with positions switched off give the same row ids."""
    import vlsearch.ingest.extractors.pdf as pdf_extractor
    import vlsearch.ingest.visual as visual

    monkeypatch.setattr(pdf_extractor, "page_lines", lambda *a, **k: ())
    monkeypatch.setattr(visual, "text_lines", lambda result: ())
    root = runtime.settings.resolved_allowed_roots[0]
    names = ("fans.pdf", "backup.pptx")
    plain = Runtime.from_settings(make_settings(tmp_path, extract_timeout_s=0, allowed_roots=[root]))
    plain.start()
    try:
        report = plain.pipeline.ingest_paths([root / n for n in names], groups=("ops",))
        assert all(r.status == "ingested" for r in report.results)
        without = {i.id for n in names for i in _items(plain, n)}
        assert without and not any(i.lines for n in names for i in _items(plain, n))
    finally:
        plain.close()
    assert without == {i.id for n in names for i in _items(runtime, n)}


def test_rows_stored_without_lines_still_search_with_snippet_marks(runtime: Runtime) -> None:
    """Rows written before positions existed (no `lines` in their locator): they load, search and
    show no boxes, only their snippet's marks."""
    import numpy as np

    query = Query(text="how often is the fan tray replaced", top_k=5, rerank=False)
    current = runtime.search.search(query).hits[0]
    item = current.item
    (stored,) = [i for i in _items(runtime, "fans.pdf") if i.id == item.id]
    vectors = list(runtime.store.iter_items("chunks", with_vectors=True))
    vector = next(v[k] for batch, v in vectors for k, i in enumerate(batch) if i.id == item.id)
    old = replace(stored, lines=NO_LINES)
    runtime.store.upsert([old], np.asarray([vector], dtype=np.float32))
    try:
        hit = runtime.search.search(query).hits[0]
        assert hit.item.id == item.id and not hit.item.lines
        assert hit.evidence is not None and hit.evidence.highlights == () and hit.evidence.snippet_spans
    finally:
        runtime.store.upsert([stored], np.asarray([vector], dtype=np.float32))
    assert runtime.search.search(query).hits[0].evidence.highlights  # type: ignore[union-attr]


def test_a_shorter_version_removes_the_pages_it_lost_and_keeps_shared_previews(runtime: Runtime) -> None:
    """Runs last: it replaces fans.pdf. Page 1's preview is shared by its rows and must stay."""
    root = runtime.settings.resolved_allowed_roots[0]
    before = {i.locator.page: i.media for i in _items(runtime, "fans.pdf")}
    assert set(before) == {1, 2}
    _write_pdf(root / "fans.pdf", Source("p", "pdf", "fans.pdf", (PAGE_1,)))
    (result,) = runtime.pipeline.ingest_paths([root / "fans.pdf"], groups=("ops",)).results
    assert result.status == "ingested"
    after = _items(runtime, "fans.pdf")
    assert {i.locator.page for i in after} == {1}
    data = runtime.settings.data_dir
    assert (data / before[1]).is_file() and all((data / i.media).is_file() for i in after)
    assert not (data / before[2]).exists()
