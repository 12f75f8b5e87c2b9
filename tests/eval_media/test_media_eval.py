"""`vlsearch eval` on the built-in multimodal set: per-modality rows with and without the reranker,
a Markdown + PNG report, and quality floors for the CPU profile (text and video queries)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vlsearch.cli import app
from vlsearch.eval.media import load_media_set
from vlsearch.eval.media_set import QUERIES, write_media_set


@pytest.fixture(scope="module")
def media_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_media_set(tmp_path_factory.mktemp("media-set"))


def test_the_set_is_reproducible_and_complete(media_set: Path, tmp_path: Path) -> None:
    again = write_media_set(tmp_path / "again")
    for name in ("corpus.jsonl", "queries.jsonl", "qrels.tsv"):
        assert (media_set / name).read_text(encoding="utf-8") == (again / name).read_text(encoding="utf-8")
    mset = load_media_set(media_set / "corpus.jsonl", media_set / "queries.jsonl", media_set / "qrels.tsv")
    assert mset.has_media
    assert {q.modality for q in mset.queries} == {"text", "image", "video"}
    corpus_ids = {d.id for d in mset.corpus}
    assert set(mset.qrels) == set(QUERIES)
    assert all(doc in corpus_ids for judged in mset.qrels.values() for doc in judged)


def test_cli_eval_scores_each_modality_with_and_without_rerank_and_writes_a_report(
    media_set: Path, tmp_path: Path
) -> None:
    from vlsearch.testing.tiny_qwen3vl import build_tiny_qwen3vl

    # A tiny random reranker: proves the reranked pass runs end to end (its scores mean nothing).
    tiny = build_tiny_qwen3vl(tmp_path / "tiny-reranker")
    report_dir = tmp_path / "report"
    result = CliRunner().invoke(
        app,
        [
            "eval",
            "--corpus",
            str(media_set / "corpus.jsonl"),
            "--queries",
            str(media_set / "queries.jsonl"),
            "--qrels",
            str(media_set / "qrels.tsv"),
            "--report",
            str(report_dir),
        ],
        env={
            "VLSEARCH_PROFILE": "cpu",
            "VLSEARCH_RERANKER": str(tiny),
            "VLSEARCH_RERANK_ON_CPU": "true",
            "VLSEARCH_DATA_DIR": str(tmp_path / "unused-data"),
        },
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    rows = {(r["modality"], r["reranked"]): r for r in report["rows"]}
    assert set(rows) == {(m, rr) for m in ("text", "image", "video", "all") for rr in (False, True)}
    assert report["failed_files"] == []
    assert rows[("all", False)]["queries"] == len(QUERIES)
    # Floors for the CPU profile in retrieval order (measured 1.0 / 1.0; image queries of plain
    # photos have no text to OCR on this profile and are not held to a floor).
    assert rows[("text", False)]["metrics"]["ndcg@10"] >= 0.8
    assert rows[("video", False)]["metrics"]["ndcg@10"] >= 0.8
    assert rows[("image", False)]["metrics"]["recall@10"] >= 0.2  # the rack photo and LED figure
    md = (report_dir / "report.md").read_text(encoding="utf-8")
    assert "| video | yes |" in md and "![ndcg_at_10](ndcg_at_10.png)" in md
    for png in ("ndcg_at_10.png", "mrr_at_10.png", "recall_at_10.png"):
        data = (report_dir / png).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
