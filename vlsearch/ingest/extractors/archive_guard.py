"""Guard for Office Open XML files, run BEFORE python-docx/pptx/openpyxl open them.

Checks, in order: the zip directory reads; part names are plain relative names (no '..',
absolute paths, drive letters, backslashes or control characters); the declared uncompressed
sizes stay under the limits (total, and per-part expansion ratio), which is enough against zip
bombs because Python's zipfile stops reading a part at its declared size and fails the CRC check
if the data goes on; then every part is inflated once, in bounded chunks, which proves the
container is whole (CRC, compression method) and lets us refuse XML parts that carry a DTD.
OOXML never uses DTDs, and a DTD is how "billion laughs" entity bombs and external entities get
in, whatever the XML parser downstream would do with them.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from pathlib import Path
from xml.etree.ElementTree import ParseError

from lxml.etree import XMLSyntaxError

from vlsearch.errors import ExtractionError, TooLargeError
from vlsearch.ingest.limits import Limits

_RATIO_FLOOR_BYTES = 1024 * 1024  # small XML parts compress 50x+ legitimately; judge only big ones
_CHUNK = 64 * 1024
_PROLOG_BYTES = 64 * 1024  # an XML prolog (declaration, comments) longer than this is not Office's
_XML_SUFFIXES = (".xml", ".rels", ".vml")
_DRIVE = re.compile(r"^[A-Za-z]:")

# What the zip module and the Office libraries raise for a damaged package. Caught around the
# library calls of the three Office extractors (and turned into ExtractionError naming the type):
# a damaged file must fail alone with a reason, not surface as an internal error.
ZIP_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zlib.error,
    NotImplementedError,  # unsupported compression method / zip version
    UnicodeDecodeError,  # member names flagged UTF-8 that are not
    EOFError,
    struct.error,
    OSError,
    ValueError,
)
OFFICE_PARSE_ERRORS: tuple[type[BaseException], ...] = (
    *ZIP_ERRORS,
    XMLSyntaxError,
    ParseError,
    KeyError,
    TypeError,
    AttributeError,  # well-formed XML missing an element the library expects
    IndexError,
    RecursionError,
)


def check_zip_container(path: Path, *, limits: Limits, kind: str) -> None:
    """Raise TooLargeError / ExtractionError when the container is unsafe or unreadable."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            _check_names(path, infos, kind=kind)
            _check_sizes(path, infos, limits=limits, kind=kind)
            for info in infos:
                _check_part(path, zf, info, kind=kind)
    except ZIP_ERRORS as exc:
        raise ExtractionError(
            f"{path.name}: not a readable {kind} file (corrupt or truncated zip container: "
            f"{type(exc).__name__}: {exc}); re-save it from the original application"
        ) from exc


def _check_names(path: Path, infos: list[zipfile.ZipInfo], *, kind: str) -> None:
    for info in infos:
        name = info.orig_filename
        parts = name.replace("\\", "/").split("/")
        unsafe = (
            name.startswith(("/", "\\"))
            or _DRIVE.match(name) is not None
            or "\\" in name
            or ".." in parts
            or any(ord(ch) < 32 or ord(ch) == 127 for ch in name)
        )
        if unsafe:
            raise ExtractionError(
                f"{path.name}: {kind} container holds a part with an unsafe name {name!r} "
                "(absolute, '..' or control characters); genuine Office files never do, so it is refused"
            )


def _check_sizes(path: Path, infos: list[zipfile.ZipInfo], *, limits: Limits, kind: str) -> None:
    if len(infos) > limits.max_zip_entries:
        raise TooLargeError(
            f"{path.name}: {kind} container holds {len(infos)} parts, over the limit of "
            f"{limits.max_zip_entries}; this is not a normal document"
        )
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > _RATIO_FLOOR_BYTES:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_compression_ratio:
                raise TooLargeError(
                    f"{path.name}: part {info.filename!r} expands {ratio:.0f}x "
                    f"({info.compress_size} -> {info.file_size} bytes), over the "
                    f"{limits.max_compression_ratio:.0f}x limit; refusing a likely zip bomb"
                )
    if total > limits.max_uncompressed_bytes:
        raise TooLargeError(
            f"{path.name}: {kind} would expand to {total / 2**20:.0f} MiB, over the "
            f"{limits.max_uncompressed_bytes / 2**20:.0f} MiB limit (VLSEARCH_MAX_UNCOMPRESSED_MB); "
            "split the document or remove embedded media"
        )


def _check_part(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, *, kind: str) -> None:
    """Inflate one part in chunks (never more than its declared size) and vet an XML prolog."""
    if info.is_dir():
        return
    xml = info.filename.lower().endswith(_XML_SUFFIXES)
    head = b""
    with zf.open(info) as part:
        while chunk := part.read(_CHUNK):
            if xml and len(head) < _PROLOG_BYTES:
                head += chunk[: _PROLOG_BYTES - len(head)]
    if xml and head:
        problem = prolog_problem(head)
        if problem:
            raise ExtractionError(
                f"{path.name}: {kind} part {info.filename!r} {problem}; genuine Office files never "
                "do (this is how XML entity bombs work), so the file is refused"
            )


def prolog_problem(head: bytes) -> str:
    """'' when the XML prolog is plain; else what is wrong (a DTD, or a prolog that never ends)."""
    text = _decode_head(head)
    at = 0
    while True:
        while at < len(text) and text[at] in " \t\r\n":
            at += 1
        if text.startswith("<?", at):
            end, close = text.find("?>", at + 2), 2
        elif text.startswith("<!--", at):
            end, close = text.find("-->", at + 4), 3
        elif text.startswith("<!", at):
            return "declares a DTD (<!DOCTYPE / <!ENTITY)"
        else:
            return ""  # the root element (or not XML at all: the parser will say so)
        if end < 0:
            return f"has an XML prolog longer than {_PROLOG_BYTES // 1024} KiB"
        at = end + close


def _decode_head(head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", errors="replace")
    if head[:2] in (b"<\x00", b"\x00<"):
        return head.decode("utf-16-le" if head[0:1] == b"<" else "utf-16-be", errors="replace")
    return head.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="replace")
