"""SourceRef reads and writes the source strings the catalog and Milvus rows already hold."""

from __future__ import annotations

import pytest

from vlsearch.media.stored import upload_source
from vlsearch.source_ref import SourceKind, SourceRef


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
