"""SourceRef reads and writes the source strings the catalog and Milvus rows already hold, finds the
document's stored copy and names the API URLs its original is served at."""

from __future__ import annotations

from pathlib import Path

import pytest

from vlsearch.media.stored import upload_source
from vlsearch.source_ref import SourceKind, SourceRef, media_url, upload_version_path


@pytest.mark.parametrize(
    ("source", "kind", "value"),
    [
        ("/srv/docs/a.pdf", SourceKind.FILE, "/srv/docs/a.pdf"),
        ("upload:eng,ops/a.pdf", SourceKind.UPLOAD, "eng,ops/a.pdf"),
        ("upload:/a:b.pdf", SourceKind.UPLOAD, "/a:b.pdf"),
        ("record:q-17", SourceKind.RECORD, "q-17"),
        ("", SourceKind.NONE, ""),
        ("uploads/x.pdf", SourceKind.FILE, "uploads/x.pdf"),  # a relative path, not the prefix
    ],
)
def test_round_trip(source: str, kind: SourceKind, value: str) -> None:
    ref = SourceRef.parse(source)
    assert (ref.kind, ref.value) == (kind, value)
    assert str(ref) == source
    assert ref.keeps_original is (kind is SourceKind.UPLOAD)
    assert ref.path_on_disk == (source if kind is SourceKind.FILE else None)


def test_upload_identity_is_name_and_group_set() -> None:
    assert str(SourceRef.upload("a.pdf", ["ops", "eng", "ops"])) == "upload:eng,ops/a.pdf"
    assert upload_source("a.pdf", ("eng", "ops")) == str(SourceRef.upload("a.pdf", ("ops", "eng")))
    assert str(SourceRef.record("d-1")) == "record:d-1"


def test_stored_copy_finds_the_kept_upload_in_either_layout(tmp_path: Path) -> None:
    ref = SourceRef.upload("a.pdf", ["eng"])
    sha = "ab" * 32
    assert ref.stored_copy(tmp_path, doc_id="d1", sha256=sha, name="a.pdf") is None  # nothing kept
    legacy = tmp_path / "uploads" / sha[:24] / "a.pdf"
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(b"old layout")
    assert ref.stored_copy(tmp_path, doc_id="d1", sha256=sha, name="a.pdf") == legacy
    current = tmp_path / "uploads" / "d1" / sha[:24] / "a.pdf"
    current.parent.mkdir(parents=True)
    current.write_bytes(b"per-document layout")
    assert ref.stored_copy(tmp_path, doc_id="d1", sha256=sha, name="a.pdf") == current
    assert current == upload_version_path(tmp_path, "d1", sha, "a.pdf")
    # no recorded version, no name, or another version: nothing to read
    assert ref.stored_copy(tmp_path, doc_id="d1", sha256="", name="a.pdf") is None
    assert ref.stored_copy(tmp_path, doc_id="d1", sha256=sha, name="") is None
    assert ref.stored_copy(tmp_path, doc_id="d1", sha256="cd" * 32, name="a.pdf") is None


def test_stored_copy_of_a_file_is_its_source_path_while_it_is_there(tmp_path: Path) -> None:
    source = tmp_path / "docs" / "b.txt"
    ref = SourceRef.parse(str(source))
    assert ref.stored_copy(tmp_path, doc_id="d2", sha256="ef" * 32, name="b.txt") is None
    source.parent.mkdir()
    source.write_text("hello")
    assert ref.stored_copy(tmp_path, doc_id="d2", sha256="ef" * 32, name="b.txt") == source
    assert ref.stored_copy(tmp_path, doc_id="d2", sha256="", name="b.txt") is None  # never indexed
    assert SourceRef.record("r1").stored_copy(tmp_path, doc_id="d3", sha256="ef" * 32, name="r") is None


@pytest.mark.parametrize(
    ("source", "page", "expected"),
    [
        ("upload:eng/a.pdf", 3, "/v1/media/i1?kind=original#page=3"),
        ("upload:eng/a.png", None, "/v1/media/i1?kind=original"),
        ("/srv/docs/a.pdf", 0, "/v1/media/i1?kind=original"),
        ("docs/a.pdf", None, None),  # a relative path is never served
        ("record:r1", None, None),
        ("", None, None),
    ],
)
def test_original_url_is_where_the_media_route_serves_it(
    source: str, page: int | None, expected: str | None
) -> None:
    ref = SourceRef.parse(source)
    assert ref.original_url("i1", page=page) == expected
    assert ref.serves_original is (expected is not None)


def test_the_urls_are_the_api_routes() -> None:
    from vlsearch.api.routers import documents, media

    route = media.router.url_path_for("get_media", item_id="i1")
    assert media_url("i1", "thumbnail") == f"{route}?kind=thumbnail"
    assert SourceRef.upload("a.pdf", ["eng"]).original_url("i1") == f"{route}?kind=original"
    download = documents.router.url_path_for("get_original", doc_id="d1")
    assert SourceRef.upload("a.pdf", ["eng"]).download_url("d1", sha256="ab" * 32) == download
    # the documents list offers a download for uploads with a recorded version only
    assert SourceRef.upload("a.pdf", ["eng"]).download_url("d1", sha256="") is None
    assert SourceRef.parse("/srv/docs/a.pdf").download_url("d1", sha256="ab" * 32) is None
