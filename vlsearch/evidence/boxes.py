"""Line boxes a row keeps: which characters of its text sit where on its media.

A row (a PDF text chunk, an OCR'd image, a keyframe) stores one entry per text line: the line's
character span in the row's `text` and its box on the row's media (the page render, the figure,
the frame), normalised to [0, 1] of that image. The line's words are read from the row's text at
search time, so nothing is stored twice. In memory (the in-process index holds every row) the
entries are packed int32s, 24 bytes a line; in Milvus they are the `lines` key of the row's
`locator` JSON, integers in 1/10000 of the media's width and height.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in [0, 1] of the media, y downwards

BOX_SCALE = 10_000
# Lines kept per row. A row's locator is a Milvus JSON field (64 KiB at most); 400 lines of
# [start, end, x0, y0, x1, y1] take about 16 KB. A chunk holds tens of lines; only a very dense
# screenshot or scanned table reaches this, and its first lines are the ones kept.
MAX_LINES = 400
_FIELDS = 6


@dataclass(frozen=True)
class LineBox:
    start: int  # character span of the line in the row's text
    end: int
    box: Box


class LineBoxes:
    """An immutable, packed list of LineBox (see the module docstring).

    Rows read back from Milvus keep their JSON list and pack it on first use: a search turns up to
    hundreds of candidate rows into Items and reads the lines of the ten it returns.
    """

    __slots__ = ("_data", "_raw")

    def __init__(self, data: bytes = b"", *, raw: Any = None) -> None:
        self._data = data
        self._raw = raw  # a to_json() list not yet packed

    @classmethod
    def pack(cls, lines: Iterable[tuple[int, int, Sequence[float]]]) -> LineBoxes:
        """Quantise and keep the valid entries (a non-empty span and a box of some area inside the
        media), at most MAX_LINES of them."""
        values = array("i")
        kept = 0
        for start, end, box in lines:
            if kept >= MAX_LINES:
                break
            quantised = _quantise(box)
            if quantised is None or start < 0 or end <= start:
                continue
            values.extend((int(start), int(end), *quantised))
            kept += 1
        return cls(values.tobytes()) if kept else NO_LINES

    @classmethod
    def from_json(cls, value: Any) -> LineBoxes:
        """What `to_json` wrote, checked when first used: malformed entries are skipped, never
        raised (a row written by other code must still load, with fewer or no boxes)."""
        if not isinstance(value, list) or not value:
            return NO_LINES
        return cls(raw=value)

    @property
    def data(self) -> bytes:
        if self._raw is not None:
            self._data = _parse(self._raw)
            self._raw = None
        return self._data

    def rows(self) -> list[list[int]]:
        """[[start, end, x0, y0, x1, y1], ...] with the box in 1/BOX_SCALE units: the cheap way to
        read every line (a search reads them for each hit it returns)."""
        flat = array("i")
        flat.frombytes(self.data)
        values = flat.tolist()
        return [values[i : i + _FIELDS] for i in range(0, len(values), _FIELDS)]

    def to_json(self) -> list[list[int]]:
        return self.rows()

    def within(self, length: int) -> LineBoxes:
        """The lines whose span lies inside the first `length` characters (text cut to a limit)."""
        rows = self.rows()
        kept = [r for r in rows if r[1] <= length]
        if len(kept) == len(rows):
            return self
        return LineBoxes(array("i", [v for r in kept for v in r]).tobytes()) if kept else NO_LINES

    def __len__(self) -> int:
        return len(self.data) // (4 * _FIELDS)

    def __bool__(self) -> bool:
        return bool(self.data)

    def __iter__(self) -> Iterator[LineBox]:
        for start, end, x0, y0, x1, y1 in self.rows():
            yield LineBox(start, end, (x0 / BOX_SCALE, y0 / BOX_SCALE, x1 / BOX_SCALE, y1 / BOX_SCALE))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LineBoxes):
            return NotImplemented
        return self.data == other.data

    def __hash__(self) -> int:
        return hash(self.data)

    def __repr__(self) -> str:
        return f"LineBoxes({len(self)} lines)"


def _parse(value: list[Any]) -> bytes:
    values = array("i")
    kept = 0
    for entry in value:
        if kept >= MAX_LINES:
            break
        if not (isinstance(entry, list) and len(entry) == _FIELDS):
            continue
        if not all(type(v) is int for v in entry):
            continue
        start, end, x0, y0, x1, y1 = entry
        if start < 0 or end <= start or not (0 <= x0 < x1 <= BOX_SCALE and 0 <= y0 < y1 <= BOX_SCALE):
            continue
        values.extend(entry)
        kept += 1
    return values.tobytes()


NO_LINES = LineBoxes()


def _quantise(box: Sequence[float]) -> tuple[int, int, int, int] | None:
    if len(box) != 4:
        return None
    x0, y0, x1, y1 = (min(BOX_SCALE, max(0, round(float(v) * BOX_SCALE))) for v in box)
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


def normalise_box(box: Sequence[float], width: float, height: float) -> Box:
    """Pixel (or point) box -> [0, 1] of a width x height image, clipped to it."""
    x0, y0, x1, y1 = box
    w = width or 1.0
    h = height or 1.0
    return (
        min(1.0, max(0.0, x0 / w)),
        min(1.0, max(0.0, y0 / h)),
        min(1.0, max(0.0, x1 / w)),
        min(1.0, max(0.0, y1 / h)),
    )
