"""Query-time orchestration: the search stages in order, each timed, then the result.

The default stages (vlsearch.search_stages): query media → retrieval (with visibility) → optional
rerank → optional highlighting. A different list is passed as `stages`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vlsearch.search_stages import (
    HighlightStage,
    QueryMediaStage,
    RerankSearchStage,
    RetrieveStage,
    SearchStage,
    SearchState,
)
from vlsearch.types import Hit, Query

if TYPE_CHECKING:
    from vlsearch.catalog import Catalog
    from vlsearch.evidence.highlight import Highlighter
    from vlsearch.rerank.stage import RerankStage
    from vlsearch.retrieve.query_media import QueryMediaReader
    from vlsearch.retrieve.searcher import Searcher


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
        stages: Sequence[SearchStage] | None = None,
    ) -> None:
        """`catalog`: when given, only rows of settled documents are shown (see retrieve.visibility).
        `highlighter`: when given, every hit carries its evidence (boxes on its media, snippet).
        `stages`: run these instead of the ones the other arguments build."""
        self._searcher, self._query_media, self._rerank_stage = searcher, query_media, rerank_stage
        default: list[SearchStage] = [
            QueryMediaStage(reader=query_media),
            RetrieveStage(searcher=searcher, catalog=catalog),
            RerankSearchStage(stage=rerank_stage, autoload=rerank_autoload),
        ]
        if highlighter is not None:
            default.append(HighlightStage(highlighter=highlighter, searcher=searcher))
        self.stages: tuple[SearchStage, ...] = tuple(stages if stages is not None else default)
        self._highlight = next((s for s in self.stages if isinstance(s, HighlightStage)), None)

    @property
    def searcher(self) -> Searcher:
        return self._searcher

    @property
    def query_media(self) -> QueryMediaReader:
        return self._query_media

    @property
    def rerank_stage(self) -> RerankStage | None:
        return self._rerank_stage

    def search(self, query: Query) -> SearchResult:
        timings: dict[str, float] = {}
        started = time.perf_counter()
        state = SearchState(query=query)
        for stage in self.stages:
            t0 = time.perf_counter()
            state, ran = stage.run(state)
            if ran:
                timings[stage.name] = _ms(t0)
        timings["total"] = _ms(started)
        return SearchResult(
            hits=state.ranked(),
            reranked=state.reranked,
            degraded=state.degraded if query.rerank else "",
            timings_ms=timings,
            total_candidates=len(state.candidates),
        )

    def with_highlighter(self, highlighter: Highlighter | None) -> SearchService:
        """The same stages with the highlighting stage swapped for another highlighter's, or dropped."""
        stages: list[SearchStage] = [s for s in self.stages if not isinstance(s, HighlightStage)]
        if highlighter is not None:
            stages.append(HighlightStage(highlighter=highlighter, searcher=self._searcher))
        return SearchService(
            searcher=self._searcher,
            query_media=self._query_media,
            rerank_stage=self._rerank_stage,
            stages=stages,
        )

    def warm_up(self) -> None:
        """Load what the first search would otherwise wait for besides the models (idempotent)."""
        if self._highlight is not None:
            self._highlight.highlighter.warm_up()

    def highlight(self, query_text: str, hits: Sequence[Hit]) -> list[Hit]:
        """The hits with their evidence: only the hits' own rows are read (they passed the caller's
        access filter), so no other row's lines or words can show."""
        if self._highlight is None:
            return list(hits)
        return self._highlight.highlight(query_text, list(hits))


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 3)
