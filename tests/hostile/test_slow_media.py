"""A remote that trickles its media a byte at a time cannot take the server: while more rerank
requests than the server has worker threads wait on it, health and search keep answering, and
every such request ends at the media deadline (VLSEARCH_MEDIA_URL_TIMEOUT_S, 2 s here)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.api.server import LiveServer
from tests.hostile.conftest import KEY_A

REQUESTS = 48  # more than the 40 threads of the server's worker pool
TRICKLE_S = 12.0  # the remote gives up after this, so an unfixed server is stuck at most this long


class _Trickle(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", "1000000")
        self.end_headers()
        end = time.monotonic() + TRICKLE_S
        try:
            while time.monotonic() < end:
                self.wfile.write(b"\x89")
                self.wfile.flush()
                time.sleep(0.5)
        except OSError:
            pass  # the server gave up on us: what it should do

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def trickle() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Trickle)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_slow_media_urls_never_stall_health_or_search(api: LiveServer, trickle: str) -> None:
    def rerank(i: int) -> httpx.Response:
        body = {"query": "rack", "documents": [{"image": f"{trickle}/slow-{i}.png"}]}
        return httpx.post(f"{api.url}/v1/rerank", json=body, headers={"X-API-Key": KEY_A}, timeout=60)

    with api.client(KEY_A) as client:  # the embedder loads on a first search: not what is timed here
        assert client.post("/v1/search", json={"text": "rack", "rerank": False}).status_code == 200
    started = time.monotonic()
    with ThreadPoolExecutor(REQUESTS) as pool, api.client(KEY_A, timeout=8) as client:
        pending = [pool.submit(rerank, i) for i in range(REQUESTS)]
        time.sleep(0.5)  # every request is now waiting on the remote or for a download slot
        assert client.get("/v1/health").status_code == 200
        search = client.post("/v1/search", json={"text": "rack", "rerank": False})
        assert search.status_code == 200, search.text
        answers = [f.result() for f in pending]
    elapsed = time.monotonic() - started
    codes = Counter((r.status_code, r.json()["error"]["code"]) for r in answers)
    assert codes == {(504, "fetch_timeout"): REQUESTS}, codes
    assert "VLSEARCH_MEDIA_URL_TIMEOUT_S" in answers[0].json()["error"]["message"]
    assert elapsed < TRICKLE_S  # ended by the deadline, not by the remote giving up


def test_media_url_limits_are_named(api: LiveServer, trickle: str) -> None:
    with api.client(KEY_A) as client:
        many = {"query": "rack", "documents": [{"image": f"{trickle}/{i}.png"} for i in range(9)]}
        resp = client.post("/v1/rerank", json=many)
        assert resp.status_code == 422
        assert "VLSEARCH_MEDIA_URLS_PER_REQUEST" in resp.json()["error"]["message"]
        tab = {"query": "rack", "documents": [{"image": f"{trickle}/a\tb.png"}]}
        resp = client.post("/v1/rerank", json=tab)  # was a 500 (httpx.InvalidURL)
        assert resp.status_code == 422 and resp.json()["error"]["code"] == "invalid_request", resp.text
