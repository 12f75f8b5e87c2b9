"""`vlsearch eval`: ingest a BEIR set into a fresh temporary store, search it in several modes, score.

Each embedder gets its own store (vector spaces never mix); query vectors are computed once per
embedder in one batch and reused by every mode, so modes differ only in retrieval and fusion.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from vlsearch.catalog import Catalog
from vlsearch.config import Settings
from vlsearch.eval.beir import BeirSet, load_set
from vlsearch.eval.metrics import METRIC_NAMES, score_run
from vlsearch.ids import doc_id_for
from vlsearch.ingest.pipeline import IngestPipeline, TextRecord
from vlsearch.milvus import Store
from vlsearch.models.registry import build_embedder
from vlsearch.retrieve.fusion import FusionConfig, FusionMode
from vlsearch.retrieve.searcher import Searcher
from vlsearch.types import EmbedInput, Query, Role

DEFAULT_MODES: tuple[str, ...] = ("dense", "bm25", "rrf", "hybrid")
_RUN_DEPTH = 50  # recall@50 needs fifty results per query


@dataclass(frozen=True)
class ModeResult:
    embedder: str
    mode: str
    metrics: dict[str, float]
    query_ms: float  # mean retrieval time per query (query embedding excluded; see EmbedderRun)


@dataclass(frozen=True)
class EmbedderRun:
    embedder: str
    model_id: str
    dim: int
    ingest_s: float
    store_bytes: int
    query_embed_ms: float  # mean per query, embedded in one batch


@dataclass(frozen=True)
class EvalReport:
    dataset: str
    documents: int
    queries: int
    top_k: int
    results: tuple[ModeResult, ...]
    embedders: tuple[EmbedderRun, ...]
    fusion: dict[str, object] = field(default_factory=dict)

    def best(self, metric: str = "mrr@10") -> ModeResult:
        return max(self.results, key=lambda r: r.metrics[metric])

    def get(self, mode: str, embedder: str | None = None) -> ModeResult:
        for r in self.results:
            if r.mode == mode and (embedder is None or r.embedder == embedder):
                return r
        raise KeyError(f"no result for mode {mode!r} embedder {embedder!r}")

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False)

    def to_table(self) -> str:
        head = (
            f"{'embedder':<12} {'mode':<8} " + " ".join(f"{m:>9}" for m in METRIC_NAMES) + f" {'ms/query':>9}"
        )
        lines = [
            f"{self.dataset}: {self.documents} documents, {self.queries} queries",
            head,
            "-" * len(head),
        ]
        for r in self.results:
            lines.append(
                f"{r.embedder:<12} {r.mode:<8} "
                + " ".join(f"{r.metrics[m]:>9.4f}" for m in METRIC_NAMES)
                + f" {r.query_ms:>9.1f}"
            )
        for e in self.embedders:
            lines.append(
                f"{e.embedder}: ingest {e.ingest_s:.1f} s, store {e.store_bytes / 1e6:.1f} MB, "
                f"query embedding {e.query_embed_ms:.1f} ms/query (batched), dim {e.dim}"
            )
        return "\n".join(lines)


def run_eval(
    settings: Settings,
    corpus_path: Path,
    queries_path: Path,
    qrels_path: Path,
    *,
    top_k: int = 10,
    modes: Sequence[str] = DEFAULT_MODES,
    embedders: Sequence[str] | None = None,
    fusion: FusionConfig | None = None,
    name: str = "",
) -> EvalReport:
    """Score every (embedder, mode) on a BEIR set. embedders default to settings.embedder."""
    beir = load_set(Path(corpus_path), Path(queries_path), Path(qrels_path), name=name)
    return evaluate_set(settings, beir, top_k=top_k, modes=modes, embedders=embedders, fusion=fusion)


def evaluate_set(
    settings: Settings,
    beir: BeirSet,
    *,
    top_k: int = 10,
    modes: Sequence[str] = DEFAULT_MODES,
    embedders: Sequence[str] | None = None,
    fusion: FusionConfig | None = None,
) -> EvalReport:
    parsed = [_mode(m) for m in modes]
    fusion = fusion or FusionConfig()
    results: list[ModeResult] = []
    runs: list[EmbedderRun] = []
    for name in embedders or (settings.embedder,):
        run, mode_results = _evaluate_embedder(settings, beir, name, parsed, fusion)
        runs.append(run)
        results.extend(mode_results)
    fusion_info = {k: (v.value if isinstance(v, FusionMode) else v) for k, v in asdict(fusion).items()}
    return EvalReport(
        dataset=beir.name,
        documents=len(beir.corpus),
        queries=len(beir.queries),
        top_k=top_k,
        results=tuple(results),
        embedders=tuple(runs),
        fusion=fusion_info,
    )


def _mode(name: str) -> FusionMode:
    try:
        return FusionMode(name)
    except ValueError as exc:
        raise ValueError(f"unknown eval mode {name!r}; use {', '.join(m.value for m in FusionMode)}") from exc


def _evaluate_embedder(
    settings: Settings, beir: BeirSet, embedder_name: str, modes: Sequence[FusionMode], fusion: FusionConfig
) -> tuple[EmbedderRun, list[ModeResult]]:
    workdir = Path(tempfile.mkdtemp(prefix="vlsearch-eval-"))
    try:
        local = settings.model_copy(
            update={"embedder": embedder_name, "data_dir": workdir, "milvus_uri": "", "catalog_url": ""}
        )
        embedder = build_embedder(local)
        embedder.load()
        store = Store(
            uri=local.resolved_milvus_uri,
            dim=embedder.dim,
            embedder_id=embedder.model_id,
            memory_index=local.milvus_lite_memory_index,
        )
        catalog = Catalog(url=local.resolved_catalog_url)
        store.connect()
        catalog.open()
        try:
            pipeline = IngestPipeline(settings=local, store=store, catalog=catalog, embedder=embedder)
            records = [TextRecord(id=d.id, title=d.title, text=d.text) for d in beir.corpus]
            started = time.perf_counter()
            pipeline.ingest_records(records, groups=("eval",))
            ingest_s = time.perf_counter() - started
            store_bytes = _du(workdir)
            to_beir = {doc_id_for(f"record:{d.id}"): d.id for d in beir.corpus}

            started = time.perf_counter()
            vectors = embedder.embed([EmbedInput(text=q.text) for q in beir.queries], role=Role.QUERY)
            embed_ms = (time.perf_counter() - started) * 1000 / max(len(beir.queries), 1)

            searcher = Searcher(store=store, embedder=embedder, settings=local, fusion=fusion)
            out: list[ModeResult] = []
            try:
                for mode in modes:
                    run: dict[str, list[str]] = {}
                    started = time.perf_counter()
                    for q, vec in zip(beir.queries, vectors, strict=True):
                        query = Query(text=q.text, top_k=_RUN_DEPTH, rerank=False, per_doc_limit=1)
                        ranked = searcher.retrieve_with_vector(query, text=q.text, vector=vec, mode=mode)
                        run[q.id] = [to_beir.get(c.item.doc_id, c.item.doc_id) for c in ranked[:_RUN_DEPTH]]
                    ms = (time.perf_counter() - started) * 1000 / max(len(beir.queries), 1)
                    out.append(
                        ModeResult(
                            embedder=embedder_name,
                            mode=mode.value,
                            metrics=score_run(run, beir.qrels),
                            query_ms=ms,
                        )
                    )
            finally:
                searcher.close()
        finally:
            store.close()
            catalog.close()
        run_info = EmbedderRun(
            embedder=embedder_name,
            model_id=embedder.model_id,
            dim=embedder.dim,
            ingest_s=ingest_s,
            store_bytes=store_bytes,
            query_embed_ms=embed_ms,
        )
        return run_info, out
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
