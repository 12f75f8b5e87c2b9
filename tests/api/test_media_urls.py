"""Rerank media by URL: only allow-listed hosts, fetched by the API with limits, never redirected."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.api.conftest import Deployment
from tests.api.server import wait_for_model


class _Handler(SimpleHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", "http://example.com/elsewhere.jpg")
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        return


@pytest.fixture(scope="module")
def media_host(deployment: Deployment) -> Iterator[str]:
    handler = partial(_Handler, directory=str(deployment.corpus.query_photo.parent))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def test_allow_listed_url_is_fetched_and_scored(
    deployment: Deployment, alpha, admin, media_host: str
) -> None:
    admin.post("/v1/models/reranker/load")
    assert wait_for_model(alpha, "reranker")["state"] == "ready"
    image = f"{media_host}/{deployment.corpus.query_photo.name}"
    body = {"query": {"text": "rack", "image": image}, "documents": ["server rack", "office chair"]}
    resp = alpha.post("/v1/rerank", json=body)
    assert resp.status_code == 200, resp.text
    assert len(resp.json()["results"]) == 2


def test_missing_and_redirected_urls_are_refused(alpha, media_host: str) -> None:
    for path, status in (("/nope.jpg", "404"), ("/redirect.jpg", "302")):
        body = {"query": "rack", "documents": [{"image": media_host + path}]}
        resp = alpha.post("/v1/rerank", json=body)
        assert resp.status_code == 422, resp.text
        error = resp.json()["error"]
        assert error["code"] == "fetch_failed" and status in error["message"]
