from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from vlsearch.errors import ExtractionError, UnsupportedTypeError
from vlsearch.ingest.sniff import sniff


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("pdf", "pdf"),
        ("docx", "docx"),
        ("pptx", "pptx"),
        ("xlsx", "xlsx"),
        ("html", "html"),
        ("md", "markdown"),
        ("txt", "text"),
    ],
)
def test_generated_formats_sniff_by_content(
    samples: dict[str, Path], tmp_path: Path, key: str, expected: str
) -> None:
    assert sniff(samples[key]) == expected
    # the name must not matter: same bytes under a misleading extension
    renamed = tmp_path / "upload.bin"
    renamed.write_bytes(samples[key].read_bytes())
    assert sniff(renamed) == expected


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF"])
def test_images(tmp_path: Path, fmt: str) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (40, 40), "blue").save(buf, format=fmt)
    path = tmp_path / "x.dat"
    path.write_bytes(buf.getvalue())
    assert sniff(path) == "image"


@pytest.mark.parametrize(
    "head",
    [
        b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2",  # MP4
        b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ",  # MOV
        b"RIFF\x10\x00\x00\x00AVI LIST",  # AVI
        b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01webm",  # Matroska / WebM
    ],
)
def test_videos(tmp_path: Path, head: bytes) -> None:
    path = tmp_path / "clip"
    path.write_bytes(head + b"\x00" * 64)
    assert sniff(path) == "video"


def test_png_that_is_really_html(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    path.write_text("<!DOCTYPE html><html><body><h1>Gotcha</h1></body></html>", encoding="utf-8")
    assert sniff(path) == "html"


def test_markdown_by_content_and_by_extension(tmp_path: Path) -> None:
    by_content = tmp_path / "readme.txt"
    by_content.write_text("# Title\n\nSome text.\n", encoding="utf-8")
    assert sniff(by_content) == "markdown"
    by_ext = tmp_path / "plain.md"
    by_ext.write_text("just a sentence\n", encoding="utf-8")
    assert sniff(by_ext) == "markdown"
    plain = tmp_path / "plain.txt"
    plain.write_text("just a sentence\nand another\n", encoding="utf-8")
    assert sniff(plain) == "text"


def test_text_encodings_and_bm_prefix(tmp_path: Path) -> None:
    utf16 = tmp_path / "u16.txt"
    utf16.write_bytes("机房温湿度标准 UTF-16".encode("utf-16"))
    assert sniff(utf16) == "text"
    gb = tmp_path / "gb.txt"
    gb.write_bytes("电源模块更换步骤：断开电源线。".encode("gb18030"))
    assert sniff(gb) == "text"
    bmw = tmp_path / "bmw.txt"  # starts with "BM" like a bitmap, but is text
    bmw.write_text("BMW fleet maintenance schedule\n", encoding="utf-8")
    assert sniff(bmw) == "text"


def test_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    with pytest.raises(ExtractionError, match="empty file"):
        sniff(path)


def test_random_bytes_are_rejected_with_signature(tmp_path: Path) -> None:
    path = tmp_path / "junk.docx"
    path.write_bytes(b"\x8e\x01\x02\x03" + os.urandom(4096))
    with pytest.raises(UnsupportedTypeError, match=r"binary content.*8e 01 02 03"):
        sniff(path)


def test_known_binary_signatures_are_named(tmp_path: Path) -> None:
    ole = tmp_path / "old.doc"
    ole.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    with pytest.raises(UnsupportedTypeError, match="OLE2"):
        sniff(ole)
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.txt", "hello")
    with pytest.raises(UnsupportedTypeError, match="zip archive"):
        sniff(archive)


def test_truncated_office_file(samples: dict[str, Path], tmp_path: Path) -> None:
    path = tmp_path / "cut.docx"
    path.write_bytes(samples["docx"].read_bytes()[:2000])
    with pytest.raises(ExtractionError, match="corrupt or truncated"):
        sniff(path)


def test_pdf_header_only_counts_at_the_start(tmp_path: Path) -> None:
    mention = tmp_path / "notes.txt"
    mention.write_text("About files: a PDF starts with %PDF-1.7 and ends with %%EOF.\n", encoding="utf-8")
    assert sniff(mention) == "text"
    junk_prefix = tmp_path / "mail-attachment.pdf"
    junk_prefix.write_bytes(b"\x00\x01\x02\xff\xfe" + b"%PDF-1.4\n%rest")
    assert sniff(junk_prefix) == "pdf"
