"""Reciprocal rank fusion of one dense and one BM25 list, done in Python rather than with Milvus's
RRFRanker so each Candidate keeps both raw scores (and which lists found it)."""

from __future__ import annotations

from typing import Any

from vlsearch.types import Candidate, Item

FOUND_DENSE = ("dense",)
FOUND_BM25 = ("bm25",)
FOUND_BOTH = ("dense", "bm25")


def rrf_fuse(
    dense: list[tuple[Item, float]], lexical: list[tuple[Item, float]], *, rrf_k: int, limit: int
) -> list[Candidate]:
    """Both lists (best first) fused by score = sum of 1/(rrf_k + rank), the best `limit`."""
    fused: dict[str, list[Any]] = {}  # id -> [rrf, item, dense, bm25]
    for rank, (item, score) in enumerate(dense, start=1):
        fused[item.id] = [1.0 / (rrf_k + rank), item, score, None]
    for rank, (item, score) in enumerate(lexical, start=1):
        entry = fused.get(item.id)
        if entry is None:
            fused[item.id] = [1.0 / (rrf_k + rank), item, None, score]
        else:
            entry[0] += 1.0 / (rrf_k + rank)
            entry[3] = score
    ranked = sorted(fused.values(), key=lambda e: e[0], reverse=True)[:limit]
    return [
        Candidate(
            item=item,
            score=rrf,
            dense_score=d,
            bm25_score=b,
            found_by=FOUND_BOTH
            if d is not None and b is not None
            else (FOUND_DENSE if d is not None else FOUND_BM25),
        )
        for rrf, item, d, b in ranked
    ]
