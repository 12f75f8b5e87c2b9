"""Score fusion of dense and BM25 candidate lists: normalised, weighted, adapted to the query.

Plain RRF gives a weak BM25 list an equal vote and loses to dense alone on natural-language
questions (FAQ set: dense 0.654 MRR@10, RRF 0.56). Here each list's scores are normalised onto
[0, 1] over the union of collections, then mixed with a BM25 weight that depends on the query:
small for plain questions, large when the query carries exact tokens (error codes, part numbers,
model names), and cut where the query and the candidate are written in different scripts
(BM25 cannot bridge English and Chinese; any overlap there is numbers and noise).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from vlsearch.retrieve.lexical import QueryProfile, analyse
from vlsearch.text.language import Script, script_of
from vlsearch.types import Candidate


class FusionMode(StrEnum):
    DENSE = "dense"
    BM25 = "bm25"
    HYBRID = "hybrid"  # this module's weighted, query-adaptive fusion
    RRF = "rrf"  # reciprocal rank fusion per collection (Store.hybrid_search, fused in Python so each
    # candidate keeps both raw scores, not by Milvus's RRFRanker), for comparison


@dataclass(frozen=True)
class FusionConfig:
    mode: FusionMode = FusionMode.HYBRID
    bm25_weight_plain: float = 0.0  # natural-language questions: dense knows better (FAQ: BM25 only hurts)
    bm25_weight_lexical: float = 0.9  # queries with codes/part numbers: the exact match decides
    cross_script_factor: float = 0.0  # BM25 weight kept for a candidate in another script than the query
    # how far BM25's best score must stand above its second (1 - s2/s1) for the full lexical weight:
    # a code that many rows share ("ROT" in 45 FAQ answers) yields a flat list and little weight
    peak_ref: float = 0.2
    rrf_k: int = 60

    def bm25_weight(self, profile: QueryProfile, bm25_peak: float = 1.0) -> float:
        s = profile.lexical_strength
        if self.peak_ref > 0 and not (profile.codes or profile.quoted):
            # acronyms only: trust them as far as BM25 singles a row out; codes and quotes always
            s *= min(1.0, bm25_peak / self.peak_ref)
        return self.bm25_weight_plain + (self.bm25_weight_lexical - self.bm25_weight_plain) * s


def _normalise(scores: dict[str, float]) -> dict[str, float]:
    """Min-max over the list; a lone or flat list maps to 1 (it is all the evidence there is)."""
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    if hi - lo <= 1e-9:
        return dict.fromkeys(scores, 1.0)
    return {k: (v - lo) / (hi - lo) for k, v in scores.items()}


def _best(lists: Iterable[Sequence[Candidate]]) -> dict[str, Candidate]:
    out: dict[str, Candidate] = {}
    for lst in lists:
        for c in lst:
            if c.item.id not in out or c.score > out[c.item.id].score:
                out[c.item.id] = c
    return out


def fuse(
    query_text: str,
    dense: Sequence[Sequence[Candidate]],
    bm25: Sequence[Sequence[Candidate]],
    config: FusionConfig,
) -> list[Candidate]:
    """Fuse per-collection lists (dense cosine, positive BM25) into one ranked, id-unique list."""
    dense_by_id = _best(dense)
    bm25_by_id = _best(bm25)
    if config.mode is FusionMode.DENSE:
        bm25_by_id = {}
    elif config.mode is FusionMode.BM25:
        dense_by_id = {}
    elif config.mode is FusionMode.RRF:
        return _rrf(dense, bm25, dense_by_id, bm25_by_id, config.rrf_k)

    d_norm = _normalise({k: c.score for k, c in dense_by_id.items()})
    b_norm = _normalise({k: c.score for k, c in bm25_by_id.items()})
    profile = analyse(query_text)
    if dense_by_id and bm25_by_id:
        wb = config.bm25_weight(profile, _peak([c.score for c in bm25_by_id.values()]))
    else:
        wb = 1.0 if bm25_by_id else 0.0

    fused: list[Candidate] = []
    for key in dense_by_id.keys() | bm25_by_id.keys():
        base = dense_by_id.get(key) or bm25_by_id[key]
        w = wb
        # script_of reads the candidate's text: skip it where BM25 carries no weight anyway
        if w > 0.0 and key in b_norm and dense_by_id and _cross_script(profile.script, base.item.text):
            w *= config.cross_script_factor
        score = (1.0 - w) * d_norm.get(key, 0.0) + w * b_norm.get(key, 0.0)
        fused.append(_with_evidence(base, score, dense_by_id.get(key), bm25_by_id.get(key)))
    fused.sort(key=lambda c: (-c.score, c.item.id))
    return fused


def _peak(scores: list[float]) -> float:
    """1 - second/best: 0 for a flat list, 1 when one row alone matches."""
    if len(scores) < 2:
        return 1.0
    s1, s2 = sorted(scores, reverse=True)[:2]
    return 1.0 - s2 / s1 if s1 > 0 else 0.0


def _cross_script(query_script: Script, text: str) -> bool:
    if query_script is Script.OTHER:
        return False
    doc_script = script_of(text[:400])
    return doc_script is not Script.OTHER and doc_script is not query_script


def _with_evidence(
    base: Candidate, score: float, dense: Candidate | None, bm25: Candidate | None
) -> Candidate:
    # built directly rather than with dataclasses.replace: this runs for every candidate of every query
    return Candidate(
        item=base.item,
        score=float(score),
        dense_score=None if dense is None else float(dense.score),
        bm25_score=None if bm25 is None else float(bm25.score),
        found_by=_FOUND[dense is not None, bm25 is not None],
    )


_FOUND: dict[tuple[bool, bool], tuple[str, ...]] = {
    (True, True): ("dense", "bm25"),
    (True, False): ("dense",),
    (False, True): ("bm25",),
    (False, False): (),
}


def _rrf(
    dense: Sequence[Sequence[Candidate]],
    bm25: Sequence[Sequence[Candidate]],
    dense_by_id: dict[str, Candidate],
    bm25_by_id: dict[str, Candidate],
    k: int,
) -> list[Candidate]:
    """Reciprocal-rank fusion, each list ranked on its own (the textbook baseline)."""
    score: dict[str, float] = {}
    for lst in (*dense, *bm25):
        ranked = sorted(lst, key=lambda c: -c.score)
        for rank, c in enumerate(ranked, 1):
            score[c.item.id] = score.get(c.item.id, 0.0) + 1.0 / (k + rank)
    out = [
        _with_evidence(dense_by_id.get(key) or bm25_by_id[key], s, dense_by_id.get(key), bm25_by_id.get(key))
        for key, s in score.items()
    ]
    out.sort(key=lambda c: (-c.score, c.item.id))
    return out
