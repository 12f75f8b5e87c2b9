"""Plain text: decoded (UTF-8, UTF-16 with BOM, or GB18030) and split into paragraphs."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from vlsearch.errors import ExtractionError
from vlsearch.ingest.limits import Limits
from vlsearch.types import Extraction, Locator, TextBlock

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n+")
# control characters other than tab/newline/CR/form feed mean "binary", whatever the codec says
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def decode_text(data: bytes, *, partial: bool = False) -> str | None:
    """Decode bytes that are text, or return None when they are not.

    `partial=True` accepts a sequence cut mid-character at the end (a file head). GB18030 is
    tried last because Chinese enterprise files are often saved in it; it decodes many byte
    strings, so the control-character check is what rejects binary content.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8-sig", "gb18030"]
    for name in candidates:
        decoder = codecs.getincrementaldecoder(name)()
        try:
            text = decoder.decode(data, final=not partial)
        except UnicodeDecodeError:
            continue
        if len(_CONTROL.findall(text)) <= max(0, len(text) // 1000):
            return text
    return None


def read_text_file(path: Path) -> str:
    """The file's text with normalised newlines; ExtractionError when it is not text."""
    data = path.read_bytes()
    text = decode_text(data)
    if text is None:
        raise ExtractionError(f"{path.name}: not valid UTF-8, UTF-16 or GB18030 text; re-save it as UTF-8")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in _PARAGRAPH_BREAK.split(text) if p.strip()]


def extract_text(path: Path, *, limits: Limits) -> Extraction:
    text = read_text_file(path)
    blocks = tuple(TextBlock(text=p, locator=Locator()) for p in paragraphs(text))
    title = blocks[0].text.splitlines()[0][:200] if blocks else ""
    return Extraction(doc_type="text", title=title, blocks=blocks)
