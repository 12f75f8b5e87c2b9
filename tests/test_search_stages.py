"""SearchService runs stages through one interface and times each that ran: a stage is added or
swapped by passing a list, and the default list behaves as the service always did."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from vlsearch.search_stages import RerankSearchStage, RetrieveStage, SearchState
from vlsearch.service import SearchService
from vlsearch.types import Candidate, Item, Locator, Modality, Query


def _candidate(i: int) -> Candidate:
    item = Item(
        id=f"i{i}", doc_id=f"d{i}", modality=Modality.TEXT, text=f"row {i}", locator=Locator(),
        source=f"/srv/{i}.txt", name=f"{i}.txt", doc_type="text", groups=("public",),
    )  # fmt: skip
    return Candidate(item=item, score=1.0 - i / 10)


class FakeSearcher:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def retrieve(self, query: Query, **media: Any) -> list[Candidate]:
        self.calls.append(media)
        return [_candidate(i) for i in range(5)]

    def query_text(self, query: Query, media_texts: Any = ()) -> str:
        return query.text


class NoMedia:
    def read(self, **_: Any) -> Any:
        raise AssertionError("a text query reads no media")


class DropOdd:
    """A stage a deployment might add: keep only even rows (runs after retrieval)."""

    name = "drop_odd"

    def run(self, state: SearchState) -> tuple[SearchState, bool]:
        kept = tuple(c for c in state.candidates if int(c.item.id[1:]) % 2 == 0)
        return replace(state, candidates=kept), True


def _service(**kwargs: Any) -> SearchService:
    return SearchService(searcher=FakeSearcher(), query_media=NoMedia(), **kwargs)  # type: ignore[arg-type]


def test_default_stages_time_what_ran_and_skip_the_rest() -> None:
    svc = _service()
    assert [s.name for s in svc.stages] == ["query_media", "retrieve", "rerank"]
    result = svc.search(Query(text="q", top_k=3))
    assert [h.item.id for h in result.hits] == ["i0", "i1", "i2"] and [h.rank for h in result.hits] == [
        1,
        2,
        3,
    ]
    assert set(result.timings_ms) == {"retrieve", "total"}  # no media, no reranker: not timed
    assert result.total_candidates == 5 and not result.reranked
    assert result.degraded == "no reranker configured for this profile"
    assert svc.search(Query(text="q", rerank=False)).degraded == ""


def test_a_stage_is_added_without_editing_the_service() -> None:
    searcher = FakeSearcher()
    stages = [RetrieveStage(searcher=searcher), DropOdd(), RerankSearchStage(stage=None)]  # type: ignore[arg-type]
    svc = SearchService(searcher=searcher, query_media=NoMedia(), stages=stages)  # type: ignore[arg-type]
    result = svc.search(Query(text="q", top_k=10, rerank=False))
    assert [h.item.id for h in result.hits] == ["i0", "i2", "i4"]
    assert list(result.timings_ms) == ["retrieve", "drop_odd", "total"]
    assert result.total_candidates == 3
