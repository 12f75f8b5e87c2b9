"""Retrieval → Qwen3-VL rerank through the real runtime, with a tiny random model on the CPU.

The tiny model's scores carry no meaning; what is checked is the wiring: the reranker only runs once
loaded (CPU profile), hits keep both scores and are ordered by the rerank score, the per-request
instruction reaches the model, image rows hand their stored image to it, and a repeated query is
served from the score cache.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.pipeline.conftest import make_settings
from vlsearch.demo.writers import Doc, Figure, Heading, Para, panel_png, write_docx
from vlsearch.runtime import Runtime
from vlsearch.testing.tiny_qwen3vl import build_tiny_qwen3vl
from vlsearch.types import Modality, Query


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    tmp = tmp_path_factory.mktemp("rerank-wired")
    model = build_tiny_qwen3vl(tmp / "tiny-reranker", seed=3)
    settings = make_settings(tmp, rerank_on_cpu=True, reranker=str(model), rerank_top_n=6)
    rt = Runtime.from_settings(settings)
    rt.start()
    root = settings.resolved_allowed_roots[0]
    docs = [
        write_docx(
            root / f"guide{i}.docx",
            Doc(
                f"Guide {i}",
                (Heading(f"Fan {i}"), Para(f"Fan module F-{i} replacement and airflow checks, step {i}.")),
            ),
        )
        for i in range(4)
    ]
    docs.append(
        write_docx(
            root / "panel.docx",
            Doc(
                "Panel",
                (
                    Para("Front panel lights of the fan tray."),
                    Figure(panel_png("FAN TRAY", (("FAN", "#e0201b"),)), "Fan tray panel"),
                ),
            ),
        )
    )
    report = rt.pipeline.ingest_paths(docs, groups=("public",))
    assert all(r.status == "ingested" for r in report.results), report.results
    try:
        yield rt
    finally:
        rt.close()


def test_reranker_waits_for_an_explicit_load_on_cpu(runtime: Runtime) -> None:
    result = runtime.search.search(Query(text="fan module replacement", top_k=5))
    assert not result.reranked
    assert "not loaded" in result.degraded
    assert all(hit.rerank_score is None for hit in result.hits)


def test_hits_are_ordered_by_rerank_score_and_keep_both_scores(runtime: Runtime) -> None:
    info = runtime.models.load("reranker")
    assert info.state.value == "ready"
    result = runtime.search.search(Query(text="fan module replacement", top_k=5, per_doc_limit=0))
    assert result.reranked and not result.degraded
    scores = [hit.rerank_score for hit in result.hits]
    assert all(s is not None and 0.0 <= s <= 1.0 for s in scores)
    assert scores == sorted(scores, reverse=True)  # type: ignore[type-var]
    assert all(hit.candidate.score is not None for hit in result.hits)
    assert [hit.rank for hit in result.hits] == list(range(1, len(result.hits) + 1))
    assert "rerank" in result.timings_ms


def test_image_rows_reach_the_reranker_with_their_stored_image(runtime: Runtime) -> None:
    stage = runtime.search.rerank_stage
    assert stage is not None
    candidates = runtime.search.searcher.retrieve(Query(text="fan tray panel lights", per_doc_limit=0))
    image_rows = [c for c in candidates if c.item.modality is Modality.IMAGE]
    assert image_rows, "the figure should be retrieved"
    doc_input = stage.document_input(image_rows[0], candidates)
    assert doc_input.image, "an image row must hand its stored image to the reranker"


def test_repeated_query_is_served_from_the_cache(runtime: Runtime) -> None:
    query = Query(text="airflow checks", top_k=3, instruction="Find the maintenance step.")
    first = runtime.search.search(query)
    stage = runtime.search.rerank_stage
    assert stage is not None and stage.cache is not None
    hits_before = stage.cache.hits
    second = runtime.search.search(query)
    assert [h.rerank_score for h in second.hits] == [h.rerank_score for h in first.hits]
    assert stage.cache.hits > hits_before
    other = runtime.search.search(
        Query(text="airflow checks", top_k=3, instruction="Something else entirely.")
    )
    assert [h.rerank_score for h in other.hits] != [h.rerank_score for h in first.hits]
