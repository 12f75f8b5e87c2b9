from __future__ import annotations

import math

import pytest

from vlsearch.errors import InputRejectedError
from vlsearch.eval.beir import BeirDoc, BeirQuery, BeirSet, load_dir, write_set
from vlsearch.eval.metrics import ndcg, recall, reciprocal_rank, score_run


def test_reciprocal_rank_by_hand() -> None:
    assert reciprocal_rank(["x", "a", "y"], {"a": 1}) == 0.5
    assert reciprocal_rank(["x"] * 10 + ["a"], {"a": 1}) == 0.0  # rank 11 is outside @10
    assert reciprocal_rank([], {"a": 1}) == 0.0


def test_ndcg_by_hand() -> None:
    # relevant at ranks 1 and 3 of two relevant docs, binary gains
    dcg = 1 / math.log2(2) + 1 / math.log2(4)
    idcg = 1 / math.log2(2) + 1 / math.log2(3)
    assert ndcg(["a", "x", "b"], {"a": 1, "b": 1}) == pytest.approx(dcg / idcg)
    # graded: linear gain, 2 for the grade-2 doc (trec_eval's ndcg_cut)
    assert ndcg(["b", "a"], {"a": 2, "b": 1}) == pytest.approx(
        (1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3))
    )


def test_metrics_equal_trec_eval() -> None:
    """Against trec_eval itself (pytrec_eval): graded and binary qrels, ties-free runs, misses."""
    import random

    import pytrec_eval

    rng = random.Random(7)
    docs = [f"d{i}" for i in range(40)]
    qrels = {f"q{q}": {d: rng.choice((0, 1, 1, 2, 3)) for d in rng.sample(docs, 6)} for q in range(30)}
    run = {q: rng.sample(docs, 25) for q in qrels}
    scored = {q: {d: float(len(ranked) - i) for i, d in enumerate(ranked)} for q, ranked in run.items()}
    ref = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "recall.10", "recall.1"}).evaluate(scored)
    for q, ranked in run.items():
        assert ndcg(ranked, qrels[q], k=10) == pytest.approx(ref[q]["ndcg_cut_10"], abs=1e-9)
        if any(g > 0 for g in qrels[q].values()):
            assert recall(ranked, qrels[q], k=10) == pytest.approx(ref[q]["recall_10"], abs=1e-9)
            assert recall(ranked, qrels[q], k=1) == pytest.approx(ref[q]["recall_1"], abs=1e-9)
    # reciprocal rank @10: trec_eval's recip_rank is uncut; cut the run at 10 for the comparison
    cut = {q: {d: float(10 - i) for i, d in enumerate(r[:10])} for q, r in run.items()}
    rr = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(cut)
    for q, ranked in run.items():
        assert reciprocal_rank(ranked, qrels[q]) == pytest.approx(rr[q]["recip_rank"], abs=1e-9)


def test_recall_and_run_means() -> None:
    assert recall(["a", "x", "b"], {"a": 1, "b": 1, "c": 1}, k=2) == pytest.approx(1 / 3)
    run = {"q1": ["a", "b"], "q2": ["x", "y", "c"]}
    qrels = {"q1": {"a": 1}, "q2": {"c": 1}, "q3": {"d": 1}}  # q3 unanswered: counts as zero
    m = score_run(run, qrels)
    assert m["mrr@10"] == pytest.approx((1 + 1 / 3 + 0) / 3)
    assert m["recall@1"] == pytest.approx(1 / 3)
    assert m["recall@10"] == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="no relevant"):
        score_run(run, {"q1": {"a": 0}})


def test_beir_round_trip_and_header_check(tmp_path) -> None:  # type: ignore[no-untyped-def]
    s = BeirSet(
        name="t",
        corpus=(BeirDoc("d1", "T", "电源 text"),),
        queries=(BeirQuery("q1", "q?"),),
        qrels={"q1": {"d1": 1}},
    )
    back = load_dir(write_set(s, tmp_path / "t"))
    assert back.corpus == s.corpus and back.queries == s.queries and back.qrels == {"q1": {"d1": 1}}
    (tmp_path / "t" / "qrels.tsv").write_text("q1\td1\t1\n")
    with pytest.raises(InputRejectedError, match="header"):
        load_dir(tmp_path / "t")
