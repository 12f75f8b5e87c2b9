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


def test_keys_in_the_url_are_refused_and_never_reach_the_access_log(keyed: LiveServer) -> None:
    access = logging.getLogger("uvicorn.access")
    lines: list[str] = []
    grab = logging.Handler()
    grab.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    level = access.level
    access.setLevel(logging.INFO)  # the test server logs at warning; its access log is what is checked
    access.addHandler(grab)
    try:
        with keyed.client() as client:
            for params in ({"api_key": KEY}, {"X-API-Key": KEY, "limit": "5"}, {"token": KEY}):
                resp = client.get("/v1/documents", params=params)
                assert resp.status_code == 400, resp.text
                error = resp.json()["error"]
                assert error["code"] == "credentials_in_url" and "X-API-Key" in error["message"]
                assert KEY not in resp.text
    finally:
        access.removeHandler(grab)
        access.setLevel(level)
    assert len(lines) == 3 and all("/v1/documents?" in line and "=***" in line for line in lines), lines
    assert not [line for line in lines if KEY in line]


def test_whitespace_queries_and_unreadable_videos_get_clean_answers(keyed: LiveServer) -> None:
    with keyed.client(KEY) as client:
        resp = client.post("/v1/search", json={"text": " \t\n ", "rerank": False})
        assert resp.status_code == 422 and "whitespace" in resp.json()["error"]["message"], resp.text
        resp = client.post("/v1/search/upload", data={"text": "   "})
        assert resp.status_code == 422
        clip = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200  # an MP4 header and nothing else
        resp = client.post("/v1/search/upload", files={"video": ("clip.mp4", clip, "video/mp4")})
    assert resp.status_code == 422 and "clip.mp4" in resp.json()["error"]["message"], resp.text
    data_dir = keyed.settings.data_dir
    for path in {str(data_dir.resolve()), str(data_dir.absolute())}:
        assert path not in resp.text  # the message names the upload, not where the server keeps it
