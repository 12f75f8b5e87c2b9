"""Query → candidate union: embed once, dense + BM25 over every collection, fuse, dedupe, filter."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import Any, Protocol

import numpy as np

from vlsearch.config import Settings
from vlsearch.models.base import Embedder
from vlsearch.retrieve.fusion import FusionConfig, FusionMode, fuse
from vlsearch.retrieve.lanes import interleave_by_language, languages_meet, primary_query
from vlsearch.types import COLLECTIONS, Candidate, EmbedInput, Modality, Query, Role

log = logging.getLogger(__name__)

_EMPTY_TTL_S = 5.0  # how long "this collection is empty" is trusted before asking again


class SearchStore(Protocol):
    """The part of vlsearch.milvus.Store the Searcher uses."""

    def search_dense(
        self, collection: str, vector: np.ndarray, *, limit: int, flt: Any
    ) -> list[Candidate]: ...

    def search_dense_many(
        self, collection: str, vectors: np.ndarray, *, limit: int, flt: Any
    ) -> list[list[Candidate]]: ...

    def search_bm25(self, collection: str, text: str, *, limit: int, flt: Any) -> list[Candidate]: ...

    def hybrid_search(
        self, collection: str, vector: np.ndarray, text: str, *, limit: int, flt: Any, rrf_k: int = 60
    ) -> list[Candidate]: ...

    def count(self, collection: str | None = None, *, doc_id: str | None = None) -> int: ...

    @property
    def searches_in_memory(self) -> bool: ...


class Searcher:
    def __init__(
        self,
        *,
        store: SearchStore,
        embedder: Embedder,
        settings: Settings,
        fusion: FusionConfig | None = None,
        workers: int = 6,
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._limit = settings.candidates_per_collection
        self.fusion = fusion or FusionConfig()
        self._workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._emptiness: dict[str, tuple[float, bool]] = {}  # collection -> (valid until, empty)

    def close(self) -> None:
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    # -- public -------------------------------------------------------------------------------

    def query_text(self, query: Query, media_texts: Sequence[str] = ()) -> str:
        """What the query says in words: its text plus the OCR text of any query image/frames."""
        parts = [query.text.strip(), *(t.strip() for t in media_texts)]
        return "\n".join(p for p in parts if p)

    def embed_query(
        self,
        query: Query,
        *,
        media_texts: Sequence[str] = (),
        media_images: Sequence[str] = (),
        media_frames: Sequence[str] = (),
    ) -> np.ndarray | None:
        text = self.query_text(query, media_texts)
        images = tuple(media_images) or query.image_paths
        frames = tuple(media_frames)
        if not self._embedder.multimodal:
            images, frames = (), ()  # CPU embedders see query media only through its OCR text
        if not text and not images and not frames:
            return None
        vec = self._embedder.embed(
            [EmbedInput(text=text, images=tuple(images), video_frames=frames)], role=Role.QUERY
        )
        return np.asarray(vec[0], dtype=np.float32)

    def retrieve(
        self,
        query: Query,
        *,
        media_texts: Sequence[str] = (),
        media_images: Sequence[str] = (),
        media_frames: Sequence[str] = (),
        mode: FusionMode | None = None,
    ) -> list[Candidate]:
        """Fused, deduped candidates, best first (longer than top_k: the reranker picks from them).

        `media_texts`: what each query medium says (one text per image, one for the video). With an
        embedder that reads media only as text, a query with media is retrieved whole and medium by
        medium, and the lists' fused scores averaged per row (see _retrieve_parts); a multimodal
        embedder reads everything together in one input.
        """
        mode = mode or self.fusion.mode
        parts = self.query_parts(query, media_texts)
        if len(parts) > 1 and not self._embedder.multimodal:
            return _per_doc(self._retrieve_parts(query, parts, mode), query.per_doc_limit)
        text = self.query_text(query, media_texts)
        vector = None
        if mode is not FusionMode.BM25:
            vector = self.embed_query(
                query, media_texts=media_texts, media_images=media_images, media_frames=media_frames
            )
        return self.retrieve_with_vector(query, text=text, vector=vector, mode=mode)

    def query_parts(self, query: Query, media_texts: Sequence[str] = ()) -> list[str]:
        """The texts retrieved with: the whole query (typed text and every medium's text) first,
        then each medium's text on its own. One part only when there is nothing to split."""
        media: list[str] = []
        for raw in media_texts:
            text = raw.strip()
            if text and text not in media:
                media.append(text)
        whole = self.query_text(query, media)
        return [whole, *(m for m in media if m != whole)] if whole else []

    def _retrieve_parts(self, query: Query, parts: Sequence[str], mode: FusionMode) -> list[Candidate]:
        """Each part retrieved as a query of its own; the fused scores averaged per row.

        The whole query alone gives its text one script and one embedding: a photo's "Node-07" label
        appended to "Node-07报错日志分析" made an all-Chinese query, so the English manual about
        Node-07 lost its BM25 evidence (fusion's cross-script rule) while Chinese documents that
        merely mention Node-07 kept theirs, and the e5 vector blurred both (manual 3rd). A medium's
        text (a label, a caption, a slide title) stands on its own, so it is also retrieved alone,
        under its own script and lexical profile; the typed text is not: it often only points at the
        media ("what is this?", "这是什么"), so it is read with them, in the whole query. A row that
        answers the whole query and what each medium shows ranks above one that answers one part.
        """
        vectors: list[np.ndarray | None] = [None] * len(parts)
        if mode is not FusionMode.BM25:
            embedded = self._embedder.embed([EmbedInput(text=t) for t in parts], role=Role.QUERY)
            vectors = [np.asarray(v, dtype=np.float32) for v in embedded]
        whole = replace(query, per_doc_limit=0)
        ranked = [
            self.retrieve_with_vector(whole, text=t, vector=v, mode=mode)
            for t, v in zip(parts, vectors, strict=True)
        ]
        return average_parts(ranked)

    def retrieve_with_vector(
        self, query: Query, *, text: str, vector: np.ndarray | None, mode: FusionMode | None = None
    ) -> list[Candidate]:
        """Retrieval for an already-embedded query (eval embeds all queries in one batch)."""
        mode = mode or self.fusion.mode
        collections = self._collections(query)
        use_dense = vector is not None and mode is not FusionMode.BM25
        use_bm25 = bool(text.strip()) and mode is not FusionMode.DENSE
        flt = query.filters
        # an English query to the two-lane ensemble: also the multilingual lane alone (lanes.py)
        primary = (
            primary_query(self._embedder, text, vector)
            if use_dense and vector is not None and mode is not FusionMode.RRF
            else None
        )
        calls: list[tuple[str, str, Callable[[], Any]]] = []
        for coll in collections:
            if mode is FusionMode.RRF and use_dense and use_bm25:
                calls.append(
                    (
                        coll,
                        "rrf",
                        _bind(
                            self._store.hybrid_search, coll, vector, text, self._limit, flt, self.fusion.rrf_k
                        ),
                    )
                )
                continue
            if use_dense and primary is not None:
                both = np.stack([np.asarray(vector, dtype=np.float32), primary])
                calls.append(
                    (coll, "lanes", _bind_dense(self._store.search_dense_many, coll, both, self._limit, flt))
                )
            elif use_dense:
                calls.append(
                    (coll, "dense", _bind_dense(self._store.search_dense, coll, vector, self._limit, flt))
                )
            if use_bm25:
                calls.append(
                    (coll, "bm25", _bind_text(self._store.search_bm25, coll, text, self._limit, flt))
                )
        results = self._run(calls)
        dense = [r for (_, kind, _), r in zip(calls, results, strict=True) if kind == "dense"]
        lanes = [r for (_, kind, _), r in zip(calls, results, strict=True) if kind == "lanes"]
        if lanes:  # [ensemble, multilingual lane] per collection
            if languages_meet([lst for pair in lanes for lst in pair]):
                dense = [interleave_by_language(pair[1], pair[0]) for pair in lanes]
            else:
                dense = [pair[0] for pair in lanes]
        bm25 = [r for (_, kind, _), r in zip(calls, results, strict=True) if kind == "bm25"]
        if mode is FusionMode.RRF and use_dense and use_bm25:
            merged = sorted((c for r in results for c in r), key=lambda c: (-c.score, c.item.id))
        else:
            effective = mode if (use_dense and use_bm25) or mode is not FusionMode.RRF else FusionMode.HYBRID
            merged = fuse(
                text,
                dense,
                bm25,
                replace(self.fusion, mode=effective),
            )
        return _per_doc(merged, query.per_doc_limit)

    # -- internals ----------------------------------------------------------------------------

    def _collections(self, query: Query) -> list[str]:
        allowed = set(COLLECTIONS)
        if query.filters.modalities:
            allowed = {Modality(m).collection for m in query.filters.modalities}
        return [c for c in COLLECTIONS if c in allowed and not self._is_empty(c)]

    def _is_empty(self, collection: str) -> bool:
        """Skip collections with no rows (most stores have no video); re-checked every few seconds."""
        now = time.monotonic()
        cached = self._emptiness.get(collection)
        if cached is not None and cached[0] > now:
            return cached[1]
        empty = self._store.count(collection) == 0
        self._emptiness[collection] = (now + _EMPTY_TTL_S, empty)
        return empty

    def _run(self, calls: list[tuple[str, str, Callable[[], Any]]]) -> list[Any]:
        # An in-process index answers in well under a millisecond, less than a hand-off to a thread
        # costs; calls that wait on Milvus overlap in the pool.
        if len(calls) <= 1 or self._store.searches_in_memory:
            return [fn() for _, _, fn in calls]
        pool = self._executor()
        futures: list[Future[Any]] = [pool.submit(fn) for _, _, fn in calls]
        return [f.result() for f in futures]

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=self._workers, thread_name_prefix="vlsearch-search"
                )
            return self._pool


def _bind(
    fn: Callable[..., list[Candidate]], coll: str, vector: Any, text: str, limit: int, flt: Any, rrf_k: int
) -> Callable[[], list[Candidate]]:
    return lambda: fn(coll, vector, text, limit=limit, flt=flt, rrf_k=rrf_k)


def _bind_dense(fn: Callable[..., Any], coll: str, vector: Any, limit: int, flt: Any) -> Callable[[], Any]:
    return lambda: fn(coll, vector, limit=limit, flt=flt)


def _bind_text(
    fn: Callable[..., list[Candidate]], coll: str, text: str, limit: int, flt: Any
) -> Callable[[], list[Candidate]]:
    return lambda: fn(coll, text, limit=limit, flt=flt)


def average_parts(ranked: Sequence[Sequence[Candidate]]) -> list[Candidate]:
    """Rows of several parts' fused lists scored by their mean fused score (0 where a part missed the
    row); each row keeps the raw scores of the part that scored it highest and every part's found_by."""
    total: dict[str, float] = {}
    best: dict[str, Candidate] = {}
    found: dict[str, set[str]] = {}
    for candidates in ranked:
        for c in candidates:
            key = c.item.id
            total[key] = total.get(key, 0.0) + c.score
            found.setdefault(key, set()).update(c.found_by)
            if key not in best or c.score > best[key].score:
                best[key] = c
    n = max(1, len(ranked))
    out = [
        replace(
            best[key],
            score=score / n,
            found_by=tuple(kind for kind in ("dense", "bm25") if kind in found[key]),
        )
        for key, score in total.items()
    ]
    out.sort(key=lambda c: (-c.score, c.item.id))
    return out


def _per_doc(candidates: list[Candidate], per_doc_limit: int) -> list[Candidate]:
    """Keep each document's best `per_doc_limit` rows (0 = all), so one file cannot flood the list."""
    if per_doc_limit <= 0:
        return candidates
    seen: dict[str, int] = {}
    out = []
    for c in candidates:
        n = seen.get(c.item.doc_id, 0)
        if n < per_doc_limit:
            out.append(c)
            seen[c.item.doc_id] = n + 1
    return out
