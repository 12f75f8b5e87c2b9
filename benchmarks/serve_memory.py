"""Resident memory of `vlsearch serve` on the CPU profile (default ensemble embedder), this tree
against an earlier source tree in the same run.

    python benchmarks/serve_memory.py [--baseline-src DIR] [--searches 100]
                                      [--out benchmarks/results/serve_memory.json]

`--baseline-src` is a checkout of the code to compare with (e.g. `git archive main | tar -x -C
/tmp/base`). For each tree, each step in a fresh server process on a fresh data dir:

  empty      start on an empty data dir, wait for /v1/models to say the embedder is ready, answer
             one search: RSS ("ready"); then 100 more searches: RSS; then upload the demo corpus
             (`vlsearch demo`'s files: PDF, DOCX, PPTX, XLSX, Markdown, HTML, text, a figure, a
             video) through /v1/documents and wait for the job: RSS ("after ingest")
  demo       the data dir the step above filled, served again: ready + one search: RSS

RSS is the server process's own (VmRSS; extraction worker processes are reported apart), and
whether torch is mapped into it (/proc/PID/maps).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
from machine import machine_facts  # benchmarks/ is the script's own folder

QUERIES = [
    "How do I replace the power supply of node 07?",
    "RAID controller error code meaning",
    "电源模块更换步骤",
    "VPN remote access setup",
    "server racking torque for rail screws",
]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 2**20


def _children_mb(pid: int) -> float:
    return sum(p.memory_info().rss for p in psutil.Process(pid).children(recursive=True)) / 2**20


def _torch_mapped(pid: int) -> bool:
    maps = Path(f"/proc/{pid}/maps").read_text()
    return "libtorch" in maps or "torch/lib" in maps


class Server:
    def __init__(self, src: str, data_dir: Path, log: Path) -> None:
        self.port = _free_port()
        env = {
            **os.environ,
            "VLSEARCH_DATA_DIR": str(data_dir),
            "VLSEARCH_PROFILE": "cpu",
            "HF_HUB_OFFLINE": "1",
            "GRADIO_ANALYTICS_ENABLED": "False",
            "PYTHONPATH": os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH", "")) if p),
        }
        self._log = open(log, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "vlsearch", "serve", "--port", str(self.port)],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=str(data_dir.parent),
        )
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=300.0)

    def wait_ready(self, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}")
            try:
                info = self.client.get("/v1/models/embedder")
                if info.status_code == 200 and info.json().get("state") == "ready":
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise TimeoutError("embedder not ready")

    def search(self, text: str) -> int:
        resp = self.client.post("/v1/search", json={"text": text, "top_k": 10})
        resp.raise_for_status()
        return len(resp.json()["results"])

    def upload(self, files: list[Path]) -> dict[str, Any]:
        payload = [("files", (f.name, f.read_bytes())) for f in files]
        resp = self.client.post("/v1/documents", files=payload, data={"groups": "public"})
        resp.raise_for_status()
        job_id = resp.json()["job_id"]
        while True:
            job: dict[str, Any] = self.client.get(f"/v1/jobs/{job_id}").json()
            if job["status"] in ("done", "failed"):
                return job
            time.sleep(0.5)

    def measure(self) -> dict[str, Any]:
        time.sleep(1.0)  # let background loads and allocator trims settle
        pid = self.proc.pid
        return {
            "rss_mb": round(_rss_mb(pid), 1),
            "worker_processes_rss_mb": round(_children_mb(pid), 1),
            "torch_loaded": _torch_mapped(pid),
        }

    def stop(self) -> None:
        self.client.close()
        self.proc.terminate()
        self.proc.wait(timeout=120)
        self._log.close()


def demo_files(dest: Path) -> list[Path]:
    from vlsearch.demo.corpus import build_demo_corpus
    from vlsearch.demo.media import write_demo_media

    files = build_demo_corpus(dest)
    return files + sorted(write_demo_media(dest / "media", names=("video", "figure")).values())


def run_tree(src: str, label: str, files: list[Path], tmp: Path, searches: int) -> dict[str, Any]:
    data = tmp / f"data-{label}"
    out: dict[str, Any] = {"code": label}
    server = Server(src, data, tmp / f"{label}-empty.log")
    try:
        started = time.perf_counter()
        server.wait_ready()
        hits = server.search(QUERIES[0])
        out["empty_ready_s"] = round(time.perf_counter() - started, 1)
        out["empty_ready_and_one_search"] = {**server.measure(), "hits": hits}
        for i in range(searches):
            server.search(QUERIES[i % len(QUERIES)])
        out[f"empty_after_{searches}_searches"] = server.measure()
        started = time.perf_counter()
        job = server.upload(files)
        out["ingest_s"] = round(time.perf_counter() - started, 1)
        out["after_ingesting_demo_corpus"] = {
            **server.measure(),
            "job": job["status"],
            "error": job.get("error", ""),
        }
        out["after_ingest_search_hits"] = server.search(QUERIES[0])
        out["after_ingest_and_search"] = server.measure()
    finally:
        server.stop()
    server = Server(src, data, tmp / f"{label}-demo.log")
    try:
        server.wait_ready()
        hits = server.search(QUERIES[0])
        out["demo_corpus_ready_and_one_search"] = {**server.measure(), "hits": hits}
        for i in range(searches):
            server.search(QUERIES[i % len(QUERIES)])
        out[f"demo_corpus_after_{searches}_searches"] = server.measure()
    finally:
        server.stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline-src", default="")
    parser.add_argument("--searches", type=int, default=100)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/serve_memory.json"))
    args = parser.parse_args()
    here = str(Path(__file__).resolve().parents[1])
    load_start = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="vlsearch-mem-"))
    try:
        files = demo_files(tmp / "demo-files")
        trees = [(here, "this tree")]
        if args.baseline_src:
            trees.append((str(Path(args.baseline_src).resolve()), f"baseline: {args.baseline_src}"))
        results = []
        for src, label in trees:
            result = run_tree(src, label.split(":")[0].replace(" ", "-"), files, tmp, args.searches)
            result["code"] = label
            print(json.dumps(result, indent=2), flush=True)
            results.append(result)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out = {
        "benchmark": "serve_memory",
        "machine": machine_facts(load_start),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2))
    print("wrote", args.out)


if __name__ == "__main__":
    main()
