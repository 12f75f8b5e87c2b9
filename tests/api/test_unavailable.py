"""Milvus unreachable: the server still starts, /v1/ready says 503, store-backed calls answer 503."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.server import LiveServer, free_port
from vlsearch.config import get_settings
from vlsearch.testing.milvus_server import milvus_lite_server


@pytest.fixture(scope="module")
def orphan_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, int]]:
    port = free_port()
    settings = get_settings(
        data_dir=tmp_path_factory.mktemp("orphan-data"),
        profile="cpu",
        milvus_uri=f"http://127.0.0.1:{port}",  # nothing listens there yet
        milvus_connect_timeout_s=2.0,  # start-up waits briefly, then serves and answers 503
    )
    server = LiveServer.start(settings)
    try:
        yield server, port
    finally:
        server.stop()


def test_store_unavailable_is_503_and_the_server_reconnects(
    orphan_server: tuple[LiveServer, int], tmp_path: Path
) -> None:
    server, port = orphan_server
    with server.client() as client:
        assert client.get("/v1/health").status_code == 200
        ready = client.get("/v1/ready")
        assert ready.status_code == 503 and ready.json()["store"] == "unreachable"
        resp = client.post("/v1/search", json={"text": "power supply", "rerank": False})
        assert resp.status_code == 503, resp.text
        assert resp.json()["error"]["code"] == "store_unavailable"
        assert "VLSEARCH_MILVUS_URI" in resp.json()["error"]["message"]

        with milvus_lite_server(tmp_path / "milvus", port=port):
            deadline = time.monotonic() + 60
            while client.get("/v1/ready").status_code != 200:
                assert time.monotonic() < deadline, "the API did not reconnect to Milvus"
                time.sleep(0.5)
            resp = client.post("/v1/search", json={"text": "power supply", "rerank": False})
            assert resp.status_code == 200 and resp.json()["results"] == []
