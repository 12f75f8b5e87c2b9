from __future__ import annotations

import io
import os
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter

from vlsearch.config import get_settings
from vlsearch.demo.writers import Doc, Figure, Para, write_docx, write_pdf
from vlsearch.errors import ExtractionError, TooLargeError, UnsupportedTypeError
from vlsearch.ingest.extractors import extract
from vlsearch.ingest.limits import Limits
from vlsearch.ingest.sniff import sniff


def test_corrupt_pdf(tmp_path: Path, limits: Limits) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.7\n" + os.urandom(3000))
    assert sniff(path) == "pdf"
    with pytest.raises(ExtractionError, match="corrupt or unreadable PDF"):
        extract(path, "pdf", limits=limits)


def test_encrypted_pdf(samples: dict[str, Path], tmp_path: Path, limits: Limits) -> None:
    writer = PdfWriter(clone_from=PdfReader(samples["pdf"]))
    # RC4 needs no cryptography package
    writer.encrypt(user_password="s3cret", owner_password="owner", algorithm="RC4-128")
    path = tmp_path / "locked.pdf"
    with path.open("wb") as fh:
        writer.write(fh)
    with pytest.raises(ExtractionError, match=r"encrypted with a password.*remove the protection"):
        extract(path, "pdf", limits=limits)


def test_zero_page_pdf(tmp_path: Path, limits: Limits) -> None:
    path = tmp_path / "empty.pdf"
    with path.open("wb") as fh:
        PdfWriter().write(fh)
    with pytest.raises(ExtractionError, match="no pages"):
        extract(path, "pdf", limits=limits)


def test_too_many_pages(multipage_pdf: Path, limits: Limits) -> None:
    with pytest.raises(TooLargeError, match="3 pages, over the limit of 2"):
        extract(multipage_pdf, "pdf", limits=replace(limits, max_pages=2))


def test_zero_byte_file_in_extract(tmp_path: Path, limits: Limits) -> None:
    path = tmp_path / "nothing.txt"
    path.write_bytes(b"")
    with pytest.raises(ExtractionError, match="empty file"):
        extract(path, "text", limits=limits)


def test_oversize_file(samples: dict[str, Path], limits: Limits) -> None:
    with pytest.raises(TooLargeError, match=r"over the 0 MiB limit.*VLSEARCH_MAX_FILE_MB"):
        extract(samples["pdf"], "pdf", limits=replace(limits, max_file_bytes=1000))


def test_random_bytes_as_docx(tmp_path: Path, limits: Limits) -> None:
    path = tmp_path / "junk.docx"
    path.write_bytes(os.urandom(5000))
    with pytest.raises(ExtractionError, match="not a readable DOCX"):
        extract(path, "docx", limits=limits)


def test_unknown_doc_type(samples: dict[str, Path], limits: Limits) -> None:
    with pytest.raises(UnsupportedTypeError, match="no document extractor for type 'odt'"):
        extract(samples["txt"], "odt", limits=limits)


def _with_extra_entry(source: Path, dest: Path, name: str, payload: bytes) -> Path:
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            out.writestr(info, src.read(info.filename))
        out.writestr(name, payload)
    return dest


def test_docx_zip_bomb_ratio(samples: dict[str, Path], tmp_path: Path, limits: Limits) -> None:
    bomb = _with_extra_entry(
        samples["docx"], tmp_path / "bomb.docx", "word/media/padding.bin", bytes(64 * 2**20)
    )
    assert bomb.stat().st_size < 1 * 2**20  # 64 MiB of zeros squeeze into well under 1 MiB
    assert sniff(bomb) == "docx"
    with pytest.raises(TooLargeError, match=r"word/media/padding.bin.*expands \d+x.*zip bomb"):
        extract(bomb, "docx", limits=limits)


def test_docx_declared_size_over_limit(samples: dict[str, Path], tmp_path: Path, limits: Limits) -> None:
    # incompressible data: the ratio is harmless, the total uncompressed size is what trips
    big = _with_extra_entry(
        samples["docx"], tmp_path / "big.docx", "word/media/noise.bin", os.urandom(3 * 2**20)
    )
    with pytest.raises(TooLargeError, match=r"would expand to \d+ MiB, over the 2 MiB limit"):
        extract(big, "docx", limits=replace(limits, max_uncompressed_bytes=2 * 2**20))
    assert extract(big, "docx", limits=limits).blocks  # fine under the default limit


def test_png_that_is_html_extracts_as_html(tmp_path: Path, limits: Limits) -> None:
    path = tmp_path / "chart.png"
    path.write_text("<html><head><title>Not an image</title></head><body><p>Hello</p></body></html>")
    doc_type = sniff(path)
    assert doc_type == "html"
    assert extract(path, doc_type, limits=limits).title == "Not an image"


def test_fake_image_fails_cleanly(tmp_path: Path, limits: Limits) -> None:
    path = tmp_path / "cut.png"
    buf = io.BytesIO()
    Image.new("RGB", (400, 400), "red").save(buf, format="PNG")
    path.write_bytes(buf.getvalue()[:120])
    with pytest.raises(ExtractionError):
        extract(path, "image", limits=limits)


def test_figure_cap_and_pixel_limit_become_warnings(tmp_path: Path, limits: Limits) -> None:
    small = io.BytesIO()
    Image.new("RGB", (200, 100), "red").save(small, format="PNG")
    huge = io.BytesIO()
    Image.new("L", (3000, 3000), 0).save(huge, format="PNG")
    doc = Doc(
        "Figures",
        (
            Para("one"),
            Figure(small.getvalue(), "A"),
            Figure(small.getvalue(), "B"),
            Figure(huge.getvalue(), "C"),
        ),
    )
    path = write_docx(tmp_path / "figs.docx", doc)

    capped = extract(path, "docx", limits=replace(limits, max_figures_per_doc=1))
    assert [im.context for im in capped.images] == ["A"]
    assert any("over the limit of 1 figures" in w for w in capped.warnings)

    pixel_limited = extract(path, "docx", limits=replace(limits, max_image_pixels=1_000_000))
    assert [im.context for im in pixel_limited.images] == ["A", "B"]
    assert any("3000x3000" in w and "pixel limit" in w for w in pixel_limited.warnings)


def test_cjk_text_is_refused_by_the_pdf_writer(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Latin-1"):
        write_pdf(tmp_path / "zh.pdf", Doc("机房", (Para("温湿度"),)))


def test_limits_from_settings() -> None:
    limits = Limits.from_settings(get_settings(max_file_mb=5, max_image_pixels=1234, max_keyframes=7))
    assert limits.max_file_bytes == 5 * 2**20
    assert limits.max_image_pixels == 1234
    assert limits.max_keyframes == 7
    assert limits.max_uncompressed_bytes == Limits().max_uncompressed_bytes
