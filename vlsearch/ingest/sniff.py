"""Decide a file's doc_type from its content (magic bytes), not from its name.

The extension is consulted only to choose between "markdown" and "text" for real text.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from vlsearch.errors import ExtractionError, UnsupportedTypeError
from vlsearch.ingest.extractors.archive_guard import ZIP_ERRORS
from vlsearch.ingest.extractors.text import decode_text

_HEAD_BYTES = 64 * 1024
_MARKDOWN_EXTS = {".md", ".markdown", ".mdown", ".mkd"}
_BMP_DIB_SIZES = {12, 40, 52, 56, 64, 108, 124}

_HTML_START = re.compile(
    rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body|meta|title)[\s>/]", re.I | re.S
)
_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*>\s*", re.I)
_MD_HEADING = re.compile(r"^#{1,6}\s+\S", re.M)
_MD_LIST = re.compile(r"^\s{0,3}([-*+]|\d{1,3}[.)])\s+\S", re.M)
_MD_FENCE = re.compile(r"^\s{0,3}```", re.M)
_MD_SETEXT = re.compile(r"^\S.*\n(=+|-+)\s*$", re.M)

# signatures we recognise only to name them in the rejection message
_KNOWN_BINARY: tuple[tuple[bytes, str], ...] = (
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "OLE2 compound file (legacy .doc/.xls/.ppt or a password-protected Office file)",
    ),
    (b"\x1f\x8b", "gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"\x7fELF", "ELF executable"),
    (b"MZ", "Windows executable"),
    (b"ID3", "MP3 audio"),
    (b"fLaC", "FLAC audio"),
    (b"OggS", "Ogg media"),
    (b"{\\rtf", "RTF document"),
    (b"SQLite format 3\x00", "SQLite database"),
    (b"\x00\x00\x01\x00", "Windows icon"),
)


def sniff(path: Path) -> str:
    """Return pdf | docx | pptx | xlsx | html | markdown | text | image | video.

    Raises ExtractionError for unreadable or empty files and UnsupportedTypeError for content
    we do not index, naming what it looks like.
    """
    try:
        with path.open("rb") as fh:
            head = fh.read(_HEAD_BYTES)
    except OSError as exc:
        raise ExtractionError(f"{path.name}: cannot read file ({exc.strerror or exc})") from exc
    if not head:
        raise ExtractionError(f"{path.name}: empty file (0 bytes); nothing to index")

    pdf_at = head.find(b"%PDF-", 0, 1024)
    # readers accept the header anywhere in the first KiB, but text that merely mentions
    # "%PDF-" is still text: only whitespace or binary junk may precede a real header
    if pdf_at == 0 or (pdf_at > 0 and (not head[:pdf_at].strip() or decode_text(head[:pdf_at]) is None)):
        return "pdf"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _sniff_zip(path)
    media = _sniff_media(head)
    if media is not None:
        return media
    if _looks_html(head):
        return "html"
    for magic, what in _KNOWN_BINARY:
        if head.startswith(magic):
            raise UnsupportedTypeError(f"{path.name}: unsupported file type: {what}")
    text = decode_text(head, partial=len(head) == _HEAD_BYTES)
    if text is None:
        raise UnsupportedTypeError(
            f"{path.name}: unsupported binary content (no known signature; first bytes "
            f"{head[:8].hex(' ')}). Supported: PDF, DOCX, PPTX, XLSX, HTML, Markdown, text, images, videos"
        )
    if text.lstrip().lower().startswith("<svg") or (_XML_DECL.match(head) and b"<svg" in head[:2048].lower()):
        raise UnsupportedTypeError(f"{path.name}: SVG vector images are not indexed; export it as PNG")
    if path.suffix.lower() in _MARKDOWN_EXTS or _looks_markdown(text):
        return "markdown"
    return "text"


def _sniff_zip(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except ZIP_ERRORS as exc:
        raise ExtractionError(
            f"{path.name}: starts like a zip/Office file but the archive is corrupt or truncated "
            f"({type(exc).__name__}: {exc})"
        ) from exc
    if "[Content_Types].xml" in names:
        if "word/document.xml" in names or any(n.startswith("word/") for n in names):
            return "docx"
        if "ppt/presentation.xml" in names or any(n.startswith("ppt/") for n in names):
            return "pptx"
        if "xl/workbook.xml" in names or any(n.startswith("xl/") for n in names):
            return "xlsx"
        raise UnsupportedTypeError(
            f"{path.name}: Office Open XML package that is not a Word, PowerPoint or Excel file"
        )
    if "mimetype" in names:
        raise UnsupportedTypeError(
            f"{path.name}: OpenDocument (ODF) file; save it as .docx/.pptx/.xlsx to index it"
        )
    raise UnsupportedTypeError(f"{path.name}: zip archive; unpack it and ingest the files inside")


def _sniff_media(head: bytes) -> str | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n") or head.startswith(b"\xff\xd8\xff"):
        return "image"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "image"
    if head.startswith(b"BM") and len(head) >= 18 and int.from_bytes(head[14:18], "little") in _BMP_DIB_SIZES:
        return "image"
    if head.startswith(b"RIFF") and len(head) >= 12:
        kind = head[8:12]
        if kind == b"WEBP":
            return "image"
        if kind == b"AVI ":
            return "video"
        return None
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"avif", b"avis"):
            return "image"
        if brand in (b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1"):
            raise UnsupportedTypeError("HEIC/HEIF images are not supported; convert the photo to JPEG or PNG")
        return "video"
    if len(head) >= 8 and head[4:8] in (b"moov", b"mdat", b"wide", b"free", b"skip"):
        return "video"  # QuickTime without an ftyp box
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video"  # EBML: Matroska / WebM
    if head.startswith(b"FLV\x01"):
        return "video"
    return None


def _looks_html(head: bytes) -> bool:
    body = head.removeprefix(b"\xef\xbb\xbf")
    decl = _XML_DECL.match(body)
    if decl:
        body = body[decl.end() :]
    return bool(_HTML_START.match(body[:4096]))


def _looks_markdown(text: str) -> bool:
    sample = text[:20_000]
    if _MD_HEADING.search(sample) or _MD_FENCE.search(sample) or _MD_SETEXT.search(sample):
        return True
    return len(_MD_LIST.findall(sample)) >= 3
