"""DOCX: paragraphs under their heading path, tables as readable rows, inline images as figures."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table
from docx.text.paragraph import Paragraph

from vlsearch.errors import ExtractionError
from vlsearch.ingest.extractors.archive_guard import OFFICE_PARSE_ERRORS, check_zip_container
from vlsearch.ingest.extractors.figures import FigureCollector
from vlsearch.ingest.extractors.tables import table_lines
from vlsearch.ingest.limits import Limits
from vlsearch.types import Extraction, Locator, TextBlock

_HEADING_STYLE = re.compile(r"^(heading|标题)\s*(\d)$", re.I)
_CAPTION = re.compile(r"^(figure|fig\.|图|表|table)\s*\d", re.I)


@dataclass(frozen=True)
class _Event:
    text: str
    heading: tuple[str, ...]
    is_heading: bool = False
    is_caption: bool = False
    image_parts: tuple[bytes, ...] = ()


# the library's own 'not a Word file' error, plus what a damaged package makes it raise
_UNREADABLE: tuple[type[BaseException], ...] = (PackageNotFoundError, *OFFICE_PARSE_ERRORS)


def extract_docx(path: Path, *, limits: Limits) -> Extraction:
    check_zip_container(path, limits=limits, kind="DOCX")
    try:
        document = docx.Document(str(path))
        events = _walk(document)
        core_title = (document.core_properties.title or "").strip()
    except _UNREADABLE as exc:
        raise ExtractionError(
            f"{path.name}: not a readable Word document ({type(exc).__name__}: {exc}); "
            f"re-save it as .docx from Word"
        ) from exc
    blocks = tuple(
        TextBlock(text=e.text, locator=Locator(heading=e.heading), is_heading=e.is_heading)
        for e in events
        if e.text
    )
    collector = FigureCollector(limits=limits)
    ordinal = 0
    for i, event in enumerate(events):
        for blob in event.image_parts:
            ordinal += 1
            collector.add(
                blob,
                locator=Locator(heading=event.heading, index=ordinal),
                context=_image_context(events, i),
                what=f"figure {ordinal}",
            )
    images, notes = collector.finish()
    headings = [b.text for b in blocks if b.is_heading]
    title = core_title or (headings[0] if headings else (blocks[0].text[:200] if blocks else ""))
    return Extraction(doc_type="docx", title=title, blocks=blocks, images=images, warnings=notes)


def _walk(document: object) -> list[_Event]:
    events: list[_Event] = []
    path: list[tuple[int, str]] = []  # (level, text) of the open headings
    numbered = 0
    for item in document.iter_inner_content():  # type: ignore[attr-defined]
        heading = tuple(text for _, text in path)
        if isinstance(item, Table):
            numbered = 0
            lines = table_lines([_row_texts(row) for row in item.rows])
            events.append(_Event(text="\n".join(lines), heading=heading))
            continue
        if not isinstance(item, Paragraph):
            continue
        style = (item.style.name if item.style is not None else "") or ""
        text = item.text.strip()
        level = _heading_level(style)
        if level is not None and text:
            numbered = 0
            while path and path[-1][0] >= level:
                path.pop()
            path.append((level, text))
            events.append(_Event(text=text, heading=tuple(t for _, t in path), is_heading=True))
            continue
        if text and style.lower().startswith("list number"):
            numbered += 1
            text = f"{numbered}. {text}"
        elif text and (style.lower().startswith("list") or _has_numbering(item)):
            text = f"- {text}"
        elif text:
            numbered = 0
        images = _inline_images(item)
        events.append(
            _Event(
                text=text,
                heading=heading,
                is_caption=style.lower() == "caption" or bool(_CAPTION.match(text)),
                image_parts=images,
            )
        )
    return events


def _row_texts(row: object) -> list[str]:
    # python-docx repeats a merged cell once per grid column; keep it once, in its first column
    seen: set[int] = set()
    texts = []
    for cell in row.cells:  # type: ignore[attr-defined]
        key = id(cell._tc)
        texts.append("" if key in seen else cell.text)
        seen.add(key)
    return texts


def _heading_level(style: str) -> int | None:
    if style.lower() == "title":
        return 0
    match = _HEADING_STYLE.match(style.strip())
    return int(match.group(2)) if match else None


def _has_numbering(paragraph: Paragraph) -> bool:
    ppr = paragraph._p.pPr
    return ppr is not None and ppr.numPr is not None


def _inline_images(paragraph: Paragraph) -> tuple[bytes, ...]:
    rel_ids = paragraph._p.xpath(".//a:blip/@r:embed")
    if not rel_ids:
        return ()
    parts = paragraph.part.related_parts
    return tuple(parts[rid].blob for rid in rel_ids if rid in parts)


def _image_context(events: list[_Event], i: int) -> str:
    """Caption right after the image, else its own paragraph, else the nearest paragraph."""
    following = events[i + 1] if i + 1 < len(events) else None
    if following is not None and following.is_caption and following.text:
        return following.text
    if events[i].text:
        return events[i].text
    for j in range(i - 1, -1, -1):
        if events[j].text and not events[j].is_heading:
            return events[j].text
    for j in range(i + 1, len(events)):
        if events[j].text:
            return events[j].text
    return ""
