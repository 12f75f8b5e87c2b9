"""PPTX: per slide the title (as heading), text frames, tables, speaker notes and pictures."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from pptx.exc import PackageNotFoundError
from pptx.shapes.picture import Picture

from vlsearch.errors import ExtractionError, TooLargeError
from vlsearch.ingest.extractors.archive_guard import OFFICE_PARSE_ERRORS, check_zip_container
from vlsearch.ingest.extractors.figures import FigureCollector
from vlsearch.ingest.extractors.tables import table_lines
from vlsearch.ingest.limits import Limits
from vlsearch.types import Extraction, Locator, TextBlock

# the library's own 'not a PowerPoint file' error, plus what a damaged package makes it raise
_UNREADABLE: tuple[type[BaseException], ...] = (PackageNotFoundError, *OFFICE_PARSE_ERRORS)


def extract_pptx(path: Path, *, limits: Limits) -> Extraction:
    check_zip_container(path, limits=limits, kind="PPTX")
    try:
        return _read(path, limits=limits)
    except _UNREADABLE as exc:
        raise ExtractionError(
            f"{path.name}: not a readable PowerPoint file ({type(exc).__name__}: {exc}); "
            f"re-save it as .pptx from PowerPoint"
        ) from exc


def _read(path: Path, *, limits: Limits) -> Extraction:
    prs = Presentation(str(path))
    slides = list(prs.slides)
    core_title = (prs.core_properties.title or "").strip()
    if len(slides) > limits.max_pages:
        raise TooLargeError(f"{path.name}: {len(slides)} slides, over the limit of {limits.max_pages}")
    blocks: list[TextBlock] = []
    collector = FigureCollector(limits=limits)
    first_title = ""
    for slide_no, slide in enumerate(slides, start=1):
        loc = Locator(slide=slide_no)
        title_shape = slide.shapes.title
        title = _frame_text(title_shape) if title_shape is not None else ""
        if title:
            first_title = first_title or title
            blocks.append(TextBlock(text=title, locator=loc, is_heading=True))
        texts: list[str] = []
        pictures: list[Any] = []
        for shape in _shapes(slide.shapes):
            if title_shape is not None and shape.shape_id == title_shape.shape_id:
                continue
            if getattr(shape, "has_table", False) and shape.has_table:
                rows = [[cell.text for cell in row.cells] for row in shape.table.rows]
                lines = table_lines(rows)
                if lines:
                    texts.append("\n".join(lines))
            elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
                text = _frame_text(shape)
                if text:
                    texts.append(text)
            if isinstance(shape, Picture):  # includes pictures placed in placeholders
                pictures.append(shape)
        blocks.extend(TextBlock(text=t, locator=loc) for t in texts)
        notes = ""
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            notes = slide.notes_slide.notes_text_frame.text.strip()
            if notes:
                blocks.append(TextBlock(text=f"Notes: {notes}", locator=loc))
        for ordinal, picture in enumerate(pictures, start=1):
            element: Any = picture._element
            alt = (element.nvPicPr.cNvPr.get("descr") or "").strip()
            context = " — ".join(p for p in (title, alt or (texts[0] if texts else notes)) if p)
            try:
                blob = picture.image.blob
            except (KeyError, ValueError, AttributeError) as exc:
                collector.warnings.append(f"slide {slide_no} picture {ordinal}: not readable ({exc})")
                continue
            collector.add(
                blob,
                locator=Locator(slide=slide_no, index=ordinal),
                context=context[:500],
                what=f"slide {slide_no} picture {ordinal}",
            )
    images, warnings = collector.finish()
    return Extraction(
        doc_type="pptx",
        title=core_title or first_title,
        blocks=tuple(blocks),
        images=images,
        warnings=warnings,
        meta={"slides": len(slides)},
    )


def _shapes(shapes: Iterable[Any]) -> Iterator[Any]:
    """Shapes in reading order, descending into groups."""
    for shape in shapes:
        if getattr(shape, "shape_type", None) == MSO_SHAPE_TYPE.GROUP:
            yield from _shapes(shape.shapes)
        else:
            yield shape


def _frame_text(shape: Any) -> str:
    frame = shape.text_frame
    lines = [p.text.strip() for p in frame.paragraphs]
    return "\n".join(line for line in lines if line)
