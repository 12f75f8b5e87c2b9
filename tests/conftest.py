"""Session-wide test environment (offline hubs, no telemetry) and the fixtures several areas share."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# every test app would otherwise load models in the background; tests that want it say so
os.environ.setdefault("VLSEARCH_PRELOAD_EMBEDDER", "false")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """One throwaway PostgreSQL server per session (catalog and worker tests)."""
    from vlsearch.testing.postgres_server import PostgresUnavailable, postgres_server

    try:
        with postgres_server() as server:
            yield server
    except PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL tests skipped: {exc}")


@pytest.fixture(params=["sqlite", "postgresql"])
def catalog_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'sub' / 'catalog.db'}"
    server = request.getfixturevalue("pg_server")
    return str(server.create_database(f"cat_{abs(hash(request.node.nodeid)) % 10**12}"))


@pytest.fixture
def catalog(catalog_url: str) -> Iterator[Any]:
    from vlsearch.catalog import Catalog

    cat = Catalog(url=catalog_url)
    cat.open()
    cat.open()  # idempotent
    yield cat
    cat.close()
