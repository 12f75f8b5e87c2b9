"""A live API server on its own tmp data dir for the load tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.server import LiveServer
from vlsearch.config import get_settings


@pytest.fixture(scope="module")
def load_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = get_settings(data_dir=tmp_path_factory.mktemp("load-data"), profile="cpu")
    server = LiveServer.start(settings)
    try:
        yield server
    finally:
        server.stop()
