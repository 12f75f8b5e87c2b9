"""Evaluation with image and video queries: the whole product path (ingest files, SearchService).

A media set is the BEIR layout plus paths (see vlsearch.eval.media_set): corpus rows may name a
file to ingest (`path`), queries may carry an `image` and/or a `video`. Every file is ingested by
the real pipeline into a fresh temporary data dir, every query goes through `SearchService.search`
exactly as the API sends it, and scores are broken down by query modality (text, image, video),
once in retrieval order and once reranked when a reranker is available.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr

from vlsearch.catalog import FileStatus
from vlsearch.config import Settings
from vlsearch.errors import InputRejectedError
from vlsearch.eval.beir import load_qrels
from vlsearch.eval.grounding import (
    GROUNDING_DEPTH,
    AnswerRegion,
    GroundingOutcome,
    GroundingRow,
    judge,
    summarise,
)
from vlsearch.eval.metrics import metric_columns, score_run, table_start
from vlsearch.ids import doc_id_for
from vlsearch.ingest.pipeline import TextRecord
from vlsearch.source_ref import SourceRef
from vlsearch.types import Query

if TYPE_CHECKING:
    from vlsearch.runtime import Runtime

_RUN_DEPTH = 50
MODALITIES = ("text", "image", "video")


@dataclass(frozen=True)
class MediaDoc:
    id: str
    title: str
    text: str
    path: str  # relative to the set folder; "" for a text row


@dataclass(frozen=True)
class MediaQuery:
    id: str
    text: str
    image: str = ""
    video: str = ""
    regions: tuple[AnswerRegion, ...] = ()  # where the answer line is (grounding sets only)

    @property
    def modality(self) -> str:
        return "video" if self.video else "image" if self.image else "text"


@dataclass(frozen=True)
class MediaSet:
    name: str
    root: Path
    corpus: tuple[MediaDoc, ...]
    queries: tuple[MediaQuery, ...]
    qrels: dict[str, dict[str, int]]

    @property
    def has_media(self) -> bool:
        return any(d.path for d in self.corpus) or any(q.image or q.video for q in self.queries)


@dataclass(frozen=True)
class MediaEvalRow:
    modality: str  # text | image | video | all
    reranked: bool
    queries: int
    metrics: dict[str, float]
    ms_per_query: float


@dataclass(frozen=True)
class MediaEvalReport:
    dataset: str
    documents: int
    queries: int
    embedder: str
    reranker: str  # "" when none was available
    rerank_note: str  # why there are no reranked rows, or ""
    rows: tuple[MediaEvalRow, ...]
    ingest_s: float
    failed_files: tuple[str, ...]
    grounding: tuple[GroundingRow, ...] = ()  # when the set gives answer regions
    grounding_outcomes: tuple[GroundingOutcome, ...] = ()

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False)

    def to_table(self) -> str:
        lines = table_start(
            f"{self.dataset}: {self.documents} documents, {self.queries} queries, embedder {self.embedder}",
            f"{'modality':<8} {'rerank':<6} {'queries':>7} " + metric_columns(),
        )
        for r in self.rows:
            rerank = "yes" if r.reranked else "no"
            lines.append(f"{r.modality:<8} {rerank:<6} {r.queries:>7} " + metric_columns(r.metrics))
        if self.grounding:
            lines.append("")
            lines.append(
                f"grounding (answer line among a correct hit's top 3 boxes, IoU >= 0.5; correct hit "
                f"searched in the top {GROUNDING_DEPTH})"
            )
            lines.append(
                f"{'media':<8} {'rerank':<6} {'queries':>7} {'correct':>7} {'first':>5} {'box@1':>7} "
                f"{'box@3':>7} {'IoU':>5}"
            )
            for g in self.grounding:
                lines.append(
                    f"{g.kind:<8} {'yes' if g.reranked else 'no':<6} {g.queries:>7} {g.correct_hits:>7} "
                    f"{g.correct_first:>5} {g.grounded_at_1:>7.1%} {g.grounded_at_3:>7.1%} {g.mean_iou:>5.2f}"
                )
        if self.rerank_note:
            lines.append(f"no reranked rows: {self.rerank_note}")
        if self.failed_files:
            lines.append("failed to ingest: " + "; ".join(self.failed_files))
        return "\n".join(lines)


def _rows(path: Path) -> list[dict[str, object]]:
    out = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                row = json.loads(line)
                if not isinstance(row, dict) or "_id" not in row:
                    raise InputRejectedError(f"{path}:{n} has no '_id'; rows need _id")
                out.append(row)
    return out


def _regions(row: dict[str, object]) -> tuple[AnswerRegion, ...]:
    raw = row.get("regions")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise InputRejectedError(f"query {row['_id']}: 'regions' must be a list of answer regions")
    try:
        return tuple(AnswerRegion.from_dict(r) for r in raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputRejectedError(
            f"query {row['_id']}: an answer region needs 'doc' and 'box' [x0, y0, x1, y1] ({exc})"
        ) from exc


def load_media_set(corpus: Path, queries: Path, qrels: Path, *, name: str = "") -> MediaSet:
    """Read a BEIR set whose rows may carry paths (relative to the corpus file's folder)."""
    root = corpus.resolve().parent
    docs = tuple(
        MediaDoc(
            id=str(r["_id"]),
            title=str(r.get("title") or ""),
            text=str(r.get("text") or ""),
            path=str(r.get("path") or ""),
        )
        for r in _rows(corpus)
    )
    qs = tuple(
        MediaQuery(
            id=str(r["_id"]),
            text=str(r.get("text") or ""),
            image=str(r.get("image") or ""),
            video=str(r.get("video") or ""),
            regions=_regions(r),
        )
        for r in _rows(queries)
    )
    for ref in [d.path for d in docs] + [q.image for q in qs] + [q.video for q in qs]:
        if ref and not (root / ref).is_file():
            raise InputRejectedError(f"{root / ref} does not exist; paths are relative to {root}")
    return MediaSet(name=name or root.name, root=root, corpus=docs, queries=qs, qrels=load_qrels(qrels))


def evaluate_media_set(settings: Settings, mset: MediaSet, *, rerank: bool = True) -> MediaEvalReport:
    """Ingest the set into a fresh temporary data dir and score every query, per modality."""
    # pymilvus imports scipy.sparse lazily; the searcher's parallel collection searches then race on
    # a half-imported module ("partially initialized module 'scipy.sparse._bsr'") on the first query.
    import scipy.sparse  # noqa: F401

    from vlsearch.models.base import ModelState
    from vlsearch.runtime import Runtime

    workdir = Path(tempfile.mkdtemp(prefix="vlsearch-media-eval-"))
    local = settings.model_copy(
        update={
            "data_dir": workdir,
            "milvus_uri": "",
            "catalog_url": SecretStr(""),
            "reranker_url": "",
            "allowed_roots": [mset.root],
        }
    )
    rt = Runtime.from_settings(local)
    try:
        rt.start()
        started = time.perf_counter()
        to_set: dict[str, str] = {}
        failed: list[str] = []
        files = [d for d in mset.corpus if d.path]
        report = rt.pipeline.ingest_paths([mset.root / d.path for d in files], groups=("eval",))
        for doc, fr in zip(files, report.results, strict=True):
            if fr.doc_id and fr.status is not FileStatus.FAILED:
                to_set[fr.doc_id] = doc.id
            else:
                failed.append(f"{doc.path}: {fr.error}")
        texts = [d for d in mset.corpus if not d.path]
        if texts:
            rt.pipeline.ingest_records(
                [TextRecord(id=d.id, title=d.title, text=d.text) for d in texts], groups=("eval",)
            )
            to_set.update({doc_id_for(str(SourceRef.record(d.id))): d.id for d in texts})
        ingest_s = time.perf_counter() - started

        reranker_name, note, passes = "", "", [False]
        if rerank and rt.reranker is not None:
            info = rt.models.load("reranker")
            if info.state == ModelState.READY:
                reranker_name, passes = info.model_id or "reranker", [False, True]
            else:
                note = f"the reranker could not be loaded: {info.error}"
        elif rerank:
            note = (
                "no reranker is configured for this profile (set VLSEARCH_RERANKER / VLSEARCH_RERANK_ON_CPU)"
            )

        rows: list[MediaEvalRow] = []
        grounding: list[GroundingRow] = []
        outcomes: list[GroundingOutcome] = []
        for reranked in passes:
            runs: dict[str, list[str]] = {}
            ms: dict[str, float] = {}
            for q in mset.queries:
                query = _query(mset, q, top_k=_RUN_DEPTH, rerank=reranked, per_doc_limit=1)
                t0 = time.perf_counter()
                result = rt.search.search(query)
                ms[q.id] = (time.perf_counter() - t0) * 1000
                if reranked and result.hits and not result.reranked:  # no candidates: nothing to rerank
                    raise RuntimeError(f"query {q.id} was not reranked: {result.degraded}")
                runs[q.id] = [to_set.get(h.item.doc_id, h.item.doc_id) for h in result.hits]
            for modality in (*MODALITIES, "all"):
                ids = [q.id for q in mset.queries if modality in ("all", q.modality)]
                if not ids:
                    continue
                rows.append(
                    MediaEvalRow(
                        modality=modality,
                        reranked=reranked,
                        queries=len(ids),
                        metrics=score_run({i: runs[i] for i in ids}, {i: mset.qrels.get(i, {}) for i in ids}),
                        ms_per_query=sum(ms[i] for i in ids) / len(ids),
                    )
                )
            grounded = [q for q in mset.queries if q.regions]
            if grounded:
                found = [_ground(rt, mset, q, to_set, reranked=reranked) for q in grounded]
                grounding += summarise(found, reranked=reranked)
                outcomes += found
        return MediaEvalReport(
            dataset=mset.name,
            documents=len(mset.corpus),
            queries=len(mset.queries),
            embedder=rt.embedder.model_id,
            reranker=reranker_name,
            rerank_note=note,
            rows=tuple(rows),
            ingest_s=ingest_s,
            failed_files=tuple(failed),
            grounding=tuple(grounding),
            grounding_outcomes=tuple(outcomes),
        )
    finally:
        rt.close()
        shutil.rmtree(workdir, ignore_errors=True)


def _query(mset: MediaSet, q: MediaQuery, *, top_k: int, rerank: bool, per_doc_limit: int) -> Query:
    """The set's query as the service takes it (its image or video resolved inside the set)."""
    return Query(
        text=q.text,
        image_paths=(str(mset.root / q.image),) if q.image else (),
        video_path=str(mset.root / q.video) if q.video else None,
        top_k=top_k,
        rerank=rerank,
        per_doc_limit=per_doc_limit,
    )


def _ground(
    rt: Runtime, mset: MediaSet, q: MediaQuery, to_set: dict[str, str], *, reranked: bool
) -> GroundingOutcome:
    """Search as a user does (top 10, every row of a document may show) and judge the hit on the
    answer's page / slide / moment."""
    query = _query(mset, q, top_k=GROUNDING_DEPTH, rerank=reranked, per_doc_limit=0)
    hits = rt.search.search(query).hits
    return judge(q.id, q.regions, hits, [to_set.get(h.item.doc_id, h.item.doc_id) for h in hits])
