"""HTML: visible text in reading order, grouped under the heading path; scripts and styles dropped."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from bs4 import BeautifulSoup, Comment, Doctype, NavigableString, PageElement, ProcessingInstruction, Tag

from vlsearch.ingest.extractors.tables import table_lines
from vlsearch.ingest.extractors.text import read_text_file
from vlsearch.ingest.limits import Limits
from vlsearch.types import Extraction, Locator, TextBlock

_DROP = {
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "head",
    "iframe",
    "object",
    "canvas",
    "button",
    "form",
}
_HEADINGS = {f"h{i}": i for i in range(1, 7)}
_BLOCK = {
    "p",
    "div",
    "section",
    "article",
    "main",
    "aside",
    "header",
    "footer",
    "nav",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "pre",
    "blockquote",
    "figure",
    "figcaption",
    "caption",
    "address",
    "hr",
    "details",
    "summary",
}
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")


class _Walker:
    def __init__(self) -> None:
        self.blocks: list[TextBlock] = []
        self.path: list[tuple[int, str]] = []
        self.buffer: list[str] = []

    @property
    def heading(self) -> tuple[str, ...]:
        return tuple(t for _, t in self.path)

    def flush(self) -> None:
        text = "\n".join(
            line.strip() for line in _SPACES.sub(" ", "".join(self.buffer)).split("\n") if line.strip()
        )
        self.buffer.clear()
        if text:
            self.blocks.append(TextBlock(text=text, locator=Locator(heading=self.heading)))

    def walk(self, root: Tag) -> None:
        # iterative, not recursive: hostile pages nest thousands of elements deep
        stack: list[tuple[Iterator[PageElement], bool]] = [(iter(root.children), False)]
        while stack:
            children, is_block = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                if is_block:
                    self.flush()
                continue
            if isinstance(child, Comment | Doctype | ProcessingInstruction):
                continue
            if isinstance(child, NavigableString):
                self.buffer.append(str(child).replace("\n", " "))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name.lower()
            if name in _DROP or child.get("hidden") is not None:
                continue
            if name in _HEADINGS:
                self.heading_block(_HEADINGS[name], " ".join(child.get_text(" ").split()))
            elif name == "table":
                self.flush()
                rows = [
                    [" ".join(cell.get_text(" ").split()) for cell in tr.find_all(["th", "td"])]
                    for tr in child.find_all("tr")
                ]
                self.text_block("\n".join(table_lines(rows)))
            elif name == "pre":
                self.flush()
                self.text_block(child.get_text().strip("\n"))
            elif name == "br":
                self.buffer.append("\n")
            elif name in _BLOCK:
                self.flush()
                if name == "li":
                    self.buffer.append(_list_marker(child))
                stack.append((iter(child.children), True))
            else:
                stack.append((iter(child.children), False))

    def heading_block(self, level: int, text: str) -> None:
        self.flush()
        if not text:
            return
        while self.path and self.path[-1][0] >= level:
            self.path.pop()
        self.path.append((level, text))
        self.blocks.append(TextBlock(text=text, locator=Locator(heading=self.heading), is_heading=True))

    def text_block(self, text: str) -> None:
        if text.strip():
            self.blocks.append(TextBlock(text=text, locator=Locator(heading=self.heading)))


def _list_marker(item: Tag) -> str:
    parent = item.parent
    if isinstance(parent, Tag) and parent.name == "ol":
        position = 1 + sum(1 for sib in item.find_previous_siblings("li"))
        return f"{position}. "
    return "- "


def extract_html(path: Path, *, limits: Limits) -> Extraction:
    soup = BeautifulSoup(read_text_file(path), "lxml")
    title_tag = soup.find("title")
    title = " ".join(title_tag.get_text(" ").split()) if title_tag else ""
    walker = _Walker()
    walker.walk(soup.body if soup.body is not None else soup)
    walker.flush()
    if not title:
        headings = [b.text for b in walker.blocks if b.is_heading]
        title = headings[0] if headings else ""
    return Extraction(doc_type="html", title=title, blocks=tuple(walker.blocks))
