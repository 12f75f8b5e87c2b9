"""Plain text: decoded (UTF-8, UTF-16 with BOM, GB18030, Windows-1252) and split into paragraphs."""

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

    `partial=True` accepts a sequence cut mid-character at the end (a file head). After UTF-8,
    GB18030 is tried because Chinese enterprise files are often saved in it, but only kept when
    its non-ASCII characters are mostly Chinese; otherwise Windows-1252 (Western legacy files).
    Those two decode almost any bytes, so the control-character check is what rejects binary.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8-sig", "gb18030", "cp1252"]
    for name in candidates:
        decoder = codecs.getincrementaldecoder(name)()
        try:
            text = decoder.decode(data, final=not partial)
        except UnicodeDecodeError:
            continue
        if len(_CONTROL.findall(text)) > len(text) // 1000:
            continue
        if name == "gb18030" and not _mostly_chinese(text):
            continue
        return text
    return None


_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_CHINESE = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


def _mostly_chinese(text: str) -> bool:
    non_ascii = len(_NON_ASCII.findall(text))
    return non_ascii == 0 or len(_CHINESE.findall(text)) >= 0.8 * non_ascii


def read_text_file(path: Path) -> str:
    """The file's text with normalised newlines; ExtractionError when it is not text."""
    data = path.read_bytes()
    text = decode_text(data)
    if text is None:
        raise ExtractionError(
            f"{path.name}: not readable as UTF-8, UTF-16, GB18030 or Windows-1252 text; re-save it as UTF-8"
        )
    return text.replace("\r\n", "\n").replace("\r", "\n")


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in _PARAGRAPH_BREAK.split(text) if p.strip()]


def extract_text(path: Path, *, limits: Limits) -> Extraction:
    text = read_text_file(path)
    blocks = tuple(TextBlock(text=p, locator=Locator()) for p in paragraphs(text))
    title = blocks[0].text.splitlines()[0][:200] if blocks else ""
    return Extraction(doc_type="text", title=title, blocks=blocks)
