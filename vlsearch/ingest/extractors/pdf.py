"""PDF: text per page (pypdfium2), page renders for scanned pages, embedded figures (pypdf)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from vlsearch.errors import ExtractionError, TooLargeError
from vlsearch.ingest.extractors.figures import FigureCollector
from vlsearch.ingest.limits import Limits
from vlsearch.types import Extraction, ImageBlock, Locator, TextBlock

RENDER_LONG_SIDE_PX = 1600
_MAX_RENDER_SCALE = 3.0  # never upsample tiny pages beyond ~216 dpi
_MIN_TEXT_CHARS = 8  # fewer visible characters than this and the page counts as scanned
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n+")


def extract_pdf(path: Path, *, limits: Limits) -> Extraction:
    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        raise ExtractionError(_open_error(path, exc)) from exc
    try:
        n_pages = len(pdf)
        if n_pages == 0:
            raise ExtractionError(f"{path.name}: the PDF has no pages; nothing to index")
        if n_pages > limits.max_pages:
            raise TooLargeError(
                f"{path.name}: {n_pages} pages, over the limit of {limits.max_pages}; split the PDF"
            )
        title = str(pdf.get_metadata_dict().get("Title", "")).strip()
        blocks: list[TextBlock] = []
        renders: list[ImageBlock] = []
        scanned: set[int] = set()
        page_texts: dict[int, str] = {}
        for index in range(n_pages):
            page_no = index + 1
            page = pdf[index]
            try:
                text = _page_text(page)
                page_texts[page_no] = text
                if len(re.sub(r"\s", "", text)) >= _MIN_TEXT_CHARS:
                    blocks.extend(
                        TextBlock(text=para, locator=Locator(page=page_no)) for para in _paragraphs(text)
                    )
                elif _has_content(page):
                    scanned.add(page_no)
                    renders.append(
                        ImageBlock(
                            data=_render(page), locator=Locator(page=page_no), kind="page", context=title
                        )
                    )
            finally:
                page.close()
    finally:
        pdf.close()
    figures, notes = _figures(path, limits=limits, skip_pages=scanned, page_texts=page_texts)
    if not title and blocks:
        title = blocks[0].text.splitlines()[0][:200]
    return Extraction(
        doc_type="pdf",
        title=title,
        blocks=tuple(blocks),
        images=tuple(renders) + figures,
        warnings=notes,
        meta={"pages": n_pages, "scanned_pages": sorted(scanned)},
    )


def _open_error(path: Path, exc: pdfium.PdfiumError) -> str:
    reason = str(exc)
    if "password" in reason.lower():
        return (
            f"{path.name}: the PDF is encrypted with a password; remove the protection "
            f"(print to PDF or save without a password) and ingest it again"
        )
    return f"{path.name}: corrupt or unreadable PDF ({reason}); re-export it from the source application"


def _page_text(page: pdfium.PdfPage) -> str:
    textpage = page.get_textpage()
    try:
        text = textpage.get_text_range()
    finally:
        textpage.close()
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


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


def _has_content(page: pdfium.PdfPage) -> bool:
    for obj in page.get_objects(max_depth=2):
        if obj.type in (
            pdfium_c.FPDF_PAGEOBJ_IMAGE,
            pdfium_c.FPDF_PAGEOBJ_PATH,
            pdfium_c.FPDF_PAGEOBJ_SHADING,
        ):
            return True
    return False


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
    path: Path, *, limits: Limits, skip_pages: set[int], page_texts: dict[int, str]
) -> tuple[tuple[ImageBlock, ...], tuple[str, ...]]:
    collector = FigureCollector(limits=limits, doc_name=path.name)
    try:
        reader = PdfReader(path)
        pages = list(reader.pages)
    except (PyPdfError, ValueError, KeyError, OSError) as exc:
        # pdfium already read the text; a pypdf parse failure costs only the figures
        return (), (f"embedded figures not extracted: {exc}",)
    for page_no, page in enumerate(pages, start=1):
        if collector.full:
            break
        if page_no in skip_pages:
            continue  # the page render already carries this image
        try:
            images = list(page.images)
        except (PyPdfError, ValueError, KeyError, OSError, NotImplementedError) as exc:
            collector.warnings.append(f"page {page_no}: figures not extracted ({exc})")
            continue
        context = _page_context(page_texts.get(page_no, "")) if images else ""
        for ordinal, image in enumerate(images, start=1):
            try:
                data = image.data
            except (PyPdfError, ValueError, KeyError, OSError, NotImplementedError) as exc:
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
