"""API controls that need a live server: keys never logged or echoed, CORS closed by default, and
the loopback-only mode's guards against DNS rebinding (Host) and cross-site writes (see SECURITY.md)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.server import LiveServer
from tests.pipeline.conftest import make_settings
from vlsearch.api.auth import hash_key

KEY = "hostile-suite-key-4f9d0c"
WRONG = "hostile-suite-wrong-key-77aa"
EVIL = "http://evil.example"


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = make_settings(tmp_path_factory.mktemp("api-keyed"), api_keys={hash_key(KEY): ["ops"]})
    server = LiveServer.start(settings)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def open_loopback(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer.start(make_settings(tmp_path_factory.mktemp("api-open")))
    yield server
    server.stop()


def test_keys_are_never_logged_or_echoed(keyed: LiveServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    bodies, codes = [], []
    with keyed.client() as client:
        for headers, text in (
            ({"X-API-Key": WRONG}, "pump"),
            ({"Authorization": f"Bearer {WRONG}"}, "pump"),
            ({"X-API-Key": KEY}, "pump"),
            ({"X-API-Key": KEY}, "x" * 5000),  # a validation error, logged and answered
        ):
            resp = client.post("/v1/search", json={"text": text, "rerank": False}, headers=headers)
            bodies.append(resp.text)
            codes.append(resp.status_code)
    assert codes == [401, 401, 200, 422]
    for secret in (KEY, WRONG):
        assert secret not in caplog.text
        assert all(secret not in body for body in bodies)
    assert hash_key(KEY) not in caplog.text  # not even the stored digest


def test_cors_is_closed_by_default(keyed: LiveServer) -> None:
    with keyed.client(KEY) as client:
        preflight = client.options(
            "/v1/search",
            headers={
                "Origin": EVIL,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type,x-api-key",
            },
        )
        assert "access-control-allow-origin" not in preflight.headers
        resp = client.post("/v1/search", json={"text": "pump", "rerank": False}, headers={"Origin": EVIL})
        assert resp.status_code == 200 and "access-control-allow-origin" not in resp.headers


def test_keyed_server_refuses_requests_without_a_key(keyed: LiveServer) -> None:
    with keyed.client() as client:
        for method, path in (("GET", "/v1/documents"), ("POST", "/v1/models/embedder/unload")):
            resp = client.request(method, path)
            assert resp.status_code == 401 and resp.json()["error"]["code"] == "unauthorized"


def test_open_loopback_server_refuses_foreign_host_headers(open_loopback: LiveServer) -> None:
    with open_loopback.client() as client:
        resp = client.get("/v1/documents", headers={"Host": "rebind.evil.example"})
        assert resp.status_code in (400, 403, 421)


def test_open_loopback_server_refuses_cross_site_writes(open_loopback: LiveServer, tmp_path: Path) -> None:
    with open_loopback.client() as client:
        resp = client.post(
            "/v1/documents",
            files={"files": ("planted.md", b"# planted\n\nby another site\n", "text/markdown")},
            headers={"Origin": EVIL, "Sec-Fetch-Site": "cross-site"},
        )
        assert resp.status_code == 403
