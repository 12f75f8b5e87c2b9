"""PDF: text per page (pypdfium2), page renders for scanned pages, embedded figures (pypdf)."""

from __future__ import annotations

import io
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from vlsearch.errors import ExtractionError, TooLargeError
from vlsearch.ingest.extractors.figures import MIN_FIGURE_SIDE, FigureCollector
from vlsearch.ingest.extractors.pdf_layout import page_lines, render_preview
from vlsearch.ingest.limits import Limits
from vlsearch.types import Extraction, ImageBlock, Locator, PageLayout, TextBlock, TextLine

RENDER_LONG_SIDE_PX = 1600
_MAX_RENDER_SCALE = 3.0  # never upsample tiny pages beyond ~216 dpi
# fewer letters/digits than this and a page with drawn content counts as scanned (a scanner's
# page-number stamp is not a text layer); the same threshold the OCR stage uses to skip pages
_MIN_TEXT_CHARS = 40
_WORD_CHARS = re.compile(r"\w", re.UNICODE)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n+")


# pypdf reads figures only (pdfium already has the text), so whatever it raises on a damaged
# file costs the figures of that page, as a warning; these are the failure types seen on such files
_PYPDF_ERRORS: tuple[type[BaseException], ...] = (
    PyPdfError,
    ValueError,
    KeyError,
    OSError,
    NotImplementedError,
    TypeError,
    AttributeError,
    IndexError,
    ZeroDivisionError,
    RecursionError,
    EOFError,
)

# PDFium is not thread-safe; the API ingests on a worker thread while other code may read PDFs
_PDFIUM_LOCK = threading.Lock()


@dataclass
class _PdfiumPass:
    n_pages: int = 0
    title: str = ""
    blocks: list[TextBlock] = field(default_factory=list)
    renders: list[ImageBlock] = field(default_factory=list)
    scanned: list[int] = field(default_factory=list)
    figure_pages: list[int] = field(default_factory=list)  # text pages holding figure-sized images
    page_texts: dict[int, str] = field(default_factory=dict)
    layouts: list[PageLayout] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def extract_pdf(path: Path, *, limits: Limits) -> Extraction:
    with _PDFIUM_LOCK:
        text = _read_pages(path, limits=limits)
    figures, notes = (
        _figures(path, limits=limits, pages=text.figure_pages, page_texts=text.page_texts)
        if text.figure_pages
        else ((), ())
    )
    title = text.title
    if not title and text.blocks:
        title = text.blocks[0].text.splitlines()[0][:200]
    return Extraction(
        doc_type="pdf",
        title=title,
        blocks=tuple(text.blocks),
        images=tuple(text.renders) + figures,
        warnings=tuple(text.warnings) + notes,
        meta={"pages": text.n_pages, "scanned_pages": text.scanned},
        pages=tuple(text.layouts),
    )


def _read_pages(path: Path, *, limits: Limits) -> _PdfiumPass:
    """Text per page; pages without a text layer are rendered for OCR (up to the render cap)."""
    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        raise ExtractionError(_open_error(path, exc)) from exc
    out = _PdfiumPass()
    try:
        out.n_pages = len(pdf)
        if out.n_pages == 0:
            raise ExtractionError(f"{path.name}: the PDF has no pages; nothing to index")
        if out.n_pages > limits.max_pages:
            raise TooLargeError(
                f"{path.name}: {out.n_pages} pages, over the limit of {limits.max_pages}; split the PDF"
            )
        out.title = str(pdf.get_metadata_dict().get("Title", "")).strip()
        skipped = previews_skipped = 0
        for index in range(out.n_pages):
            page_no = index + 1
            try:
                page = pdf[index]
            except pdfium.PdfiumError as exc:
                # a page object that is missing or loops back into the page tree: skip that page
                out.warnings.append(f"page {page_no}: cannot be loaded, skipped ({exc})")
                continue
            try:
                text, lines = _page_text(page)
                out.page_texts[page_no] = text
                out.blocks.extend(
                    TextBlock(text=para, locator=Locator(page=page_no)) for para in _paragraphs(text)
                )
                drawn, image_sizes = _page_objects(page)
                figure_sizes = [(w, h) for w, h in image_sizes if min(w, h) >= MIN_FIGURE_SIDE]
                oversized = [(w, h) for w, h in figure_sizes if w * h > limits.max_image_pixels]
                scanned = len(_WORD_CHARS.findall(text)) < _MIN_TEXT_CHARS and drawn
                if oversized and not scanned:
                    # pypdf would decode these in full; the page render covers scans instead
                    w, h = oversized[0]
                    out.warnings.append(
                        f"page {page_no}: figures skipped, a {w}x{h} image is over the "
                        f"{limits.max_image_pixels} pixel limit"
                    )
                elif figure_sizes and not scanned:
                    out.figure_pages.append(page_no)
                if lines and not scanned:
                    # the page as its text hits show it, with their lines boxed on it
                    if len(out.layouts) < limits.max_page_previews:
                        out.layouts.append(PageLayout(page=page_no, lines=lines, image=render_preview(page)))
                    else:
                        previews_skipped += 1
                if scanned:
                    out.scanned.append(page_no)
                    if len(out.renders) >= limits.max_page_renders:
                        skipped += 1
                        continue
                    out.renders.append(
                        ImageBlock(
                            data=_render(page), locator=Locator(page=page_no), kind="page", context=out.title
                        )
                    )
            except pdfium.PdfiumError as exc:
                out.warnings.append(f"page {page_no}: cannot be read, skipped ({exc})")
            finally:
                page.close()
        if not out.blocks and not out.renders and out.warnings:
            raise ExtractionError(
                f"{path.name}: no page of the PDF could be read ({out.warnings[0]}); the file is "
                "corrupt, re-export it from the source application"
            )
        if previews_skipped:
            out.warnings.append(
                f"{previews_skipped} pages have no page preview (their hits show no line boxes): over "
                f"the limit of {limits.max_page_previews} previews per document (VLSEARCH_MAX_PAGE_PREVIEWS)"
            )
        if skipped:
            out.warnings.append(
                f"{skipped} scanned pages not rendered for OCR: over the limit of "
                f"{limits.max_page_renders} page renders per document"
            )
    finally:
        pdf.close()
    return out


def _open_error(path: Path, exc: pdfium.PdfiumError) -> str:
    # pdfium's error code is process-global and can be stale, so ask pypdf what is wrong
    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            return (
                f"{path.name}: the PDF is encrypted with a password; remove the protection "
                f"(print to PDF or save without a password) and ingest it again"
            )
        if len(reader.pages) == 0:
            return f"{path.name}: the PDF has no pages; nothing to index"
    except _PYPDF_ERRORS:
        pass  # pypdf cannot read it either: it is corrupt, reported below with pdfium's reason
    return f"{path.name}: corrupt or unreadable PDF ({exc}); re-export it from the source application"


def _page_text(page: pdfium.PdfPage) -> tuple[str, tuple[TextLine, ...]]:
    """The page's text, and its lines with their positions."""
    textpage = page.get_textpage()
    try:
        raw = textpage.get_text_range()
        lines = page_lines(page, textpage, raw)
    finally:
        textpage.close()
    return raw.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", ""), lines


def _paragraphs(text: str) -> list[str]:
    """Rebuild paragraphs from pdfium's one-line-per-text-line output.

    A line joins the next one when it is nearly full width and does not end a sentence (a
    wrapped line); short lines (headings, list items, table cells) stay lines of their own.
    """
    out: list[str] = []
    for chunk in _PARAGRAPH_BREAK.split(text):
        lines = [line.strip() for line in chunk.splitlines() if line.strip()]
        if not lines:
            continue
        full = max(len(line) for line in lines)
        para: list[str] = []
        for line in lines:
            para.append(line)
            wrapped = len(line) >= 0.75 * full and not _SENTENCE_END.search(line)
            if not wrapped:
                out.append(_join_lines(para))
                para = []
        if para:
            out.append(_join_lines(para))
    return out


_SENTENCE_END = re.compile(r"[.!?:。！？；：]$")
_CJK_EDGE = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


def _join_lines(lines: list[str]) -> str:
    """Join wrapped lines: a space between Latin words, nothing between Chinese characters."""
    out = ""
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if out and not (_CJK_EDGE.match(out[-1]) and _CJK_EDGE.match(line[0])):
            out += " "
        out += line
    return out


def _page_objects(page: pdfium.PdfPage) -> tuple[bool, list[tuple[int, int]]]:
    """Whether the page draws anything besides text, and the pixel sizes of its images."""
    drawn = False
    sizes: list[tuple[int, int]] = []
    for obj in page.get_objects(max_depth=2):
        if obj.type in (pdfium_c.FPDF_PAGEOBJ_PATH, pdfium_c.FPDF_PAGEOBJ_SHADING):
            drawn = True
        elif obj.type == pdfium_c.FPDF_PAGEOBJ_IMAGE:
            drawn = True
            width, height = obj.get_px_size()  # type: ignore[attr-defined]
            sizes.append((int(width), int(height)))
    return drawn, sizes


def _render(page: pdfium.PdfPage) -> bytes:
    width, height = page.get_size()
    scale = min(RENDER_LONG_SIDE_PX / max(width, height, 1.0), _MAX_RENDER_SCALE)
    bitmap = page.render(scale=scale)
    try:
        image = bitmap.to_pil()
        out = io.BytesIO()
        image.convert("RGB").save(out, format="PNG", optimize=False)
        return out.getvalue()
    finally:
        bitmap.close()


def _figures(
    path: Path, *, limits: Limits, pages: list[int], page_texts: dict[int, str]
) -> tuple[tuple[ImageBlock, ...], tuple[str, ...]]:
    """Embedded images of the given (text) pages, decoded by pypdf; sizes were checked by pdfium."""
    collector = FigureCollector(limits=limits)
    try:
        reader_pages = list(PdfReader(path).pages)
    except _PYPDF_ERRORS as exc:
        # pdfium already read the text; a pypdf parse failure costs only the figures
        return (), (f"embedded figures not extracted: {exc}",)
    for page_no in pages:
        if collector.full:
            break
        if page_no > len(reader_pages):
            break
        page = reader_pages[page_no - 1]
        try:
            images = list(page.images)
        except _PYPDF_ERRORS as exc:
            collector.warnings.append(f"page {page_no}: figures not extracted ({exc})")
            continue
        context = _page_context(page_texts.get(page_no, "")) if images else ""
        for ordinal, image in enumerate(images, start=1):
            try:
                data = image.data
            except _PYPDF_ERRORS as exc:
                collector.warnings.append(f"page {page_no} figure {ordinal}: not decoded ({exc})")
                continue
            collector.add(
                data,
                locator=Locator(page=page_no, index=ordinal),
                context=context,
                what=f"page {page_no} figure {ordinal}",
            )
    return collector.finish()


def _page_context(text: str) -> str:
    """A caption-like line for the page's figures: a 'Figure …' line, else the page's first lines."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    captions = [line for line in lines if re.match(r"^(figure|fig\.|图)\s*\d", line, re.I)]
    if captions:
        return " ".join(captions)[:500]
    return " ".join(lines)[:300]
