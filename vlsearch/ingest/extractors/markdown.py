"""Markdown: paragraphs under the heading path built from ATX (#) and setext headings."""

from __future__ import annotations

import re
from pathlib import Path

from vlsearch.ingest.extractors.text import read_text_file
from vlsearch.ingest.limits import Limits
from vlsearch.types import Extraction, Locator, TextBlock

_ATX = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)


def extract_markdown(path: Path, *, limits: Limits) -> Extraction:
    text = _FRONT_MATTER.sub("", read_text_file(path))
    blocks: list[TextBlock] = []
    heading_path: list[tuple[int, str]] = []
    para: list[str] = []
    in_fence = False

    def current() -> tuple[str, ...]:
        return tuple(t for _, t in heading_path)

    def flush() -> None:
        body = "\n".join(para).strip()
        para.clear()
        if body:
            blocks.append(TextBlock(text=body, locator=Locator(heading=current())))

    def open_heading(level: int, title: str) -> None:
        flush()
        while heading_path and heading_path[-1][0] >= level:
            heading_path.pop()
        heading_path.append((level, title))
        blocks.append(TextBlock(text=title, locator=Locator(heading=current()), is_heading=True))

    for line in text.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
            para.append(line)
            continue
        if in_fence:
            para.append(line)
            continue
        atx = _ATX.match(line)
        if atx and atx.group(2):
            open_heading(len(atx.group(1)), atx.group(2))
            continue
        setext = _SETEXT.match(line)
        if setext and len(para) == 1 and para[0].strip():
            title = para.pop().strip()
            open_heading(1 if setext.group(1).startswith("=") else 2, title)
            continue
        if not line.strip():
            flush()
            continue
        para.append(line.rstrip())
    flush()
    headings = [b for b in blocks if b.is_heading]
    top = [b.text for b in headings if len(b.locator.heading) == 1]
    title = top[0] if top else (blocks[0].text.splitlines()[0][:200] if blocks else "")
    return Extraction(doc_type="markdown", title=title, blocks=tuple(blocks))
