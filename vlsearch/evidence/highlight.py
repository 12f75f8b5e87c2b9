"""Query-time highlighting: which of a hit's stored lines match the query, and its snippet.

Nothing is recomputed from pixels or models here: a hit's line boxes were stored at ingest
(evidence.boxes), and this module only scores those lines against the query's terms, lexically
(evidence.terms): a line scores the idf-weighted share of the query's terms it contains, the idf
taken over the lines of the same hit, so a term on every line of a page (the product name in a
manual) counts for little and a rare one (the error code) for much. A line set clearly larger than
the hit's body text (a title or heading, told by its box height) names the topic the whole section
shares with the query, so its score counts `heading_weight` times. The same scoring picks the
sentence the snippet opens with when the best match lies past the first window.

How this was chosen (benchmarks/highlighting.py, the grounding set of vlsearch.eval.grounding_set):
against reading order, per-line embedding similarity and a mix, at the cost of each per search.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from vlsearch.evidence.boxes import BOX_SCALE
from vlsearch.evidence.terms import Term, analyzer_tokens, query_terms
from vlsearch.types import Evidence, Highlight, Item

SNIPPET_CHARS = 320
MAX_HIGHLIGHTS = 5
MAX_SNIPPET_SPANS = 24
HEADING_WEIGHT = 0.6
# a line this much taller than the hit's (lower) median line is set larger than its body text; OCR
# boxes grow less than the type does (a 48 px title and 34 px body lines: 53 and 44 px boxes)
_HEADING_HEIGHT = 1.1
_JOINERS = frozenset("-_./:#")
# sentence ends and line breaks: the units a snippet may open with, for rows without line boxes
_SEGMENT_END = re.compile(r"(?<=[.!?;:。！？；：])\s+|\n+")


@dataclass(frozen=True)
class QueryMatch:
    """A query's terms, prepared once per search and applied to every hit."""

    terms: tuple[Term, ...]

    def __bool__(self) -> bool:
        return bool(self.terms)

    def positions(self, low: str) -> list[list[int]]:
        """Per term, where it starts in `low` (lower-cased text)."""
        return [term.positions(low) for term in self.terms]


class Highlighter:
    """Cheap to build; `warm_up()` loads the tokenizer's dictionary (jieba: about a second)."""

    def __init__(
        self,
        *,
        tokens: Callable[[str], list[str]] | None = None,
        max_highlights: int = MAX_HIGHLIGHTS,
        min_relative: float = 0.5,
        snippet_chars: int = SNIPPET_CHARS,
        heading_weight: float = HEADING_WEIGHT,
    ) -> None:
        self._tokens = tokens
        self.heading_weight = heading_weight
        self.max_highlights = max_highlights
        self.min_relative = min_relative  # lines under this share of the best line's score are not shown
        self.snippet_chars = snippet_chars

    def warm_up(self) -> None:
        self.prepare("warm-up 预热")

    def prepare(self, query_text: str) -> QueryMatch:
        if self._tokens is None:
            self._tokens = analyzer_tokens()
        return QueryMatch(query_terms(query_text, self._tokens) if query_text.strip() else ())

    def evidence(self, match: QueryMatch, item: Item) -> Evidence:
        text = item.text
        rows = item.lines.rows() if item.lines else []
        if not match:
            return Evidence(snippet=snippet_at(text, 0, self.snippet_chars))
        hits = match.positions(text.lower())
        highlights: tuple[Highlight, ...] = ()
        if rows:
            spans = [(r[0], r[1]) for r in rows]
            ranked = _rank(spans, hits, _damping(rows, self.heading_weight))
            highlights = self._highlights(text, rows, ranked)
            best = spans[ranked[0][1]][0] if ranked else 0
        else:
            spans = segments(text)
            ranked = _rank(spans, hits)
            best = spans[ranked[0][1]][0] if ranked else 0
        snippet = snippet_at(text, best, self.snippet_chars)
        return Evidence(highlights=highlights, snippet=snippet, snippet_spans=term_spans(snippet, match))

    def _highlights(
        self, text: str, rows: Sequence[Sequence[int]], ranked: list[tuple[float, int]]
    ) -> tuple[Highlight, ...]:
        if not ranked:
            return ()
        floor = ranked[0][0] * self.min_relative
        out = []
        for score, k in ranked[: self.max_highlights]:
            if score < floor:
                break
            start, end, x0, y0, x1, y1 = rows[k]
            out.append(
                Highlight(
                    box=(x0 / BOX_SCALE, y0 / BOX_SCALE, x1 / BOX_SCALE, y1 / BOX_SCALE),
                    text=" ".join(text[start:end].split()),
                    score=round(score, 4),
                )
            )
        return tuple(out)


def _damping(rows: Sequence[Sequence[int]], heading_weight: float) -> list[float] | None:
    """Per line: `heading_weight` for lines much taller than the median line, else 1."""
    if heading_weight == 1.0 or len(rows) < 2:
        return None
    heights = sorted(r[5] - r[3] for r in rows)
    median = heights[(len(heights) - 1) // 2]
    if median <= 0:
        return None
    return [heading_weight if (r[5] - r[3]) > _HEADING_HEIGHT * median else 1.0 for r in rows]


def _rank(
    spans: Sequence[tuple[int, int]], hits: Sequence[Sequence[int]], damping: Sequence[float] | None = None
) -> list[tuple[float, int]]:
    """(score, span index) of the spans holding query terms, best first (ties: earlier first).

    A span's score is the idf-weighted share of the query's terms it contains (idf over the spans),
    times its damping factor."""
    n = len(spans)
    starts = [s for s, _ in spans]
    present: list[set[int]] = []  # per term: the spans holding it
    for positions in hits:
        holders: set[int] = set()
        for pos in positions:
            k = bisect_right(starts, pos) - 1
            if k >= 0 and pos < spans[k][1]:
                holders.add(k)
        present.append(holders)
    weights = [math.log(1.0 + (n - len(h) + 0.5) / (len(h) + 0.5)) for h in present]
    total = sum(weights) or 1.0
    scores: dict[int, float] = {}
    for holders, weight in zip(present, weights, strict=True):
        for k in holders:
            scores[k] = scores.get(k, 0.0) + weight
    if damping is not None:
        scores = {k: score * damping[k] for k, score in scores.items()}
    return sorted(((score / total, k) for k, score in scores.items()), key=lambda sk: (-sk[0], sk[1]))


def segments(text: str) -> list[tuple[int, int]]:
    """Sentence and line spans of a text without line boxes (DOCX, HTML, spreadsheet rows)."""
    out = []
    start = 0
    for m in _SEGMENT_END.finditer(text):
        if m.start() > start:
            out.append((start, m.start()))
        start = m.end()
    if start < len(text):
        out.append((start, len(text)))
    return out


def snippet_at(text: str, at: int, limit: int = SNIPPET_CHARS) -> str:
    """Up to `limit` characters of `text` with whitespace runs as one space, opening with the text's
    start when `at` (a character of `text`) falls in that first window, else with `at` itself."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    # open at the start of the text while the match still shows with room to read after it
    # (collapsing whitespace only moves `at` to the left, so a small `at` needs no counting)
    if at + limit // 4 <= limit:
        return cut_at_word(flat, limit)
    start = len(" ".join(text[:at].split()))
    if start and text[at - 1].isspace():
        start += 1
    if start + limit // 4 <= limit:
        return cut_at_word(flat, limit)
    return "…" + cut_at_word(flat[start:], limit)


def cut_at_word(flat: str, limit: int) -> str:
    """`flat` cut to `limit` characters, backing off to a space when one is near, with an ellipsis."""
    if len(flat) <= limit:
        return flat
    cut = flat[:limit]
    space = cut.rfind(" ")
    # CJK text has no spaces; only back off to a word boundary when one is near.
    if space > limit * 0.7:
        cut = cut[:space]
    return cut + "…"


def term_spans(snippet: str, match: QueryMatch) -> tuple[tuple[int, int], ...]:
    """Non-overlapping [start, end) spans of the query's terms in the snippet, in order. A stem
    match is widened to the end of its word ("replac" shows as "replacement")."""
    low = snippet.lower()
    found: list[tuple[int, int]] = []
    for term, starts in zip(match.terms, match.positions(low), strict=True):
        for start in starts:
            end = start + len(term.needle)
            if term.kind == "prefix":
                while end < len(low) and low[end].isalnum() and low[end].isascii():
                    end += 1
            found.append((start, end))
    found.sort()
    out: list[tuple[int, int]] = []
    for start, end in found:
        # overlapping marks merge, and so do marks joined by one code character ("E" "-" "17")
        if out and (start < out[-1][1] or (start == out[-1][1] + 1 and low[start - 1] in _JOINERS)):
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
            continue
        out.append((start, end))
        if len(out) >= MAX_SNIPPET_SPANS:
            break
    return tuple(out)
