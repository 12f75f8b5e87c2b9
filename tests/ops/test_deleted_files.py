"""A deleted document leaves nothing on disk; `vlsearch doctor` finds kept uploads no document
refers to and `--repair` removes them; exports carry only files a row or a document refers to.

Runs on the session's shared deployment and leaves it as it found it (test_doctor counts on that)."""

from __future__ import annotations

from pathlib import Path

from tests.ops.conftest import Deployment
from tests.ops.corpus import markdown_doc
from vlsearch.ops import doctor as d
from vlsearch.ops.backup import export_deployment
from vlsearch.ops.doctor import Doctor


def _files(root: Path) -> set[str]:
    return (
        {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} if root.is_dir() else set()
    )


def test_delete_removes_the_original_and_doctor_and_export_handle_leftovers(
    deployment: Deployment, tmp_path: Path
) -> None:
    rt = deployment.runtime
    data = rt.settings.data_dir
    text = markdown_doc(tmp_path / "shift.md", 3).read_bytes()
    uploads_before = _files(data / "uploads")
    first = rt.pipeline.ingest_upload("shift handover.md", text, groups=("ops",))
    second = rt.pipeline.ingest_upload("shift handover.md", text + b"\nA second version.\n", groups=("ops",))
    assert first.status == second.status == "ingested" and first.doc_id == second.doc_id
    assert first.doc_id is not None
    # the replaced version's original is gone, the current one is kept
    assert len(_files(data / "uploads") - uploads_before) == 1

    assert rt.pipeline.delete_document(first.doc_id)
    assert _files(data / "uploads") == uploads_before
    assert not (rt.settings.media_dir / first.doc_id).exists()

    # what deletes left behind before they removed originals: a file no document refers to
    stray = data / "uploads" / ("0f" * 12) / "old-report.md"
    stray.parent.mkdir(parents=True)
    stray.write_text("# Old report\n\nA deleted document's text.\n", encoding="utf-8")
    doctor = Doctor(settings=rt.settings, catalog=rt.catalog, store=rt.store, pipeline=rt.pipeline)
    report = doctor.check()
    assert report.counts() == {d.ORPHAN_UPLOADS: 1}, report.problems
    assert "old-report.md" in report.problems[0].detail

    dest = tmp_path / "export"
    manifest = export_deployment(settings=rt.settings, catalog=rt.catalog, store=rt.store, dest=dest)
    exported = _files(dest / "files")
    assert f"uploads/{'0f' * 12}/old-report.md" not in exported
    assert {f"uploads/{p}" for p in _files(data / "uploads")} - exported == {
        f"uploads/{'0f' * 12}/old-report.md"
    }
    assert manifest.files == len(exported)

    repaired = doctor.repair()
    assert repaired.clean, repaired.problems
    assert any("old-report.md" in line for line in repaired.repairs)
    assert not stray.parent.exists()
