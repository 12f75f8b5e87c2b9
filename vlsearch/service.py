"""Query-time orchestration: query media → retrieval → (optional) rerank → hits with timings."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from vlsearch.errors import ModelUnavailableError
from vlsearch.models.base import ModelState
from vlsearch.retrieve.visibility import settled
from vlsearch.types import Hit, Query

if TYPE_CHECKING:
    from vlsearch.catalog import Catalog
    from vlsearch.evidence.highlight import Highlighter
    from vlsearch.rerank.stage import RerankStage
    from vlsearch.retrieve.query_media import QueryMediaReader
    from vlsearch.retrieve.searcher import Searcher

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SearchResult:
    hits: tuple[Hit, ...]
    reranked: bool
    degraded: str = ""  # why the reranker did not run although asked ("" when it ran or was not asked)
    timings_ms: Mapping[str, float] = field(default_factory=dict)
    total_candidates: int = 0


class SearchService:
    def __init__(
        self,
        *,
        searcher: Searcher,
        query_media: QueryMediaReader,
        rerank_stage: RerankStage | None = None,
        rerank_autoload: bool = False,
        catalog: Catalog | None = None,
        highlighter: Highlighter | None = None,
    ) -> None:
        """`catalog`: when given, only rows of settled documents are shown (see retrieve.visibility).
        `highlighter`: when given, every hit carries its evidence (boxes on its media, snippet)."""
        self._catalog = catalog
        self._highlighter = highlighter
        self._searcher = searcher
        self._query_media = query_media
        self._rerank_stage = rerank_stage
        self._rerank_autoload = rerank_autoload

    def search(self, query: Query) -> SearchResult:
        timings: dict[str, float] = {}
        started = time.perf_counter()
        media_texts: list[str] = []
        media_images: list[str] = []
        media_frames: list[str] = []
        if query.image_paths or query.video_path:
            media = self._query_media.read(image_paths=query.image_paths, video_path=query.video_path)
            media_texts.extend(media.part_texts)
            media_images.extend(media.image_paths)
            media_frames.extend(media.frame_paths)
            timings["query_media"] = _ms(started)

        t0 = time.perf_counter()
        candidates = self._searcher.retrieve(
            query, media_texts=media_texts, media_images=media_images, media_frames=media_frames
        )
        if self._catalog is not None:
            candidates = settled(self._catalog, candidates)
        timings["retrieve"] = _ms(t0)

        reranked, degraded = False, ""
        if query.rerank and candidates:
            degraded = self._rerank_unavailable()
        if query.rerank and candidates and not degraded:
            assert self._rerank_stage is not None
            t1 = time.perf_counter()
            try:
                hits = self._rerank_stage.apply(query, candidates, top_k=query.top_k)
                reranked = True
            except ModelUnavailableError as exc:
                # A remote reranker that is down: answer in retrieval order and say why.
                log.warning("rerank skipped: %s", exc)
                degraded = f"reranker unavailable, results in retrieval order: {exc}"
                hits = [Hit(candidate=c, rank=i + 1) for i, c in enumerate(candidates[: query.top_k])]
            timings["rerank"] = _ms(t1)
        else:
            hits = [Hit(candidate=c, rank=i + 1) for i, c in enumerate(candidates[: query.top_k])]
        if self._highlighter is not None and hits:
            t2 = time.perf_counter()
            hits = self.highlight(self._searcher.query_text(query, media_texts), hits)
            timings["highlight"] = _ms(t2)
        timings["total"] = _ms(started)
        return SearchResult(
            hits=tuple(hits),
            reranked=reranked,
            degraded=degraded if query.rerank else "",
            timings_ms=timings,
            total_candidates=len(candidates),
        )

    def with_highlighter(self, highlighter: Highlighter | None) -> SearchService:
        """The same service (same searcher, reranker, catalog) with another highlighter, or none."""
        return SearchService(
            searcher=self._searcher,
            query_media=self._query_media,
            rerank_stage=self._rerank_stage,
            rerank_autoload=self._rerank_autoload,
            catalog=self._catalog,
            highlighter=highlighter,
        )

    def warm_up(self) -> None:
        """Load what the first search would otherwise wait for besides the models (idempotent)."""
        if self._highlighter is not None:
            self._highlighter.warm_up()

    def highlight(self, query_text: str, hits: Sequence[Hit]) -> list[Hit]:
        """The hits with their evidence: only the hits' own rows are read (they passed the caller's
        access filter), so no other row's lines or words can show."""
        if self._highlighter is None:
            return list(hits)
        match = self._highlighter.prepare(query_text)
        return [replace(hit, evidence=self._highlighter.evidence(match, hit.item)) for hit in hits]

    def _rerank_unavailable(self) -> str:
        """'' when the reranker can run now, else the reason it cannot (results keep retrieval order)."""
        if self._rerank_stage is None:
            return "no reranker configured for this profile"
        state = self._rerank_stage.reranker.info().state
        if state == ModelState.READY:
            return ""
        if state == ModelState.FAILED:
            return f"reranker failed, results in retrieval order: {self._rerank_stage.reranker.info().error}"
        if self._rerank_autoload:
            return ""  # loads on first use
        return "reranker not loaded (POST /v1/models/reranker/load or the UI's Load model button)"


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 3)
