"""Search latency through a Milvus server vs embedded Milvus Lite, same rows, same run.

    python benchmarks/server_vs_embedded.py [--rows 10000] [--queries 200]
                                            [--out benchmarks/results/server_vs_embedded.json]

Fills `chunks` with the same synthetic rows (random unit vectors, random-word text for BM25) in an
embedded Lite data dir and in a `milvus-lite server` process on loopback, then times the Searcher's
retrieval (dense + BM25 over every collection, fusion) given a ready query vector, alternating the
two paths query by query so machine load hits both alike. The server path is the code path of a
real Milvus deployment (gRPC over TCP to another process); a Milvus standalone/distributed server
has its own engine, so its absolute figures differ: this isolates what the client side costs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from synthetic import text_items, unit_vectors, vocabulary  # benchmarks/ is the script's own folder

from vlsearch.config import get_settings
from vlsearch.milvus import Store
from vlsearch.models.base import ModelInfo, ModelState
from vlsearch.retrieve.searcher import Searcher
from vlsearch.testing.milvus_server import milvus_lite_server
from vlsearch.types import Item, Query, Role

DIM = 384


class _VectorOnly:
    """The Searcher's embedder slot; queries arrive as ready vectors here."""

    multimodal = False
    model_id = "synthetic"
    dim = DIM

    def info(self) -> ModelInfo:
        return ModelInfo(
            name="synthetic", model_id="synthetic", kind="embedder", backend="none", state=ModelState.READY
        )

    def load(self) -> None:
        return None

    def unload(self) -> None:
        return None

    def embed(self, inputs: Any, *, role: Role) -> np.ndarray:
        raise AssertionError("query vectors are passed directly")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _summary(ms: list[float]) -> dict[str, float]:
    return {
        "p50": round(_pct(ms, 0.5), 3),
        "p95": round(_pct(ms, 0.95), 3),
        "mean": round(statistics.fmean(ms), 3),
        "n": len(ms),
    }


def _rows(n: int, seed: int) -> tuple[list[Item], np.ndarray, list[str]]:
    rng = random.Random(seed)
    vocab = vocabulary(rng)
    items = text_items(0, n, rng, vocab)
    return items, unit_vectors(n, DIM, np.random.default_rng(seed)), vocab


def _fill(store: Store, items: list[Item], vecs: np.ndarray) -> float:
    started = time.perf_counter()
    for start in range(0, len(items), 5000):
        store.upsert(items[start : start + 5000], vecs[start : start + 5000])
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument(
        "--out", default=str(Path(__file__).resolve().parent / "results" / "server_vs_embedded.json")
    )
    args = ap.parse_args()

    items, vecs, vocab = _rows(args.rows, seed=11)
    rng = random.Random(5)
    gen = np.random.default_rng(5)
    qvecs = gen.standard_normal((args.queries + 10, DIM)).astype(np.float32)
    qvecs /= np.linalg.norm(qvecs, axis=1, keepdims=True)
    qtexts = [" ".join(rng.choices(vocab, k=6)) for _ in range(args.queries + 10)]
    load_before = os.getloadavg()

    with tempfile.TemporaryDirectory(prefix="vlsearch-sve-") as tmp:
        settings = get_settings(data_dir=Path(tmp) / "embedded")
        embedded = Store(uri=settings.resolved_milvus_uri, dim=DIM, embedder_id="synthetic")
        embedded.connect()
        with milvus_lite_server(Path(tmp) / "server") as server:
            remote = Store(uri=server.uri, dim=DIM, embedder_id="synthetic", connect_timeout_s=30)
            remote.connect()
            fill = {"embedded": _fill(embedded, items, vecs), "server": _fill(remote, items, vecs)}
            print(f"{args.rows} rows loaded: {fill}", flush=True)
            searchers = {
                "embedded": Searcher(store=embedded, embedder=_VectorOnly(), settings=settings),
                "server": Searcher(store=remote, embedder=_VectorOnly(), settings=settings),
            }
            timings: dict[str, list[float]] = {"embedded": [], "server": []}
            same_top1 = 0
            for i in range(args.queries + 10):
                tops = {}
                order = ("embedded", "server") if i % 2 else ("server", "embedded")
                for name in order:
                    t0 = time.perf_counter()
                    cands = searchers[name].retrieve_with_vector(
                        Query(text=qtexts[i]), text=qtexts[i], vector=qvecs[i]
                    )
                    ms = (time.perf_counter() - t0) * 1000
                    tops[name] = cands[0].item.id if cands else None
                    if i >= 10:  # the first ten warm both paths
                        timings[name].append(ms)
                same_top1 += int(i >= 10 and tops["embedded"] == tops["server"])
            for s in searchers.values():
                close = getattr(s, "close", None)
                if close is not None:
                    close()
            remote.close()
        embedded.close()

    result = {
        "benchmark": "server_vs_embedded",
        "command": "python benchmarks/server_vs_embedded.py " + " ".join(sys.argv[1:]),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_avg_before": [round(x, 2) for x in load_before],
            "load_avg_after": [round(x, 2) for x in os.getloadavg()],
        },
        "rows": args.rows,
        "dim": DIM,
        "queries": args.queries,
        "candidates_per_collection": settings.candidates_per_collection,
        "what": "Searcher.retrieve_with_vector: dense + BM25 over chunks/images/frames + fusion "
        "(no query embedding)",
        "fill_s": {k: round(v, 2) for k, v in fill.items()},
        "retrieve_ms": {name: _summary(ms) for name, ms in timings.items()},
        "server_minus_embedded_p50_ms": round(
            _pct(timings["server"], 0.5) - _pct(timings["embedded"], 0.5), 3
        ),
        "same_top1_fraction": round(same_top1 / args.queries, 3),
        "notes": "server = `milvus-lite server` child process on loopback over gRPC (the Milvus server "
        "code path); embedded = Milvus Lite in-process. Alternating order per query.",
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["retrieve_ms"], indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
