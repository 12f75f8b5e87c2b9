"""OCR enrichment of an extraction's images, keyframes and scanned pages."""

from __future__ import annotations

import re
from dataclasses import replace

from PIL import Image

from vlsearch.evidence.boxes import normalise_box
from vlsearch.media.ocr import OcrEngine, OcrResult
from vlsearch.types import Extraction, ImageBlock, Locator, PageLayout, TextBlock, TextLine

# A page with at least this many letters/digits of extracted text already has a text layer; its
# OCR text would only duplicate those chunks.
_TEXT_LAYER_MIN_CHARS = 40
_WORD_CHARS = re.compile(r"\w", re.UNICODE)


class VisualEnricher:
    """Make the pixels of an extraction searchable as text."""

    def __init__(self, *, ocr: OcrEngine) -> None:
        self.ocr = ocr

    def load(self) -> None:
        self.ocr.load()

    def enrich(self, extraction: Extraction) -> Extraction:
        """Return a new Extraction with OCR text added; the input is not changed.

        For every ImageBlock (figure, photo, page, keyframe) the OCR text is appended to its
        `context`: new context = old context + "\\n\\n" + OCR lines joined by "\\n" (just the OCR text
        when the context was empty; unchanged when OCR found nothing or the context already contains
        that text). The pipeline builds the image/frame row's Item.text from `context`, so it ends up
        as context followed by OCR text.

        For kind="page" images (page renders from the PDF extractor) the OCR text ALSO becomes a
        TextBlock with that page's locator, so scanned text is chunked and searchable like any text,
        unless the extraction already holds a text layer for the page (at least 40 letters/digits in
        its blocks), which would make the OCR a duplicate.

        Every image keeps its OCR lines with their boxes (`ImageBlock.lines`), and a page render
        whose OCR became page text also adds a PageLayout of those lines, so the page's text chunks
        can show where their lines are.

        An image whose bytes cannot be decoded keeps its context and adds a warning instead of
        failing the document. meta gains "ocr_images" (images OCR'd) and "ocr_chars" (characters read).
        """
        page_chars = _text_chars_per_page(extraction.blocks)
        images: list[ImageBlock] = []
        page_blocks: list[TextBlock] = []
        layouts = list(extraction.pages)
        chars = read = 0
        warnings = list(extraction.warnings)
        for image in extraction.images:
            try:
                result = self.ocr.read(image.data)
            except (OSError, ValueError, Image.DecompressionBombError) as exc:
                # one undecodable embedded figure must not fail the whole document; say so instead
                where = image.locator.label() or f"image {len(images) + 1}"
                warnings.append(f"OCR skipped for {image.kind} ({where}): {exc}")
                images.append(image)
                continue
            read += 1
            chars += len(result.text)
            lines = text_lines(result)
            images.append(replace(image, context=merge_context(image.context, result.text), lines=lines))
            if image.kind == "page" and result.text:
                page = image.locator.page
                if page is None or page_chars.get(page, 0) < _TEXT_LAYER_MIN_CHARS:
                    page_blocks.extend(page_text_blocks(result, image.locator))
                    if page is not None and lines:
                        layouts.append(PageLayout(page=page, lines=lines))
        meta = dict(extraction.meta)
        meta["ocr_images"] = read
        meta["ocr_chars"] = chars
        return replace(
            extraction,
            images=tuple(images),
            warnings=tuple(warnings),
            blocks=_merge_by_page(extraction.blocks, page_blocks),
            meta=meta,
            pages=tuple(layouts),
        )


def merge_context(context: str, ocr_text: str) -> str:
    """context + blank line + OCR text, without repeating text that is already there."""
    ocr_text = ocr_text.strip()
    context = context.strip()
    if not ocr_text or ocr_text in context:
        return context
    if not context:
        return ocr_text
    return f"{context}\n\n{ocr_text}"


def text_lines(result: OcrResult) -> tuple[TextLine, ...]:
    """The OCR lines with their boxes normalised to the image that was read."""
    if not result.width or not result.height:
        return ()
    return tuple(
        TextLine(text=line.text, box=normalise_box(line.bbox, result.width, result.height))
        for line in result.lines
    )


def page_text_blocks(result: OcrResult, locator: Locator) -> list[TextBlock]:
    """One TextBlock for the OCR text of a page render, located on that page (not on the image)."""
    text = result.text.strip()
    if not text:
        return []
    return [TextBlock(text=text, locator=Locator(page=locator.page, slide=locator.slide))]


def _text_chars_per_page(blocks: tuple[TextBlock, ...]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for block in blocks:
        if block.locator.page is not None:
            counts[block.locator.page] = counts.get(block.locator.page, 0) + len(
                _WORD_CHARS.findall(block.text)
            )
    return counts


def _merge_by_page(blocks: tuple[TextBlock, ...], added: list[TextBlock]) -> tuple[TextBlock, ...]:
    """Insert OCR page blocks after the last existing block of an earlier-or-same page (reading order)."""
    if not added:
        return blocks
    merged = list(blocks)
    for block in added:
        page = block.locator.page
        at = len(merged)
        if page is not None:
            at = 0
            for i, existing in enumerate(merged):
                if existing.locator.page is not None and existing.locator.page <= page:
                    at = i + 1
        merged.insert(at, block)
    return tuple(merged)
