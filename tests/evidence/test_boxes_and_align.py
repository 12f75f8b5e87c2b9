"""Line boxes as rows store them, and finding a row's lines in its text (ingest side)."""

from __future__ import annotations

import json

from vlsearch.evidence.align import locate_lines
from vlsearch.evidence.boxes import BOX_SCALE, MAX_LINES, NO_LINES, LineBoxes
from vlsearch.types import TextLine


def _line(text: str, y: float) -> TextLine:
    return TextLine(text=text, box=(0.1, y, 0.9, y + 0.02))


def test_pack_round_trips_through_json_and_drops_invalid_entries() -> None:
    lines = LineBoxes.pack(
        [
            (0, 5, (0.1, 0.2, 0.3, 0.25)),
            (6, 6, (0.1, 0.2, 0.3, 0.25)),  # empty span
            (7, 9, (0.5, 0.5, 0.5, 0.6)),  # no width
            (10, 14, (-0.2, 0.9, 1.4, 1.2)),  # clipped to the media
        ]
    )
    assert len(lines) == 2
    stored = json.loads(json.dumps(lines.to_json()))
    back = LineBoxes.from_json(stored)
    assert back == lines and hash(back) == hash(lines)
    first, second = list(back)
    assert (first.start, first.end) == (0, 5) and first.box == (0.1, 0.2, 0.3, 0.25)
    assert second.box == (0.0, 0.9, 1.0, 1.0)


def test_rows_without_or_with_malformed_lines_load_with_what_is_valid() -> None:
    assert LineBoxes.from_json(None) is NO_LINES
    assert not LineBoxes.from_json([])
    junk = LineBoxes.from_json(
        [
            [0, 4, 1, 1, 9, 9],
            "x",
            [1, 2, 3],
            [0, 4, 1.5, 1, 9, 9],
            [5, 2, 1, 1, 9, 9],
            [0, 3, 0, 0, BOX_SCALE + 1, 5],
        ]
    )
    assert junk.rows() == [[0, 4, 1, 1, 9, 9]]
    assert not LineBoxes.from_json([["a"] * 6])


def test_lines_are_capped_and_cut_with_the_text() -> None:
    many = LineBoxes.pack((i * 2, i * 2 + 1, (0.1, 0.1, 0.2, 0.2)) for i in range(MAX_LINES + 50))
    assert len(many) == MAX_LINES
    assert len(json.dumps(many.to_json())) < 32_000  # a Milvus JSON field holds 64 KiB
    assert len(many.within(11)) == 6  # spans end at 1, 3, ..., 11
    assert many.within(10**9) is many


def test_a_chunk_finds_its_lines_and_spans_with_whitespace_differences() -> None:
    page = [
        _line("Fan tray maintenance", 0.05),
        _line("The chassis holds four fans. Replace the", 0.10),
        _line("fan tray every two years.", 0.13),
        _line("Tighten the M6 bolts to 9 N m.", 0.16),
    ]
    chunk = (
        "The chassis holds four fans. Replace the fan tray every two years.\nTighten the M6 bolts to 9 N m."
    )
    found = list(locate_lines(chunk, page))
    assert [round(f.box[1], 2) for f in found] == [0.10, 0.13, 0.16]
    assert [chunk[f.start : f.end] for f in found] == [
        "The chassis holds four fans. Replace the",
        "fan tray every two years.",
        "Tighten the M6 bolts to 9 N m.",
    ]


def test_a_chunk_that_starts_and_ends_inside_lines_gets_those_lines_partly() -> None:
    page = [_line("alpha beta gamma", 0.1), _line("delta epsilon zeta", 0.2), _line("eta theta iota", 0.3)]
    found = list(locate_lines("gamma delta epsilon zeta eta", page))
    assert [round(f.box[1], 1) for f in found] == [0.1, 0.2, 0.3]
    assert found[0].end - found[0].start == len("gamma")


def test_an_image_row_finds_its_ocr_lines_after_its_caption() -> None:
    ocr = [_line("Serial number SN-4471-B", 0.1), _line("Call support at 5512", 0.2)]
    text = "Warranty card photo\n\nSerial number SN-4471-B\nCall support at 5512"
    found = list(locate_lines(text, ocr))
    assert [text[f.start : f.end] for f in found] == ["Serial number SN-4471-B", "Call support at 5512"]


def test_mixed_text_falls_back_to_line_by_line_and_skips_tiny_lines() -> None:
    lines = [_line("1", 0.05), _line("Warranty valid until 2028", 0.1), _line("Extension 5512", 0.2)]
    text = "Stamp: received. Warranty valid until 2028 and more. Extension 5512"
    found = list(locate_lines(text, lines))
    assert [text[f.start : f.end] for f in found] == ["Warranty valid until 2028", "Extension 5512"]
    assert not locate_lines("nothing alike", lines)
    assert not locate_lines("", lines)
