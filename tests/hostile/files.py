"""Hostile files, built in memory from real generated documents (nothing binary is committed).

Each builder writes one file that is wrong in exactly one dangerous way and returns its path.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from fractions import Fraction
from pathlib import Path

import numpy as np

from vlsearch.demo.writers import Doc, Heading, Para, Sheet, Slide, write_docx, write_pptx, write_xlsx

MIB = 1 << 20

BILLION_LAUGHS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b"<!DOCTYPE lolz [\n"
    b' <!ENTITY lol "lol">\n'
    + b"".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode()
        for i in range(1, 10)
    )
    + b"]>\n"
)


def base_docx(path: Path, text: str = "Hostile input base document.") -> Path:
    return write_docx(path, Doc(title="Base", blocks=(Heading("Base"), Para(text))))


def base_pptx(path: Path) -> Path:
    return write_pptx(path, "Base deck", [Slide("Base slide", ("one point", "another point"))])


def base_xlsx(path: Path) -> Path:
    return write_xlsx(path, [Sheet("Data", ("Code", "Meaning"), (("E-1", "first"), ("E-2", "second")))])


def rewrite_zip(
    source: Path,
    dest: Path,
    *,
    replace: dict[str, bytes] | None = None,
    extra: dict[str, bytes] | None = None,
) -> Path:
    """Copy an Office zip, replacing some members and adding others (names used verbatim)."""
    replace = replace or {}
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = replace.get(info.filename, src.read(info.filename))
            out.writestr(info.filename, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
        for name, data in (extra or {}).items():
            zinfo = zipfile.ZipInfo(name)  # ZipInfo keeps the name as given, '..' and '/' included
            zinfo.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(zinfo, data, compresslevel=9)
    return dest


def entity_bomb(root_xml: bytes) -> bytes:
    """An XML part with a "billion laughs" DTD before `root_xml` (a root element using &lol9;)."""
    return BILLION_LAUGHS + root_xml


def docx_entity_bomb(dir_: Path, name: str = "laughs.docx") -> Path:
    base = base_docx(dir_ / f"_base_{name}")
    body = (
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b"<w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>"
    )
    out = rewrite_zip(base, dir_ / name, replace={"word/document.xml": entity_bomb(body)})
    base.unlink()
    return out


def xlsx_entity_bomb(dir_: Path, name: str = "laughs.xlsx") -> Path:
    """A workbook whose shared-strings part (added and wired in, as Excel writes it) is a bomb."""
    base = base_xlsx(dir_ / f"_base_{name}")
    with zipfile.ZipFile(base) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml")
        rels = zf.read("xl/_rels/workbook.xml.rels")
        types = zf.read("[Content_Types].xml")
    sheet = sheet.replace(b'<c r="A2" t="inlineStr"><is><t>E-1</t></is></c>', b'<c r="A2" t="s"><v>0</v></c>')
    rels = rels.replace(
        b"</Relationships>",
        b'<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        b'sharedStrings" Target="sharedStrings.xml" Id="rId9"/></Relationships>',
    )
    types = types.replace(
        b"</Types>",
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    )
    shared = (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
        b"<si><t>&lol9;</t></si></sst>"
    )
    out = rewrite_zip(
        base,
        dir_ / name,
        replace={
            "xl/worksheets/sheet1.xml": sheet,
            "xl/_rels/workbook.xml.rels": rels,
            "[Content_Types].xml": types,
        },
        extra={"xl/sharedStrings.xml": entity_bomb(shared)},
    )
    base.unlink()
    return out


def pptx_entity_bomb(dir_: Path, name: str = "laughs.pptx") -> Path:
    base = base_pptx(dir_ / f"_base_{name}")
    with zipfile.ZipFile(base) as zf:
        slide = zf.read("ppt/slides/slide1.xml")
    decl_end = slide.index(b"?>") + 2 if slide.startswith(b"<?xml") else 0
    bombed = BILLION_LAUGHS + slide[decl_end:].replace(b"Base slide", b"&lol9;", 1)
    out = rewrite_zip(base, dir_ / name, replace={"ppt/slides/slide1.xml": bombed})
    base.unlink()
    return out


def docx_zip_bomb_ratio(dir_: Path, name: str = "ratio_bomb.docx") -> Path:
    """One member of 48 MiB of zeros: compresses ~1000x."""
    base = base_docx(dir_ / f"_base_{name}")
    out = rewrite_zip(base, dir_ / name, extra={"word/media/pad.bin": bytes(48 * MIB)})
    base.unlink()
    return out


def pptx_zip_bomb_total(dir_: Path, name: str = "total_bomb.pptx", *, members: int = 48) -> Path:
    """Many members just under the per-member ratio floor: only the total size gives them away."""
    base = base_pptx(dir_ / f"_base_{name}")
    chunk = bytes(MIB - 1)
    extra = {f"ppt/media/pad{i}.bin": chunk for i in range(members)}
    out = rewrite_zip(base, dir_ / name, extra=extra)
    base.unlink()
    return out


def xlsx_declared_huge(dir_: Path, name: str = "declared_huge.xlsx") -> Path:
    """A member whose central-directory entry declares ~4 GiB (real data is small)."""
    base = base_xlsx(dir_ / f"_base_{name}")
    out = rewrite_zip(base, dir_ / name, extra={"xl/media/blob.bin": b"x" * 1000})
    base.unlink()
    data = bytearray(out.read_bytes())
    entry = data.rfind(b"PK\x01\x02")  # the last central-directory header is our extra member
    if entry < 0 or data[entry + 46 : entry + 46 + 17] != b"xl/media/blob.bin":
        raise AssertionError("unexpected zip layout")
    struct.pack_into("<I", data, entry + 24, 0xFFFFFFF0)  # uncompressed size
    out.write_bytes(bytes(data))
    return out


def docx_broken_figure(dir_: Path, name: str = "broken_figure.docx") -> Path:
    """A document whose one embedded PNG is cut in half (its header still reads fine)."""
    from vlsearch.demo.writers import Figure, diagram_png

    png = diagram_png(["Unbox", "Rails", "Rack"])
    doc = Doc(
        title="Racking",
        blocks=(
            Heading("Racking"),
            Para("Slide the rails into rack unit 12."),
            Figure(png, "Figure 1: flow"),
        ),
    )
    base = write_docx(dir_ / f"_base_{name}", doc)
    with zipfile.ZipFile(base) as zf:
        (media,) = [n for n in zf.namelist() if n.startswith("word/media/")]
    out = rewrite_zip(base, dir_ / name, replace={media: png[: len(png) // 2]})
    base.unlink()
    return out


def docx_traversal(dir_: Path, member: str, name: str) -> Path:
    base = base_docx(dir_ / f"_base_{name}")
    out = rewrite_zip(base, dir_ / name, extra={member: b"owned"})
    base.unlink()
    return out


def png_with_header(width: int, height: int) -> bytes:
    """A PNG whose header declares width x height but carries almost no pixel data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def build_pdf(objects: list[bytes], *, root: int = 1) -> bytes:
    """A PDF from numbered object bodies (object i+1 = objects[i]) with a correct xref table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(
        f"trailer\n<< /Size {len(objects) + 1} /Root {root} 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out.getvalue()


def _content(text: str) -> bytes:
    stream = f"BT /F1 14 Tf 30 120 Td ({text}) Tj ET".encode()
    return b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"


_PAGE = (
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R "
    b"/Resources << /Font << /F1 5 0 R >> >> >>"
)
_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def pdf_recursive_pages(text: str = "Recursive pages tree") -> bytes:
    """The /Pages node lists itself among its kids."""
    return build_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [2 0 R 3 0 R 2 0 R] /Count 3 >>",
            _PAGE,
            _content(text),
            _FONT,
        ]
    )


def pdf_outline_cycle(text: str = "Outline cycle document") -> bytes:
    """Outline items pointing at each other (and at themselves) as /Next and /First."""
    return build_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R /Outlines 6 0 R /PageMode /UseOutlines >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            _PAGE,
            _content(text),
            _FONT,
            b"<< /Type /Outlines /First 7 0 R /Last 8 0 R /Count 2 >>",
            b"<< /Title (A) /Parent 6 0 R /Next 8 0 R /First 7 0 R /Last 8 0 R /Count 2 "
            b"/Dest [3 0 R /Fit] >>",
            b"<< /Title (B) /Parent 7 0 R /Prev 7 0 R /Next 7 0 R /First 6 0 R /Dest [3 0 R /Fit] >>",
        ]
    )


def pdf_huge_count(count: int = 2_000_000_000) -> bytes:
    """One real page, a /Pages node declaring `count` pages."""
    return build_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            f"<< /Type /Pages /Kids [3 0 R] /Count {count} >>".encode(),
            _PAGE,
            _content("Huge page count"),
            _FONT,
        ]
    )


def pdf_many_kids(kids: int) -> bytes:
    """`kids` real (tiny) pages that all share one content stream."""
    page_objs = [
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 30 30] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>"
    ] * kids
    refs = " ".join(f"{6 + i} 0 R" for i in range(kids))
    return build_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            f"<< /Type /Pages /Kids [{refs}] /Count {kids} >>".encode(),
            b"<< >>",
            _content("many"),
            _FONT,
            *page_objs,
        ]
    )


def pdf_path_storm(paths: int = 300_000) -> bytes:
    """One page whose (compressed) content stream draws `paths` line segments: slow to walk and render."""
    ops = b"".join(
        b"%d %d m %d %d l S\n" % (i % 300, i % 200, (i * 7) % 300, (i * 3) % 200) for i in range(paths)
    )
    packed = zlib.compress(ops, 9)
    stream = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream"
    return build_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            _PAGE,
            stream,
            _FONT,
        ]
    )


def small_video(path: Path, *, seconds: float = 2.0, fps: int = 4) -> Path:
    from vlsearch.demo.media import write_video

    frames = [np.full((64, 96, 3), (i * 53) % 256, dtype=np.uint8) for i in range(int(seconds * fps))]
    return write_video(path, lambda i: frames[i], frames=len(frames), fps=Fraction(fps))


def _patch_boxes(data: bytearray, fields: tuple[tuple[bytes, int], ...], value: int) -> None:
    for box, offset in fields:
        at = data.find(box)
        if at < 0:
            raise AssertionError(f"no {box!r} box in the generated mp4")
        if box in (b"mvhd", b"tkhd", b"mdhd") and data[at + 4] != 0:
            raise AssertionError(f"{box!r} is not a version-0 box")
        struct.pack_into(">I", data, at + 4 + offset, value)


def mp4_absurd_duration(source: Path, dest: Path) -> Path:
    """Same frames, but headers and the time-to-sample table claim each frame lasts for days."""
    data = bytearray(source.read_bytes())
    _patch_boxes(data, ((b"mvhd", 16), (b"tkhd", 20), (b"mdhd", 16)), 0xFFFFFFF0)
    # FFmpeg trusts the sample table over the headers: stts entry 1 = (count, delta); make delta huge
    _patch_boxes(data, ((b"stts", 12),), 0x7FFFFFFF)
    dest.write_bytes(bytes(data))
    return dest


def mp4_absurd_frame_count(source: Path, dest: Path) -> Path:
    """Same frames, but the sample-size box claims ~4 billion samples (FFmpeg's frame count)."""
    data = bytearray(source.read_bytes())
    _patch_boxes(data, ((b"stsz", 12),), 0xFFFFFFF0)
    dest.write_bytes(bytes(data))
    return dest
