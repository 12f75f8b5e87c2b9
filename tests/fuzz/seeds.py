"""Small, real seed files of every format the extractors read, and the mutations applied to them."""

from __future__ import annotations

import io
import zipfile
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image

from vlsearch.demo.writers import (
    Doc,
    Figure,
    Heading,
    Para,
    ScannedPage,
    Sheet,
    Slide,
    Table,
    diagram_png,
    text_png,
    write_docx,
    write_html,
    write_markdown,
    write_pdf,
    write_pptx,
    write_xlsx,
)

# name -> file suffix (the suffix matters only for markdown vs text)
FORMATS = {
    "pdf": ".pdf",
    "docx": ".docx",
    "pptx": ".pptx",
    "xlsx": ".xlsx",
    "html": ".html",
    "markdown": ".md",
    "text": ".txt",
    "png": ".png",
    "jpeg": ".jpg",
    "gif": ".gif",
    "mp4": ".mp4",
}
ZIPPED = ("docx", "pptx", "xlsx")

# byte strings that tend to matter to parsers: structure markers, huge numbers, DTDs, NULs
TOKENS = (
    b'<!DOCTYPE x [<!ENTITY a "aaaa">]>',
    b"&a;",
    b"\x00",
    b"]]>",
    b"<",
    b"99999999999",
    b"-1",
    b"obj",
    b"endobj",
    b"/Count 4000000000",
    b"/Kids [1 0 R]",
    b"R",
    b"stream\n",
    b"\xff\xfe",
    b"\r\n",
)


def _video(path: Path) -> bytes:
    from vlsearch.demo.media import write_video

    frames = [np.full((48, 64, 3), (i * 70) % 256, dtype=np.uint8) for i in range(4)]
    write_video(path, lambda i: frames[i], frames=len(frames), fps=Fraction(4))
    return path.read_bytes()


def write_seeds(root: Path) -> dict[str, bytes]:
    doc = Doc(
        title="Fuzz seed",
        blocks=(
            Heading("Seed heading"),
            Para("A paragraph about pump P-7 and valve V-2."),
            Table(("Code", "Meaning"), (("E-1", "first"),)),
            Figure(diagram_png(["A", "B"]), "Figure 1: flow"),
            ScannedPage(text_png(["SCANNED"])),
        ),
    )
    seeds: dict[str, bytes] = {}
    seeds["pdf"] = write_pdf(root / "seed.pdf", doc).read_bytes()
    seeds["docx"] = write_docx(root / "seed.docx", doc).read_bytes()
    seeds["pptx"] = write_pptx(
        root / "seed.pptx",
        "Seed deck",
        [Slide("Seed slide", ("point one", "point two"), notes="notes"), Slide("Second", ("x",))],
    ).read_bytes()
    seeds["xlsx"] = write_xlsx(
        root / "seed.xlsx", [Sheet("Data", ("Code", "Value"), (("A", 1), ("B", 2.5)))]
    ).read_bytes()
    seeds["html"] = write_html(root / "seed.html", doc).read_bytes()
    seeds["markdown"] = write_markdown(root / "seed.md", doc).read_bytes()
    seeds["text"] = "Plain text seed.\n\nSecond paragraph with ümlauts and 中文.\n".encode()
    img = Image.new("RGB", (80, 60), (200, 30, 30))
    for fmt, key in (("PNG", "png"), ("JPEG", "jpeg"), ("GIF", "gif")):
        buf = io.BytesIO()
        img.save(buf, format=fmt)
        seeds[key] = buf.getvalue()
    seeds["mp4"] = _video(root / "seed.mp4")
    return seeds


def mutate(data: bytes, ops: list[tuple[str, int, int, bytes]]) -> bytes:
    """Apply byte-level operations; positions wrap around the current length."""
    out = bytearray(data)
    for op, pos, n, payload in ops:
        size = max(len(out), 1)
        at = pos % size
        if op == "flip" and out:
            out[at] ^= (n % 255) + 1
        elif op == "insert":
            out[at:at] = payload
        elif op == "delete":
            del out[at : at + n]
        elif op == "truncate":
            del out[at:]
        elif op == "overwrite":
            out[at : at + len(payload)] = payload
    return bytes(out)


def mutate_member(data: bytes, member: int, ops: list[tuple[str, int, int, bytes]]) -> bytes:
    """Rewrite an Office zip with one member's (decompressed) content mutated: valid zip, hostile XML."""
    src = zipfile.ZipFile(io.BytesIO(data))
    infos = src.infolist()
    target = infos[member % len(infos)].filename
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in infos:
            body = src.read(info.filename)
            if info.filename == target:
                body = mutate(body, ops)
            out.writestr(info.filename, body)
    return buf.getvalue()
