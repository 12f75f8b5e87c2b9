"""Find a row's text lines inside the row's text, so each stored box points at its characters.

Ingest knows the lines of a page or image (PDF text lines, OCR lines) and, separately, the text a
row holds: a chunk cut from the page's paragraphs (lines re-joined, wrapped lines merged, the cut
falling anywhere), or an image's caption followed by its OCR text. Whitespace is all that differs
between the two, so both are compared with it removed: the row's text is found in the page's line
stream (a chunk), or the line stream in the row's text (an image row); when neither contains the
other (a chunk mixing a text layer with OCR), each line is looked for in turn.
"""

from __future__ import annotations

from collections.abc import Sequence

from vlsearch.evidence.boxes import NO_LINES, LineBoxes
from vlsearch.types import TextLine

_MIN_LINE_CHARS = 3  # shorter lines ("1", "a)") would match anywhere when looked for one by one


def locate_lines(text: str, lines: Sequence[TextLine]) -> LineBoxes:
    """LineBoxes for the `lines` (in reading order) that occur in `text`, spans in `text`."""
    if not text or not lines:
        return NO_LINES
    positions = [i for i, ch in enumerate(text) if not ch.isspace()]
    squeezed = "".join(text[i] for i in positions)
    parts = [_squeeze(line.text) for line in lines]
    stream = "".join(parts)
    if not squeezed or not stream:
        return NO_LINES
    # (line index, start, end) in `squeezed`
    at = stream.find(squeezed)
    if at >= 0:
        found = _overlaps(parts, at, at + len(squeezed), shift=-at)
    else:
        at = squeezed.find(stream)
        found = _overlaps(parts, 0, len(stream), shift=at) if at >= 0 else _one_by_one(squeezed, parts)
    return LineBoxes.pack(
        (positions[start], positions[end - 1] + 1, lines[k].box) for k, start, end in found if end > start
    )


def _squeeze(text: str) -> str:
    return "".join(text.split())


def _overlaps(parts: Sequence[str], lo: int, hi: int, *, shift: int) -> list[tuple[int, int, int]]:
    """Lines of the stream overlapping [lo, hi), as spans moved by `shift` into the row's text."""
    out = []
    pos = 0
    for k, part in enumerate(parts):
        start, end = pos, pos + len(part)
        pos = end
        if end <= lo or start >= hi or not part:
            continue
        out.append((k, max(start, lo) + shift, min(end, hi) + shift))
    return out


def _one_by_one(squeezed: str, parts: Sequence[str]) -> list[tuple[int, int, int]]:
    """Each line found after the previous one; a row may start or end part-way into a line."""
    out: list[tuple[int, int, int]] = []
    cursor = 0
    for k, part in enumerate(parts):
        if len(part) < _MIN_LINE_CHARS:
            continue
        at = squeezed.find(part, cursor)
        if at >= 0:
            out.append((k, at, at + len(part)))
            cursor = at + len(part)
            continue
        if not out:
            # the row starts inside this line: a suffix of the line opens the row
            cut = _longest_suffix_prefix(part, squeezed)
            if cut >= _MIN_LINE_CHARS:
                out.append((k, 0, cut))
                cursor = cut
                continue
        # the row ends inside this line: a prefix of the line closes the row
        tail = _longest_prefix_suffix(part, squeezed[cursor:])
        if tail >= max(_MIN_LINE_CHARS, min(8, len(part))):
            out.append((k, len(squeezed) - tail, len(squeezed)))
            break
    return out


def _longest_suffix_prefix(line: str, text: str) -> int:
    """Length of the longest suffix of `line` that `text` starts with."""
    for n in range(min(len(line), len(text)), 0, -1):
        if text.startswith(line[-n:]):
            return n
    return 0


def _longest_prefix_suffix(line: str, text: str) -> int:
    """Length of the longest prefix of `line` that `text` ends with."""
    for n in range(min(len(line), len(text)), 0, -1):
        if text.endswith(line[:n]):
            return n
    return 0
