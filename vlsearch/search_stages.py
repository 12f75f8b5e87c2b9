"""The stages a search runs through, each behind one small interface (Haystack's components are
the model): a stage takes the search's state and returns the next one, and says whether it ran.

`SearchService` times every stage that ran (`timings_ms[stage.name]`) and knows nothing else about
them, so a stage is swapped or added by passing another list, not by editing the service.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from vlsearch.errors import ModelUnavailableError
from vlsearch.models.base import ModelState
from vlsearch.retrieve.visibility import settled
from vlsearch.types import Candidate, Hit, Query

if TYPE_CHECKING:
    from vlsearch.catalog import Catalog
    from vlsearch.evidence.highlight import Highlighter
    from vlsearch.rerank.stage import RerankStage
    from vlsearch.retrieve.query_media import QueryMediaReader
    from vlsearch.retrieve.searcher import Searcher

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SearchState:
    """What a search knows so far; each stage returns a new one."""

    query: Query
    media_texts: tuple[str, ...] = ()
    media_images: tuple[str, ...] = ()
    media_frames: tuple[str, ...] = ()
    candidates: tuple[Candidate, ...] = ()
    hits: tuple[Hit, ...] | None = None  # None until a stage ranks: the top-k of the candidates
    reranked: bool = False
    degraded: str = ""  # why the reranker did not run although asked

    def ranked(self) -> tuple[Hit, ...]:
        if self.hits is not None:
            return self.hits
        return tuple(Hit(candidate=c, rank=i + 1) for i, c in enumerate(self.candidates[: self.query.top_k]))


class SearchStage(Protocol):
    name: str  # its key in timings_ms

    def run(self, state: SearchState) -> tuple[SearchState, bool]:
        """The next state, and False when the stage had nothing to do (then it is not timed)."""
        ...


class QueryMediaStage:
    """An uploaded image or video → OCR text, images and keyframes to search with."""

    name = "query_media"

    def __init__(self, *, reader: QueryMediaReader) -> None:
        self._reader = reader

    def run(self, state: SearchState) -> tuple[SearchState, bool]:
        query = state.query
        if not (query.image_paths or query.video_path):
            return state, False
        media = self._reader.read(image_paths=query.image_paths, video_path=query.video_path)
        return (
            replace(
                state,
                media_texts=(*state.media_texts, *media.part_texts),
                media_images=(*state.media_images, *media.image_paths),
                media_frames=(*state.media_frames, *media.frame_paths),
            ),
            True,
        )


class RetrieveStage:
    """Dense + BM25 over every collection, fused; with a catalog, only settled documents' rows."""

    name = "retrieve"

    def __init__(self, *, searcher: Searcher, catalog: Catalog | None = None) -> None:
        self._searcher = searcher
        self._catalog = catalog

    def run(self, state: SearchState) -> tuple[SearchState, bool]:
        candidates = self._searcher.retrieve(
            state.query,
            media_texts=list(state.media_texts),
            media_images=list(state.media_images),
            media_frames=list(state.media_frames),
        )
        if self._catalog is not None:
            candidates = settled(self._catalog, candidates)
        return replace(state, candidates=tuple(candidates)), True


class RerankSearchStage:
    """The reranker over the candidates when the query asks for it and the reranker can run now;
    otherwise retrieval order, with the reason in `degraded`."""

    name = "rerank"

    def __init__(self, *, stage: RerankStage | None, autoload: bool = False) -> None:
        self._stage = stage
        self._autoload = autoload

    def run(self, state: SearchState) -> tuple[SearchState, bool]:
        if not (state.query.rerank and state.candidates):
            return state, False
        reason = self.unavailable()
        if reason:
            return replace(state, degraded=reason), False
        assert self._stage is not None
        try:
            hits = self._stage.apply(state.query, list(state.candidates), top_k=state.query.top_k)
        except ModelUnavailableError as exc:
            # A remote reranker that is down: answer in retrieval order and say why.
            log.warning("rerank skipped: %s", exc)
            return replace(state, degraded=f"reranker unavailable, results in retrieval order: {exc}"), True
        return replace(state, hits=tuple(hits), reranked=True), True

    def unavailable(self) -> str:
        """'' when the reranker can run now, else the reason it cannot (results keep retrieval order)."""
        if self._stage is None:
            return "no reranker configured for this profile"
        info = self._stage.reranker.info()
        if info.state == ModelState.READY:
            return ""
        if info.state == ModelState.FAILED:
            return f"reranker failed, results in retrieval order: {info.error}"
        if self._autoload:
            return ""  # loads on first use
        return "reranker not loaded (POST /v1/models/reranker/load or the UI's Load model button)"


class HighlightStage:
    """Each returned hit's evidence: only the hits' own rows are read (they passed the caller's
    access filter), so no other row's lines or words can show."""

    name = "highlight"

    def __init__(self, *, highlighter: Highlighter, searcher: Searcher) -> None:
        self.highlighter = highlighter
        self._searcher = searcher

    def run(self, state: SearchState) -> tuple[SearchState, bool]:
        hits = state.ranked()
        if not hits:
            return state, False
        query_text = self._searcher.query_text(state.query, list(state.media_texts))
        return replace(state, hits=tuple(self.highlight(query_text, hits))), True

    def highlight(self, query_text: str, hits: tuple[Hit, ...] | list[Hit]) -> list[Hit]:
        match = self.highlighter.prepare(query_text)
        return [replace(hit, evidence=self.highlighter.evidence(match, hit.item)) for hit in hits]
