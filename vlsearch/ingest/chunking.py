"""Token-bounded chunks with overlap that never cross a locator boundary.

Token counting is an approximation, chosen to need no tokenizer or model:
  * every CJK character (Han, kana, Hangul, full-width forms) counts as 1 token;
  * every run of Latin letters/digits counts as 1 token per started 6 characters
    ("diagnostic" = 2, "E-17" = "E" + "17" = 2);
  * every other non-space character (punctuation, symbols) counts as 1 token.
Against real subword tokenizers (XLM-R / multilingual-e5, Qwen) this over-counts slightly for
English and Chinese, which is the safe side for a model's maximum input length.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from vlsearch.types import Locator, TextBlock

_CJK = (
    "\u2e80-\u2fdf\u3040-\u30ff\u3100-\u312f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
)
_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+|[^\s\w]", re.UNICODE)
_WORD_CHARS_PER_TOKEN = 6
# sentence ends: Latin .!? followed by space, CJK 。！？； (no space needed), or a line break
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[。！？；])\s*|\n+")
_CLAUSE_END = re.compile(r"(?<=[;,，、:：])\s*")


def count_tokens(text: str) -> int:
    """Approximate token count; see the module docstring for the rule."""
    total = 0
    for match in _TOKEN.finditer(text):
        piece = match.group()
        if len(piece) > 1:
            total += -(-len(piece) // _WORD_CHARS_PER_TOKEN)
        else:
            total += 1
    return total


@dataclass
class _Segment:
    text: str  # includes its trailing separator (space / newline / nothing for CJK)
    tokens: int


def chunk_blocks(blocks: Sequence[TextBlock], *, max_tokens: int, overlap: int) -> list[TextBlock]:
    """Pack consecutive blocks of the same unit into chunks of at most ~max_tokens tokens.

    A unit is a locator without its `index`/`bbox` (one page, slide, sheet row range or heading
    section). Chunks break at sentence ends (then clauses, then tokens for run-on text), and
    each chunk after the first in a unit starts with up to `overlap` tokens of the previous one.
    A heading block is prepended to every chunk of its section as context; it becomes a chunk
    of its own only when its section is empty (no body text and no subsections, whose chunks
    carry the heading in their heading path anyway). Output locators carry `index` = ordinal
    of the chunk inside its unit, so (unit, index) is unique within a document.
    """
    if max_tokens < 8:
        raise ValueError(f"max_tokens={max_tokens} is too small for meaningful chunks (need >= 8)")
    overlap = max(0, min(overlap, max_tokens // 2))
    out: list[TextBlock] = []
    counters: dict[Locator, int] = {}
    units = _units(blocks)
    for position, (unit, heading, bodies) in enumerate(units):
        prefix = _prefix(unit, heading)
        if not bodies:
            following = units[position + 1][0] if position + 1 < len(units) else None
            if heading and not _opens_subsection(unit, following):
                out.append(_emit(unit, heading, counters))
            continue
        budget = max_tokens - (count_tokens(prefix) if prefix else 0)
        if budget < max_tokens // 2:
            prefix, budget = "", max_tokens  # a huge heading would crowd out the body; drop it
        for body in _pack(_segments(bodies, budget), budget, overlap):
            text = f"{prefix}\n{body}" if prefix else body
            out.append(_emit(unit, text, counters))
    return out


def _units(blocks: Sequence[TextBlock]) -> list[tuple[Locator, str, list[str]]]:
    units: list[tuple[Locator, str, list[str]]] = []
    for block in blocks:
        text = block.text.strip()
        if not text:
            continue
        key = replace(block.locator, index=None, bbox=None)
        if block.is_heading:
            units.append((key, text, []))
        elif units and units[-1][0] == key:
            units[-1][2].append(text)
        else:
            units.append((key, "", [text]))
    return units


def _opens_subsection(unit: Locator, following: Locator | None) -> bool:
    """True when the next unit is nested under this heading: its chunks already carry this heading."""
    if following is None or not unit.heading:
        return False
    depth = len(unit.heading)
    return len(following.heading) > depth and following.heading[:depth] == unit.heading


def _prefix(unit: Locator, heading: str) -> str:
    if len(unit.heading) > 1:
        return " › ".join(unit.heading)
    return heading or (unit.heading[0] if unit.heading else "")


def _emit(unit: Locator, text: str, counters: dict[Locator, int]) -> TextBlock:
    ordinal = counters.get(unit, 0)
    counters[unit] = ordinal + 1
    return TextBlock(text=text.strip(), locator=replace(unit, index=ordinal))


def _segments(bodies: list[str], budget: int) -> list[_Segment]:
    segments: list[_Segment] = []
    for body in bodies:
        pieces = _split_keep(body, _SENTENCE_END)
        for i, piece in enumerate(pieces):
            if i == len(pieces) - 1:
                piece = piece.rstrip() + "\n"  # blocks are paragraphs: keep them on their own lines
            segments.extend(_fit(piece, budget))
    return segments


def _split_keep(text: str, pattern: re.Pattern[str]) -> list[str]:
    """Split after each separator match, keeping the separator on the left piece."""
    pieces: list[str] = []
    start = 0
    for match in pattern.finditer(text):
        end = match.end()
        if end > start and text[start:end].strip():
            pieces.append(text[start:end])
            start = end
    if text[start:].strip():
        pieces.append(text[start:])
    elif pieces:
        pieces[-1] += text[start:]
    return pieces


def _fit(piece: str, budget: int) -> list[_Segment]:
    """A sentence that fits, or its clauses, or hard token-boundary cuts for run-on text."""
    tokens = count_tokens(piece)
    if tokens <= budget:
        return [_Segment(piece, tokens)]
    clauses = _split_keep(piece, _CLAUSE_END)
    if len(clauses) > 1:
        return [seg for clause in clauses for seg in _fit(clause, budget)]
    return [_Segment(part, count_tokens(part)) for part in _hard_split(piece, budget)]


def _hard_split(text: str, budget: int) -> list[str]:
    parts: list[str] = []
    start = 0
    used = 0
    for match in _TOKEN.finditer(text):
        piece = match.group()
        cost = -(-len(piece) // _WORD_CHARS_PER_TOKEN) if len(piece) > 1 else 1
        if used + cost > budget and match.start() > start:
            parts.append(text[start : match.start()])
            start, used = match.start(), 0
        if cost > budget:  # one absurdly long "word" (a hash, base64): cut it by characters
            step = budget * _WORD_CHARS_PER_TOKEN
            word_end = match.end()
            while word_end - start > step:
                parts.append(text[start : start + step])
                start += step
            used = count_tokens(text[start:word_end])
            continue
        used += cost
    if text[start:]:
        parts.append(text[start:])
    return parts


def _pack(segments: list[_Segment], budget: int, overlap: int) -> list[str]:
    chunks: list[str] = []
    current: list[_Segment] = []
    used = 0
    fresh = 0  # segments in `current` that are not overlap carried from the previous chunk
    for seg in segments:
        if current and used + seg.tokens > budget and fresh:
            chunks.append("".join(s.text for s in current))
            current = _tail(current, overlap)
            used = sum(s.tokens for s in current)
            fresh = 0
            while current and used + seg.tokens > budget:
                used -= current.pop(0).tokens  # overlap must not push the new segment over budget
        current.append(seg)
        used += seg.tokens
        fresh += 1
    if fresh:
        chunks.append("".join(s.text for s in current))
    return [c.strip() for c in chunks if c.strip()]


def _tail(segments: list[_Segment], overlap: int) -> list[_Segment]:
    """The last whole segments worth at most `overlap` tokens, or the last tokens of the last one."""
    if overlap <= 0 or not segments:
        return []
    tail: list[_Segment] = []
    used = 0
    for seg in reversed(segments):
        if used + seg.tokens > overlap:
            break
        tail.insert(0, seg)
        used += seg.tokens
    if tail:
        return tail
    last = segments[-1].text
    spans = list(_TOKEN.finditer(last))
    if not spans:
        return []
    cut = spans[max(0, len(spans) - overlap)].start()
    piece = last[cut:]
    return [_Segment(piece, count_tokens(piece))]
