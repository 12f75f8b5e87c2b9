"""Text line positions of a born-digital PDF page, and the page rendered to show them on.

pdfium gives every character of the text layer a box in page space; a line is the run of
characters between two of pdfium's line breaks, and its box the union of its characters' loose
boxes (the font's ascent to descent, so every line of one size is equally tall). Boxes go through
pdfium's own page-to-device mapping, the one rendering uses, so crop boxes and rotated pages land
where the render shows them. Callers hold the PDFium lock.
"""

from __future__ import annotations

import ctypes
import io

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from vlsearch.evidence.boxes import normalise_box
from vlsearch.types import TextLine

# Page renders shown with a text hit (and its boxes): long enough to read a dense page in the
# viewer, JPEG to keep a few hundred pages of a manual in tens of MB.
PREVIEW_LONG_SIDE_PX = 1200
PREVIEW_JPEG_QUALITY = 80
_DEVICE = 10_000  # virtual device for the page-to-device mapping: 1/10000 precision


def page_lines(page: pdfium.PdfPage, textpage: pdfium.PdfTextPage, raw_text: str) -> tuple[TextLine, ...]:
    """The page's text lines in pdfium's reading order, boxes in [0, 1] of the rendered page.

    `raw_text` is textpage.get_text_range() as pdfium returned it (its indices are character
    indices while no character lies outside the Basic Multilingual Plane; otherwise the page gets
    no lines rather than wrong ones)."""
    if not raw_text or textpage.count_chars() != len(raw_text):
        return ()
    width, height = page.get_size()
    if width <= 0 or height <= 0:
        return ()
    size_x = _DEVICE if width >= height else max(1, round(_DEVICE * width / height))
    size_y = _DEVICE if height >= width else max(1, round(_DEVICE * height / width))
    out: list[TextLine] = []
    for start, end in _line_spans(raw_text):
        text = raw_text[start:end].strip()
        if not text:
            continue
        box = _union(textpage, raw_text, start, end)
        if box is None:
            continue
        device = _to_device(page, box, size_x, size_y)
        out.append(TextLine(text=text, box=normalise_box(device, size_x, size_y)))
    return tuple(out)


def _line_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    start = 0
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in "\r\n":
            spans.append((start, i))
            i += 2 if text.startswith("\r\n", i) else 1
            start = i
            continue
        i += 1
    spans.append((start, n))
    return spans


def _union(
    textpage: pdfium.PdfTextPage, text: str, start: int, end: int
) -> tuple[float, float, float, float] | None:
    left = bottom = float("inf")
    right = top = float("-inf")
    for i in range(start, end):
        if text[i].isspace():
            continue
        x0, y0, x1, y1 = textpage.get_charbox(i, loose=True)
        if x1 <= x0 or y1 <= y0:
            continue  # generated characters have no box
        left, bottom, right, top = min(left, x0), min(bottom, y0), max(right, x1), max(top, y1)
    if right <= left or top <= bottom:
        return None
    return left, bottom, right, top


def _to_device(
    page: pdfium.PdfPage, box: tuple[float, float, float, float], size_x: int, size_y: int
) -> tuple[float, float, float, float]:
    left, bottom, right, top = box
    xs: list[int] = []
    ys: list[int] = []
    dx, dy = ctypes.c_int(), ctypes.c_int()
    for px, py in ((left, top), (right, bottom), (left, bottom), (right, top)):
        pdfium_c.FPDF_PageToDevice(page.raw, 0, 0, size_x, size_y, 0, px, py, dx, dy)
        xs.append(dx.value)
        ys.append(dy.value)
    return float(min(xs)), float(min(ys)), float(max(xs)), float(max(ys))


def render_preview(page: pdfium.PdfPage) -> bytes:
    """The page as a JPEG whose long side is PREVIEW_LONG_SIDE_PX."""
    width, height = page.get_size()
    bitmap = page.render(scale=PREVIEW_LONG_SIDE_PX / max(width, height, 1.0))
    try:
        out = io.BytesIO()
        bitmap.to_pil().convert("RGB").save(out, format="JPEG", quality=PREVIEW_JPEG_QUALITY)
        return out.getvalue()
    finally:
        bitmap.close()
