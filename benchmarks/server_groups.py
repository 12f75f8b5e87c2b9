"""Search latency through `milvus-lite server` with and without a groups filter, this tree against a
baseline tree, each at 10k and 100k rows; and what per-group BM25 statistics cost the in-process index.

    python benchmarks/server_groups.py --baseline /path/to/baseline/tree [--sizes 10000,100000]
        [--queries 60] [--out benchmarks/results/server_groups.json]

Part 1: for each size and each tree (baseline first), a fresh `milvus-lite server` is filled with
synthetic `chunks` rows (random unit vectors, dim 384, 40 random words, 8 groups, every 8th row in
two groups) by that tree's own Store, then that tree's Searcher retrieves with a given query vector
(dense + BM25 + fusion, as a search does) `--queries` times without a filter and with a one-group
filter (1/8 of the rows visible). Each tree runs in its own process (PYTHONPATH), the baseline first,
in the same invocation. It also times the groups predicate itself on the server: the `groups_key`
LIKE that Lite needs against array_contains_any on the `groups` ARRAY.
Part 2: the in-process index (embedded store) at each size: BM25 with collection-wide statistics
(no filter) against per-group statistics for one and for three groups.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from synthetic import text_items, unit_vectors, vocabulary  # benchmarks/ is the script's own folder

DIM = 384
GROUPS = tuple(f"g{k}" for k in range(8))


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _summary(ms: list[float]) -> dict[str, float]:
    return {"mean": statistics.fmean(ms), "p50": _pct(ms, 0.5), "p95": _pct(ms, 0.95), "n": len(ms)}


def _groups(i: int) -> tuple[str, ...]:
    """One group for 7 rows in 8, two for the rest: 1/8 of the rows visible to one group."""
    groups = (GROUPS[i % 8],) if i % 8 else (GROUPS[i % 8], GROUPS[(i // 8) % 8])
    return tuple(sorted(set(groups)))


class _NoEmbedder:
    """The Searcher needs an embedder object; every query here comes with its vector."""

    dim = DIM
    model_id = "synthetic"
    multimodal = False

    def embed(self, inputs: Any, *, role: Any) -> np.ndarray:
        raise AssertionError("queries come with their vectors")


def _time(fn: Any, n: int, warm: int = 5) -> dict[str, float]:
    for i in range(warm):
        fn(i)
    ms = []
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        ms.append((time.perf_counter() - t0) * 1000)
    return _summary(ms)


def server_worker(size: int, queries: int) -> dict[str, Any]:
    """Run inside one tree's process: fill a fresh server, time the Searcher with and without a filter."""
    from pymilvus import MilvusClient

    from vlsearch.config import get_settings
    from vlsearch.milvus import Store
    from vlsearch.retrieve.searcher import Searcher
    from vlsearch.testing.milvus_server import milvus_lite_server
    from vlsearch.types import Query, SearchFilter

    rng, gen, vocab = random.Random(7), np.random.default_rng(7), vocabulary(random.Random(7))
    with (
        tempfile.TemporaryDirectory(prefix="vlsearch-srvbench-") as tmp,
        milvus_lite_server(Path(tmp) / "milvus") as server,
    ):
        settings = get_settings(data_dir=Path(tmp) / "data", milvus_uri=server.uri)
        store = Store(uri=server.uri, dim=DIM, embedder_id="synthetic")
        store.connect()
        started = time.perf_counter()
        for start in range(0, size, 5000):
            n = min(5000, size - start)
            store.upsert(text_items(start, n, rng, vocab, groups=_groups), unit_vectors(n, DIM, gen))
        fill_s = time.perf_counter() - started
        searcher = Searcher(store=store, embedder=_NoEmbedder(), settings=settings)  # type: ignore[arg-type]
        vectors = unit_vectors(queries + 5, DIM, gen)
        texts = [" ".join(rng.choices(vocab, k=4)) for _ in range(queries + 5)]
        out: dict[str, Any] = {"rows": size, "fill_s": fill_s}
        for label, flt in (("no_filter", SearchFilter()), ("group_filter", SearchFilter(groups=("g3",)))):

            def one(i: int, flt: SearchFilter = flt) -> None:
                q = Query(text=texts[i], top_k=10, rerank=False, filters=flt)
                searcher.retrieve_with_vector(q, text=texts[i], vector=vectors[i])

            out[label] = _time(one, queries)
            print(f"  {size} rows, {label}: {out[label]}", flush=True)
        # the groups predicate alone, on a bare client: dense search with each form of the filter
        bare = MilvusClient(uri=server.uri)
        hexed = b"g3".hex()
        for label, expr in (
            ("predicate_groups_key_like", f'groups_key like "%|{hexed}|%"'),
            ("predicate_array_contains_any", 'array_contains_any(groups, ["g3"])'),
        ):
            name = getattr(store, "physical", lambda c: c)("chunks")

            def bare_search(i: int, expr: str = expr, name: str = name) -> None:
                bare.search(
                    name,
                    data=[vectors[i].tolist()],
                    anns_field="dense",
                    limit=50,
                    filter=expr,
                    output_fields=["id"],
                )

            out[label] = _time(bare_search, max(10, queries // 3), warm=2)
            print(f"  {size} rows, {label}: {out[label]}", flush=True)
        bare.close()
        searcher.close()
        store.close()
    return out


def index_worker(size: int, queries: int) -> dict[str, Any]:
    """The in-process index alone: BM25 without a filter, for one group and for three groups."""
    from vlsearch.milvus import schema
    from vlsearch.milvus.bm25 import Bm25Definition
    from vlsearch.milvus.memory_index import CollectionIndex
    from vlsearch.types import SearchFilter

    rng, gen, vocab = random.Random(7), np.random.default_rng(7), vocabulary(random.Random(7))
    index = CollectionIndex(
        dim=DIM, definition=Bm25Definition(schema.analyzer_params("jieba"), schema.BM25_K1, schema.BM25_B)
    )
    for start in range(0, size, 5000):
        n = min(5000, size - start)
        index.upsert(text_items(start, n, rng, vocab, groups=_groups), unit_vectors(n, DIM, gen))
    texts = [" ".join(rng.choices(vocab, k=4)) for _ in range(queries + 5)]
    out: dict[str, Any] = {"rows": size}
    for label, flt in (
        ("bm25_collection_wide", SearchFilter()),
        ("bm25_one_group", SearchFilter(groups=("g3",))),
        ("bm25_three_groups", SearchFilter(groups=("g1", "g3", "g5"))),
    ):
        out[label] = _time(lambda i, flt=flt: index.search_bm25(texts[i], limit=50, flt=flt), queries)
        print(f"  index {size} rows, {label}: {out[label]}", flush=True)
    return out


def _in_process(tree: Path, args: list[str]) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree), "HF_HUB_OFFLINE": "1"}
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
        out = Path(fh.name)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", *args, "--worker-out", str(out)]
    subprocess.run(cmd, env=env, check=True)
    data = json.loads(out.read_text())
    out.unlink()
    return data


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline", help="a tree of the code to compare against (its vlsearch package)")
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--queries", type=int, default=60)
    ap.add_argument("--out", default="benchmarks/results/server_groups.json")
    ap.add_argument("--worker", choices=("server", "index"))
    ap.add_argument("--worker-size", type=int, default=0)
    ap.add_argument("--worker-out")
    args = ap.parse_args()
    if args.worker:
        fn = server_worker if args.worker == "server" else index_worker
        Path(args.worker_out).write_text(json.dumps(fn(args.worker_size, args.queries)))
        return
    here = Path(__file__).resolve().parents[1]
    sizes = [int(s) for s in args.sizes.split(",")]
    trees = ([("baseline", Path(args.baseline).resolve())] if args.baseline else []) + [("this", here)]
    report: dict[str, Any] = {
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "load_avg_start": os.getloadavg(),
        "queries": args.queries,
        "server": {},
        "index": {},
    }
    for size in sizes:
        for name, tree in trees:
            print(f"== server, {name} tree, {size} rows", flush=True)
            report["server"].setdefault(str(size), {})[name] = _in_process(
                tree, ["server", "--worker-size", str(size), "--queries", str(args.queries)]
            )
        print(f"== index, {size} rows", flush=True)
        report["index"][str(size)] = _in_process(
            here, ["index", "--worker-size", str(size), "--queries", str(args.queries * 5)]
        )
    report["load_avg_end"] = os.getloadavg()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
