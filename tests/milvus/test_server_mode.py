"""Server-mode connection behaviour: startup retry, TLS options, Lite release on close."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from vlsearch.errors import StoreUnavailableError
from vlsearch.milvus import Store
from vlsearch.testing.milvus_server import free_port, milvus_lite_server


@pytest.mark.server
def test_connect_waits_for_a_server_that_starts_late(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    store = Store(
        uri=f"http://127.0.0.1:{port}", dim=4, embedder_id="x", analyzer="standard", connect_timeout_s=60
    )
    outcome: list[BaseException | None] = []

    def connect() -> None:
        try:
            store.connect()
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    caplog.set_level(logging.WARNING, logger="vlsearch.milvus.store")
    worker = threading.Thread(target=connect)
    worker.start()
    time.sleep(2.0)
    assert not outcome, "connect() returned before any server was listening"
    with milvus_lite_server(tmp_path / "late", port=port):
        worker.join(timeout=60)
        assert outcome == [None]
        assert store.ping()
        store.close()
    assert any("waiting for Milvus at" in r.getMessage() for r in caplog.records)


@pytest.mark.server
def test_connect_gives_up_after_the_timeout() -> None:
    store = Store(uri=f"http://127.0.0.1:{free_port()}", dim=4, embedder_id="x", connect_timeout_s=1.0)
    started = time.monotonic()
    with pytest.raises(StoreUnavailableError, match="gave up after 1 s"):
        store.connect()
    assert time.monotonic() - started < 30


@pytest.mark.server
def test_tls_options_reach_the_channel(tmp_path: Path) -> None:
    # The loopback server speaks plain gRPC, so a TLS handshake must fail: proof TLS was asked for.
    # The server helper's own probe client is still connected: the Store's channel must be its own.
    with milvus_lite_server(tmp_path / "plain") as server:
        tls = Store(
            uri=server.uri,
            dim=4,
            embedder_id="x",
            analyzer="standard",
            secure=True,
            server_name="milvus",
        )
        with pytest.raises(StoreUnavailableError, match="cannot reach Milvus"):
            tls.connect()
        plain = Store(uri=server.uri, dim=4, embedder_id="x", analyzer="standard")
        plain.connect()
        assert plain.ping()
        plain.close()


def test_close_releases_the_embedded_lite_dir(tmp_path: Path) -> None:
    uri = str(tmp_path / "milvus.db")
    first = Store(uri=uri, dim=4, embedder_id="x", analyzer="standard")
    second = Store(uri=uri, dim=4, embedder_id="x", analyzer="standard")
    first.connect()
    second.connect()
    first.close()
    assert second.ping(), "closing one Store must not stop the Lite server another Store uses"
    second.close()
    # Another process can open the data dir only once this one let go of it.
    code = (
        "import sys; from vlsearch.milvus import Store; "
        f"s = Store(uri={uri!r}, dim=4, embedder_id='x', analyzer='standard'); s.connect(); "
        "print(s.count()); s.close()"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("0")
    reopened = Store(uri=uri, dim=4, embedder_id="x", analyzer="standard")
    reopened.connect()
    assert reopened.ping()
    reopened.close()
