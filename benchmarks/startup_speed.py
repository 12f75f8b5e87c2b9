"""Start-up at scale: seconds from launching the API to the first answered search, on a data dir of
N synthetic rows (10k and 100k by default), with and without the persisted in-process index.

    python benchmarks/startup_speed.py [--sizes 10000,100000] [--keep /tmp/vlsearch-startup]
                                       [--out benchmarks/results/startup_speed.json]

Each size gets one data dir: `chunks` rows with random unit vectors of the default embedder's
dimension and random-word text (BM25 has real postings), and a READY catalog record per document,
so a search returns hits. Then, each in a fresh process (a server starts as a process):

  baseline  the index snapshot removed: the process rebuilds the index from Lite, as every start
            did before snapshots existed (and writes a snapshot when it closes);
  snapshot  the snapshot written by the baseline run's shutdown is read back.

A run launches `vlsearch serve` on a free port and polls `POST /v1/search` until it answers 200;
the figure is the wall time from launch to that answer, plus the server's own log of what its
start-up spent. `--keep DIR` keeps (and reuses) the generated data dirs: filling Lite with 100k
rows takes minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from machine import machine_facts  # benchmarks/ is the script's own folder

from vlsearch.catalog import Catalog, DocStatus
from vlsearch.config import EmbedderKind, get_settings
from vlsearch.milvus import Store
from vlsearch.milvus.index_snapshot import snapshot_path
from vlsearch.models.registry import build_embedder
from vlsearch.types import Document, Item, Locator, Modality

_ROWS_PER_DOC = 4
_BATCH = 5000


def _vocab(rng: random.Random) -> list[str]:
    return [
        f"{rng.choice('bcdfghklmnprstvz')}{rng.choice('aeiou')}{rng.choice('lmnrst')}{k}" for k in range(5000)
    ]


def build_data_dir(data_dir: Path, rows: int) -> dict[str, Any]:
    """Fill a fresh data dir with `rows` synthetic rows (skipped when a complete one is there)."""
    marker = data_dir / ".startup-bench-rows"
    if marker.is_file() and marker.read_text().strip() == str(rows):
        return {"rows": rows, "reused": True}
    shutil.rmtree(data_dir, ignore_errors=True)
    settings = get_settings(data_dir=data_dir, profile="cpu")
    embedder = build_embedder(
        settings.model_copy(update={"embedder": "ensemble", "embedder_kind": EmbedderKind.AUTO})
    )
    rng = random.Random(7)
    gen = np.random.default_rng(7)
    vocab = _vocab(rng)
    store = Store(uri=settings.resolved_milvus_uri, dim=embedder.dim, embedder_id=embedder.model_id)
    catalog = Catalog(url=settings.resolved_catalog_url)
    data_dir.mkdir(parents=True)
    catalog.open()
    store.connect()
    started = time.perf_counter()
    for start in range(0, rows, _BATCH):
        n = min(_BATCH, rows - start)
        items = [
            Item(
                id=f"s{i}",
                doc_id=f"doc{i // _ROWS_PER_DOC}",
                modality=Modality.TEXT,
                text=" ".join(rng.choices(vocab, k=40)),
                locator=Locator(index=i % _ROWS_PER_DOC),
                source=f"/synthetic/doc{i // _ROWS_PER_DOC}.txt",
                name=f"doc{i // _ROWS_PER_DOC}.txt",
                doc_type="text",
                groups=("public",),
            )
            for i in range(start, start + n)
        ]
        vectors = gen.standard_normal((n, embedder.dim)).astype(np.float32)
        store.upsert(items, vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
        for doc_id in dict.fromkeys(item.doc_id for item in items):
            doc = Document(
                id=doc_id,
                source=f"/synthetic/{doc_id}.txt",
                name=f"{doc_id}.txt",
                sha256="0" * 64,
                doc_type="text",
                groups=("public",),
            )
            catalog.put_document(doc, status=DocStatus.READY, item_count=_ROWS_PER_DOC)
        print(f"  {start + n} rows written ({time.perf_counter() - started:.0f} s)", flush=True)
    store.close()
    catalog.close()
    marker.write_text(str(rows))
    return {"rows": rows, "reused": False, "fill_s": round(time.perf_counter() - started, 1)}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def time_start(data_dir: Path, *, timeout_s: float = 900.0) -> dict[str, Any]:
    """Launch the API on `data_dir`, poll a search until it answers, stop the server cleanly."""
    port = _free_port()
    env = {
        **os.environ,
        "VLSEARCH_DATA_DIR": str(data_dir),
        "VLSEARCH_PROFILE": "cpu",
        "HF_HUB_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    log_path = data_dir.parent / f"{data_dir.name}-serve.log"
    started = time.perf_counter()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "vlsearch", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            answered, hits = _first_answer(f"http://127.0.0.1:{port}", proc, started + timeout_s)
            elapsed = time.perf_counter() - started
        finally:
            proc.terminate()  # SIGTERM: uvicorn runs the lifespan's shutdown (the snapshot is saved)
            proc.wait(timeout=300)
    lines = [ln.strip() for ln in log_path.read_text().splitlines() if "index" in ln.lower()]
    return {"seconds_to_first_search": round(elapsed, 2), "hits": hits, "answered": answered, "log": lines}


def _first_answer(url: str, proc: subprocess.Popen[bytes], deadline: float) -> tuple[bool, int]:
    body = {"text": "bal3 kon7 power supply", "top_k": 5}
    with httpx.Client(base_url=url, timeout=60.0) as client:
        while time.perf_counter() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited with {proc.returncode} during start-up")
            try:
                resp = client.post("/v1/search", json=body)
            except httpx.TransportError:
                time.sleep(0.05)
                continue
            if resp.status_code == 200:
                return True, len(resp.json()["results"])
            time.sleep(0.05)
    return False, 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--keep", type=Path, default=None, help="keep and reuse the data dirs here")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/startup_speed.json"))
    args = parser.parse_args()
    load_start = os.getloadavg()
    root = args.keep or Path(os.environ.get("TMPDIR", "/tmp")) / f"vlsearch-startup-{os.getpid()}"
    root.mkdir(parents=True, exist_ok=True)
    results = []
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            data_dir = root / f"rows-{size}"
            print(f"{size} rows: preparing {data_dir}", flush=True)
            built = build_data_dir(data_dir, size)
            snap = snapshot_path(get_settings(data_dir=data_dir).resolved_milvus_uri)
            snap.unlink(missing_ok=True)
            baseline = time_start(data_dir)
            print(f"  baseline (rebuild from Lite): {baseline['seconds_to_first_search']} s", flush=True)
            snapshot_bytes = snap.stat().st_size if snap.is_file() else 0
            after = time_start(data_dir)
            print(f"  with the snapshot: {after['seconds_to_first_search']} s", flush=True)
            results.append(
                {
                    **built,
                    "snapshot_bytes": snapshot_bytes,
                    "baseline_rebuild_from_lite": baseline,
                    "with_snapshot": after,
                }
            )
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    out = {
        "benchmark": "startup_speed",
        "machine": machine_facts(load_start),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
