"""End-to-end ingestion through the real pipeline: good files land, bad files fail alone."""

from __future__ import annotations

import io
from pathlib import Path

from pypdf import PdfWriter

from vlsearch.catalog import DocStatus
from vlsearch.demo.writers import Doc, Heading, Para, write_docx, write_pdf
from vlsearch.ids import doc_id_for
from vlsearch.runtime import Runtime
from vlsearch.types import COLLECTIONS, Query, SearchFilter


def _manual(title: str, body: str) -> Doc:
    return Doc(title=title, blocks=(Heading(title), Para(body)))


def _encrypted_pdf(path: Path, source: Path) -> Path:
    from pypdf import PdfReader

    writer = PdfWriter()
    for page in PdfReader(source).pages:
        writer.add_page(page)
    writer.encrypt("secret")
    buf = io.BytesIO()
    writer.write(buf)
    path.write_bytes(buf.getvalue())
    return path


def _search(runtime: Runtime, text: str, **filters: object) -> list[str]:
    query = Query(text=text, top_k=5, rerank=False, filters=SearchFilter(**filters))  # type: ignore[arg-type]
    return [hit.item.name for hit in runtime.search.search(query).hits]


def test_bad_files_fail_alone_with_reasons(runtime: Runtime, root: Path, tmp_path: Path) -> None:
    good_pdf = write_pdf(
        root / "pump_manual.pdf", _manual("Pump P-200 manual", "Prime the pump P-200 before start.")
    )
    good_docx = write_docx(
        root / "chiller.docx", _manual("Chiller guide", "The chiller CH-9 alarm A-41 means low refrigerant.")
    )
    corrupt = root / "corrupt.pdf"
    corrupt.write_bytes(good_pdf.read_bytes()[:300])
    encrypted = _encrypted_pdf(root / "locked.pdf", good_pdf)
    empty = root / "empty.txt"
    empty.write_bytes(b"")
    junk = root / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 8)
    big = root / "big.txt"
    big.write_text("word " * 300_000)  # 1.5 MB with max_file_mb=1
    outside = tmp_path / "outside.txt"
    outside.write_text("secret outside the allowed roots")

    files = [good_pdf, corrupt, encrypted, empty, junk, big, outside, good_docx]
    report = runtime.pipeline.ingest_paths(files, groups=("public",))
    by_name = {Path(r.name).name: r for r in report.results}

    assert by_name["pump_manual.pdf"].status == "ingested"
    assert by_name["chiller.docx"].status == "ingested"
    reasons = {name: by_name[name].error.lower() for name in by_name if by_name[name].status == "failed"}
    assert set(reasons) == {"corrupt.pdf", "locked.pdf", "empty.txt", "junk.bin", "big.txt", "outside.txt"}
    assert "encrypt" in reasons["locked.pdf"] or "password" in reasons["locked.pdf"]
    assert "empty" in reasons["empty.txt"]
    assert "1 mb" in reasons["big.txt"] and "limit" in reasons["big.txt"]
    assert "allowed roots" in reasons["outside.txt"]
    assert reasons["corrupt.pdf"] and reasons["junk.bin"]

    # failures are recorded in the catalog with their reason; the good files are searchable
    failed = runtime.catalog.get_document(doc_id_for(str(corrupt.resolve())))
    assert failed is not None and failed.status == DocStatus.FAILED and failed.error
    assert _search(runtime, "chiller alarm A-41 low refrigerant")[0] == "chiller.docx"
    assert _search(runtime, "prime the pump before start")[0] == "pump_manual.pdf"
    assert "outside.txt" not in _search(runtime, "secret outside")


def test_reingest_is_idempotent_and_changes_replace_rows(runtime: Runtime, root: Path) -> None:
    path = write_docx(
        root / "ups.docx", _manual("UPS runbook", "Battery string B2 must be replaced every 4 years.")
    )
    first = runtime.pipeline.ingest_paths([path], groups=("public",)).results[0]
    assert first.status == "ingested" and first.items > 0
    doc_id = first.doc_id
    assert doc_id is not None
    before = runtime.store.count(doc_id=doc_id)

    again = runtime.pipeline.ingest_paths([path], groups=("public",)).results[0]
    assert again.status == "unchanged"
    assert runtime.store.count(doc_id=doc_id) == before

    write_docx(path, _manual("UPS runbook", "Battery string B7 is replaced every 3 years after the recall."))
    changed = runtime.pipeline.ingest_paths([path], groups=("public",)).results[0]
    assert changed.status == "ingested"
    texts = " ".join(item.text for item in runtime.store.get(runtime.store.item_ids(doc_id)))
    assert "B7" in texts and "B2" not in texts
    record = runtime.catalog.get_document(doc_id)
    assert record is not None and record.status == DocStatus.READY and record.item_count == changed.items


def test_failed_update_keeps_the_indexed_version(runtime: Runtime, root: Path) -> None:
    path = write_pdf(root / "cooling.pdf", _manual("Cooling", "CRAC unit C-3 filter swap every quarter."))
    ok = runtime.pipeline.ingest_paths([path], groups=("public",)).results[0]
    assert ok.status == "ingested"
    path.write_bytes(b"%PDF-1.7\n garbage that is not a pdf")
    bad = runtime.pipeline.ingest_paths([path], groups=("public",)).results[0]
    assert bad.status == "failed"
    assert ok.doc_id is not None
    assert runtime.store.count(doc_id=ok.doc_id) == ok.items
    record = runtime.catalog.get_document(ok.doc_id)
    assert record is not None and record.status == DocStatus.READY
    assert "previous version kept" in record.error
    assert _search(runtime, "CRAC filter swap")[0] == "cooling.pdf"


def test_delete_removes_rows_everywhere(runtime: Runtime, root: Path) -> None:
    path = write_pdf(root / "gone.pdf", _manual("Obsolete", "Token ring adapter TR-16 setup."))
    result = runtime.pipeline.ingest_paths([path], groups=("public",)).results[0]
    assert result.doc_id is not None
    assert runtime.pipeline.delete_document(result.doc_id)
    assert runtime.catalog.get_document(result.doc_id) is None
    for name in COLLECTIONS:
        assert runtime.store.count(name, doc_id=result.doc_id) == 0
    assert "gone.pdf" not in _search(runtime, "token ring adapter TR-16")


def test_upload_names_cannot_escape_the_data_dir(runtime: Runtime) -> None:
    result = runtime.pipeline.ingest_upload(
        "../../etc/\x00evil\n name.md", b"# Escape\n\nUploaded runbook for switch SW-44.", groups=("public",)
    )
    assert result.status == "ingested", result.error
    assert "/" not in result.name and "\n" not in result.name and "\x00" not in result.name
    uploads = runtime.settings.data_dir.resolve() / "uploads"
    stored = [p for p in uploads.rglob("*") if p.is_file()]
    assert stored and all(p.resolve().is_relative_to(uploads) for p in stored)
    assert _search(runtime, "switch SW-44 runbook")[0] == result.name


def test_groups_filter_reaches_the_store(runtime: Runtime, root: Path) -> None:
    path = write_docx(root / "hr_salaries.docx", _manual("Salary bands", "Band S4 ranges are confidential."))
    runtime.pipeline.ingest_paths([path], groups=("hr",))
    assert "hr_salaries.docx" in _search(runtime, "salary band S4", groups=("hr",))
    assert "hr_salaries.docx" not in _search(runtime, "salary band S4", groups=("public",))
    assert _search(runtime, "salary band S4", groups=()) == []
