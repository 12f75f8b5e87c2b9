"""Ranking metrics over document ids; relevance grades come from qrels (> 0 is relevant)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def reciprocal_rank(ranked: Sequence[str], relevant: Mapping[str, int], *, k: int = 10) -> float:
    for i, doc in enumerate(ranked[:k], 1):
        if relevant.get(doc, 0) > 0:
            return 1.0 / i
    return 0.0


def recall(ranked: Sequence[str], relevant: Mapping[str, int], *, k: int) -> float:
    wanted = {d for d, g in relevant.items() if g > 0}
    if not wanted:
        return 0.0
    return len(wanted.intersection(ranked[:k])) / len(wanted)


def ndcg(ranked: Sequence[str], relevant: Mapping[str, int], *, k: int = 10) -> float:
    """Linear gain (the grade itself) with log2 discount: trec_eval's ndcg_cut, which BEIR reports
    through pytrec_eval (tests/eval/test_metrics.py checks against it). The exponential gain
    2^g - 1 of Burges et al. differs only for grades above 1; every set here is binary."""
    dcg = sum(max(relevant.get(doc, 0), 0) / math.log2(i + 1) for i, doc in enumerate(ranked[:k], 1))
    ideal = sorted((g for g in relevant.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 1) for i, g in enumerate(ideal, 1))
    return dcg / idcg if idcg > 0 else 0.0


METRIC_NAMES = ("mrr@10", "ndcg@10", "recall@1", "recall@10", "recall@50")


def score_run(run: Mapping[str, Sequence[str]], qrels: Mapping[str, Mapping[str, int]]) -> dict[str, float]:
    """Mean of each metric over the queries that have at least one relevant document.

    A query with qrels but no result list counts as zero, so a retriever cannot look better by
    dropping hard queries.
    """
    judged = [q for q, rel in qrels.items() if any(g > 0 for g in rel.values())]
    if not judged:
        raise ValueError("qrels hold no relevant (score > 0) pairs; nothing to evaluate")
    totals = dict.fromkeys(METRIC_NAMES, 0.0)
    for q in judged:
        ranked = list(run.get(q, ()))
        rel = qrels[q]
        totals["mrr@10"] += reciprocal_rank(ranked, rel, k=10)
        totals["ndcg@10"] += ndcg(ranked, rel, k=10)
        totals["recall@1"] += recall(ranked, rel, k=1)
        totals["recall@10"] += recall(ranked, rel, k=10)
        totals["recall@50"] += recall(ranked, rel, k=50)
    return {name: value / len(judged) for name, value in totals.items()}


def metric_columns(metrics: Mapping[str, float] | None = None) -> str:
    """The metric columns of a report table, 9 wide: their names (no `metrics`) or their values."""
    if metrics is None:
        return " ".join(f"{m:>9}" for m in METRIC_NAMES)
    return " ".join(f"{metrics[m]:>9.4f}" for m in METRIC_NAMES)


def table_start(title: str, head: str) -> list[str]:
    """A report table's first lines: its title, its column heads and a rule under them."""
    return [title, head, "-" * len(head)]
