"""Worker-queue fixtures: the catalog's PostgreSQL server and engine-parametrised catalogs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.catalog.conftest import catalog_url, pg_server
from vlsearch.catalog import Catalog

__all__ = ["catalog", "catalog_url", "pg_server"]


@pytest.fixture
def catalog(catalog_url: str) -> Iterator[Catalog]:
    cat = Catalog(url=catalog_url)
    cat.open()
    yield cat
    cat.close()
