"""Line positions of born-digital PDF pages and the page previews they are shown on."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter

from vlsearch.eval.grounding import iou
from vlsearch.eval.grounding_set import Source, _u, _write_pdf
from vlsearch.ingest.extractors.pdf import extract_pdf
from vlsearch.ingest.limits import Limits

LINES = ("Alpha line one is here", "Beta line two is longer than the first one", "Gamma 9 N m")


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    path = tmp_path_factory.mktemp("layout") / "lines.pdf"
    placed = _write_pdf(path, Source("t", "pdf", path.name, (_u(*LINES), _u("Second page line"))))
    return path, placed


def _variant(src: Path, out: Path, *, rotate: int = 0, top_half: bool = False) -> Path:
    writer = PdfWriter()
    for page in PdfReader(src).pages:
        if rotate:
            page.rotate(rotate)
        if top_half:
            width, height = float(page.mediabox.width), float(page.mediabox.height)
            page.cropbox.lower_left = (0, height / 2)
            page.cropbox.upper_right = (width, height)
        writer.add_page(page)
    writer.write(out)
    return out


def _expected(box: tuple[float, float, float, float], rotate: int, top_half: bool):
    x0, y0, x1, y1 = box
    if top_half:
        y0, y1 = 2 * y0, 2 * y1
    return {
        0: (x0, y0, x1, y1),
        90: (1 - y1, x0, 1 - y0, x1),  # /Rotate 90 turns the page clockwise
        180: (1 - x1, 1 - y1, 1 - x0, 1 - y0),
        270: (y0, 1 - x1, y1, 1 - x0),
    }[rotate]


@pytest.mark.parametrize(
    ("rotate", "top_half"), [(0, False), (90, False), (180, False), (270, False), (0, True)]
)
def test_line_boxes_match_where_the_lines_were_written(
    written, tmp_path: Path, rotate: int, top_half: bool
) -> None:
    src, placed = written
    path = _variant(src, tmp_path / "v.pdf", rotate=rotate, top_half=top_half)
    extraction = extract_pdf(path, limits=Limits())
    layout = next(p for p in extraction.pages if p.page == 1)
    by_text = {line.text: line.box for line in layout.lines}
    assert set(by_text) == set(LINES)
    for line, truth in placed[0]:
        # the written box spans ascender to descender, pdfium's loose box the font's bounding box
        assert iou(by_text[line.text], _expected(truth, rotate, top_half)) > 0.7, line.text
    assert [p.page for p in extraction.pages] == [1, 2]


def test_the_preview_shows_the_text_inside_its_boxes(written, tmp_path: Path) -> None:
    src, _ = written
    for rotate in (0, 90):
        extraction = extract_pdf(_variant(src, tmp_path / f"r{rotate}.pdf", rotate=rotate), limits=Limits())
        layout = extraction.pages[0]
        with Image.open(io.BytesIO(layout.image)) as img:
            assert img.format == "JPEG" and max(img.size) == 1200
            ink = np.asarray(img.convert("L"), dtype=np.float32) < 128
        h, w = ink.shape
        inside = np.zeros_like(ink)
        for line in layout.lines:
            x0, y0, x1, y1 = line.box
            inside[int(y0 * h) : int(np.ceil(y1 * h)), int(x0 * w) : int(np.ceil(x1 * w))] = True
        assert ink[inside].mean() > 0.08  # text is dark
        assert ink[~inside].sum() < 0.02 * ink.sum()  # and nearly all of it is inside the boxes


def test_previews_stop_at_their_limit_with_a_warning(written) -> None:
    src, _ = written
    extraction = extract_pdf(src, limits=Limits(max_page_previews=1))
    assert [p.page for p in extraction.pages] == [1]
    assert any("VLSEARCH_MAX_PAGE_PREVIEWS" in w for w in extraction.warnings)
