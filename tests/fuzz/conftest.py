"""Seed files for the extractor fuzz run: one small real file per format, written once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fuzz.seeds import write_seeds


@pytest.fixture(scope="session")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    return write_seeds(tmp_path_factory.mktemp("fuzz-seeds"))


@pytest.fixture(scope="session")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-cases")
