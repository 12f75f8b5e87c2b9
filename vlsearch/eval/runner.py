"""`vlsearch eval`: ingest a BEIR set into a fresh store, search it in several modes, score.

Each embedder gets its own store (vector spaces never mix); query vectors are computed once per
embedder in one batch and reused by every mode and every path, so they differ only in retrieval
and fusion. A path is where the store lives: a fresh embedded Lite file in a temp dir (searched
through the in-process index, as `vlsearch serve` does), or an existing Milvus server
(`--milvus-uri`), where the set goes into collections under a fresh prefix that are dropped
afterwards, with the catalog in a temp SQLite file or an existing database (`--catalog-url`, the
set's documents removed afterwards). Passages are embedded once per embedder for all paths.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import SecretStr

from vlsearch.catalog import Catalog
from vlsearch.config import EmbedderKind, Settings
from vlsearch.eval.beir import BeirSet, load_set
from vlsearch.eval.metrics import metric_columns, score_run, table_start
from vlsearch.ids import doc_id_for
from vlsearch.ingest.pipeline import IngestPipeline, TextRecord
from vlsearch.milvus import Store
from vlsearch.models.base import Embedder
from vlsearch.models.registry import build_embedder
from vlsearch.retrieve.fusion import FusionConfig, FusionMode
from vlsearch.retrieve.searcher import Searcher
from vlsearch.source_ref import SourceRef
from vlsearch.types import EmbedInput, Query, Role

DEFAULT_MODES: tuple[str, ...] = ("dense", "bm25", "rrf", "hybrid")
_RUN_DEPTH = 50  # recall@50 needs fifty results per query


@dataclass(frozen=True)
class EvalTarget:
    """Where a set is ingested and searched: `path` names it in reports."""

    path: str = "embedded"
    milvus_uri: str = ""  # "": a fresh embedded Lite file in a temp dir
    # secrets (a PostgreSQL URL carries its password): kept out of the repr, as Settings keeps them
    milvus_token: str = field(default="", repr=False)
    catalog_url: str = field(default="", repr=False)  # "": a temp SQLite file

    @property
    def on_server(self) -> bool:
        return bool(self.milvus_uri)


EMBEDDED = EvalTarget()


@dataclass(frozen=True)
class ModeResult:
    embedder: str
    mode: str
    metrics: dict[str, float]
    query_ms: float  # mean retrieval time per query (query embedding excluded; see EmbedderRun)
    path: str = "embedded"


@dataclass(frozen=True)
class EmbedderRun:
    embedder: str
    model_id: str
    dim: int
    ingest_s: float
    store_bytes: int  # 0 on a server (its disk is not ours to measure)
    query_embed_ms: float  # mean per query, embedded in one batch
    path: str = "embedded"


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

    def get(self, mode: str, embedder: str | None = None, path: str | None = None) -> ModeResult:
        for r in self.results:
            if r.mode == mode and (embedder is None or r.embedder == embedder) and (path in (None, r.path)):
                return r
        raise KeyError(f"no result for mode {mode!r} embedder {embedder!r} path {path!r}")

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False)

    def to_table(self) -> str:
        lines = table_start(
            f"{self.dataset}: {self.documents} documents, {self.queries} queries",
            f"{'path':<9} {'embedder':<12} {'mode':<8} " + metric_columns() + f" {'ms/query':>9}",
        )
        for r in self.results:
            lines.append(
                f"{r.path:<9} {r.embedder:<12} {r.mode:<8} "
                + metric_columns(r.metrics)
                + f" {r.query_ms:>9.1f}"
            )
        for e in self.embedders:
            lines.append(
                f"{e.path} {e.embedder}: ingest {e.ingest_s:.1f} s, store {e.store_bytes / 1e6:.1f} MB, "
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
    targets: Sequence[EvalTarget] = (EMBEDDED,),
) -> EvalReport:
    """Score every (path, embedder, mode) on a BEIR set. embedders default to settings.embedder."""
    beir = load_set(Path(corpus_path), Path(queries_path), Path(qrels_path), name=name)
    return evaluate_set(
        settings, beir, top_k=top_k, modes=modes, embedders=embedders, fusion=fusion, targets=targets
    )


def evaluate_set(
    settings: Settings,
    beir: BeirSet,
    *,
    top_k: int = 10,
    modes: Sequence[str] = DEFAULT_MODES,
    embedders: Sequence[str] | None = None,
    fusion: FusionConfig | None = None,
    targets: Sequence[EvalTarget] = (EMBEDDED,),
) -> EvalReport:
    parsed = [_mode(m) for m in modes]
    fusion = fusion or FusionConfig()
    results: list[ModeResult] = []
    runs: list[EmbedderRun] = []
    if not targets:
        raise ValueError("evaluate on at least one target")
    for name in embedders or (settings.embedder,):
        # the configured kind belongs to the configured name; other names compared here say their own
        kind = settings.embedder_kind if name == settings.embedder else EmbedderKind.AUTO
        embedder = build_embedder(settings.model_copy(update={"embedder": name, "embedder_kind": kind}))
        embedder.load()
        memo = _PassageMemo(embedder)
        started = time.perf_counter()
        vectors = embedder.embed([EmbedInput(text=q.text) for q in beir.queries], role=Role.QUERY)
        embed_ms = (time.perf_counter() - started) * 1000 / max(len(beir.queries), 1)
        for target in targets:
            run, mode_results = _evaluate_target(
                settings, beir, name, memo, vectors, embed_ms, parsed, fusion, target
            )
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


class _PassageMemo:
    """The embedder, with passage vectors kept: the second path of an evaluation ingests the same
    texts, and embedding them again would only cost time."""

    def __init__(self, embedder: Embedder) -> None:
        self.inner = embedder
        self._cache: dict[EmbedInput, np.ndarray] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def embed(self, inputs: Sequence[EmbedInput], *, role: Role) -> np.ndarray:
        if role is Role.QUERY:
            return self.inner.embed(inputs, role=role)
        missing = list(dict.fromkeys(i for i in inputs if i not in self._cache))
        if missing:
            for inp, vec in zip(missing, self.inner.embed(missing, role=role), strict=True):
                self._cache[inp] = vec
        return np.stack([self._cache[i] for i in inputs]) if inputs else self.inner.embed(inputs, role=role)


def _evaluate_target(
    settings: Settings,
    beir: BeirSet,
    embedder_name: str,
    embedder: _PassageMemo,
    vectors: np.ndarray,
    embed_ms: float,
    modes: Sequence[FusionMode],
    fusion: FusionConfig,
    target: EvalTarget,
) -> tuple[EmbedderRun, list[ModeResult]]:
    workdir = Path(tempfile.mkdtemp(prefix="vlsearch-eval-"))
    token = uuid.uuid4().hex[:12]
    try:
        local = settings.model_copy(
            update={
                "embedder": embedder_name,
                "data_dir": workdir,
                "milvus_uri": target.milvus_uri,
                "milvus_token": SecretStr(target.milvus_token),
                "catalog_url": SecretStr(target.catalog_url),
            }
        )
        store = Store(
            uri=local.resolved_milvus_uri,
            token=target.milvus_token,
            dim=embedder.dim,
            embedder_id=embedder.model_id,
            memory_index=local.milvus_lite_memory_index,
            # a fresh prefix on a shared server: this run's collections are its own, dropped below
            collection_prefix=f"vlsearch_eval_{token}_" if target.on_server else "",
        )
        catalog = Catalog(url=local.resolved_catalog_url)
        store.connect()
        catalog.open()
        # record ids unique to this run: a shared catalog may hold another run's set
        run_id = (lambda i: f"{token}-{i}") if target.catalog_url else (lambda i: i)
        to_beir = {doc_id_for(str(SourceRef.record(run_id(d.id)))): d.id for d in beir.corpus}
        pipeline = IngestPipeline(settings=local, store=store, catalog=catalog, embedder=embedder)
        try:
            records = [TextRecord(id=run_id(d.id), title=d.title, text=d.text) for d in beir.corpus]
            started = time.perf_counter()
            pipeline.ingest_records(records, groups=("eval",))
            ingest_s = time.perf_counter() - started
            store_bytes = 0 if target.on_server else _du(workdir)
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
                            path=target.path,
                        )
                    )
            finally:
                searcher.close()
        finally:
            if target.on_server:
                store.drop_collections()
            if target.catalog_url:
                for doc_id in to_beir:
                    catalog.delete_document(doc_id)
            pipeline.close()
            store.close()
            catalog.close()
        run_info = EmbedderRun(
            embedder=embedder_name,
            model_id=embedder.model_id,
            dim=embedder.dim,
            ingest_s=ingest_s,
            store_bytes=store_bytes,
            query_embed_ms=embed_ms,
            path=target.path,
        )
        return run_info, out
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
