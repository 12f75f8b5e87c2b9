from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from vlsearch.ingest.extractors import extract
from vlsearch.ingest.extractors.pdf import RENDER_LONG_SIDE_PX
from vlsearch.ingest.limits import Limits
from vlsearch.types import Extraction


def _size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as img:
        assert img.format in ("PNG", "JPEG")
        return img.size


def _text(ex: Extraction) -> str:
    return "\n".join(b.text for b in ex.blocks)


def test_pdf_pages_figures_and_scanned_page(samples: dict[str, Path], limits: Limits) -> None:
    ex = extract(samples["pdf"], "pdf", limits=limits)
    assert ex.doc_type == "pdf"
    assert ex.title == "Sample Diagnostic Guide"
    assert ex.meta["pages"] == 3
    assert ex.meta["scanned_pages"] == [2]
    page1 = "\n".join(b.text for b in ex.blocks if b.locator.page == 1)
    page3 = "\n".join(b.text for b in ex.blocks if b.locator.page == 3)
    assert "critical hardware fault" in page1
    assert "E-17 Uncorrectable memory error" in page1
    assert "1. Unbox the server." in page1
    assert "cold aisle" in page3 and "cold aisle" not in page1
    assert not [b for b in ex.blocks if b.locator.page == 2]  # no text layer on the scanned page

    pages = [im for im in ex.images if im.kind == "page"]
    assert [im.locator.page for im in pages] == [2]
    width, height = _size(pages[0].data)
    assert max(width, height) == RENDER_LONG_SIDE_PX

    figures = [im for im in ex.images if im.kind == "figure"]
    assert len(figures) == 1  # the scanned page's image is carried by the page render, not twice
    assert figures[0].locator.page == 1 and figures[0].locator.index == 1
    assert figures[0].context == "Figure 1: front panel lights"
    assert _size(figures[0].data) == (900, 360)


def test_pdf_page_locators_follow_pages(multipage_pdf: Path, limits: Limits) -> None:
    ex = extract(multipage_pdf, "pdf", limits=limits)
    for n in (1, 2, 3):
        assert f"Text of chapter {n}." in [b.text for b in ex.blocks if b.locator.page == n]


def test_docx_heading_paths_tables_and_figures(samples: dict[str, Path], limits: Limits) -> None:
    ex = extract(samples["docx"], "docx", limits=limits)
    assert ex.title == "Sample Diagnostic Guide"
    by_text = {b.text: b for b in ex.blocks}
    assert by_text["Status lights"].is_heading
    assert by_text["Status lights"].locator.heading == ("Sample Diagnostic Guide", "Status lights")
    assert by_text["1. Unbox the server."].locator.heading == ("Sample Diagnostic Guide", "Status lights")
    assert "2. Install the rails." in by_text
    table = next(b for b in ex.blocks if "E-17" in b.text)
    assert table.text.splitlines() == [
        "Code: E-17 | Meaning: Uncorrectable memory error",
        "Code: E-08 | Meaning: Fan 4 failure",
    ]
    assert (
        by_text["Keep the cold aisle between 18 and 27 C. Fans are hot-swappable."].locator.heading[-1]
        == "Cooling"
    )

    panel, scan = ex.images
    assert panel.kind == "figure" and panel.locator.index == 1
    assert panel.locator.heading[-1] == "Status lights"
    assert panel.context == "Figure 1: front panel lights"
    assert scan.locator.index == 2 and scan.context  # nearest paragraph used as context


def test_docx_chinese(samples: dict[str, Path], limits: Limits) -> None:
    ex = extract(samples["docx_zh"], "docx", limits=limits)
    assert ex.title == "电源模块更换步骤"
    assert "1. 断开故障电源模块的电源线。" in [b.text for b in ex.blocks]
    assert ex.images[0].context == "图1：更换流程"


def test_pptx_slides_notes_tables_pictures(samples: dict[str, Path], limits: Limits) -> None:
    ex = extract(samples["pptx"], "pptx", limits=limits)
    assert ex.title == "Training"
    assert ex.meta["slides"] == 3
    slide1 = [b for b in ex.blocks if b.locator.slide == 1]
    assert slide1[0].text == "Welcome" and slide1[0].is_heading
    assert "Safety first\nBadge in" in [b.text for b in slide1]
    assert "Notes: Hand out checklists." in [b.text for b in slide1]
    assert "Severity: P1 | Time: 15 min" in [b.text for b in ex.blocks if b.locator.slide == 2]
    (picture,) = ex.images
    assert picture.locator.slide == 3 and picture.locator.index == 1
    assert "Front panel with a red light" in picture.context and "Panel" in picture.context


def test_xlsx_rows_grouped_with_sheet_and_row_range(samples: dict[str, Path], limits: Limits) -> None:
    ex = extract(samples["xlsx"], "xlsx", limits=limits)
    assert ex.title == "RAID codes"
    raid = [b for b in ex.blocks if b.locator.sheet == "RAID Errors" and not b.is_heading]
    assert [(b.locator.row_start, b.locator.row_end) for b in raid] == [(2, 21), (22, 41), (42, 46)]
    assert "Code: R-100; Message: Message 0; Severity: Info" in raid[0].text.splitlines()
    assert len(raid[0].text.splitlines()) == 20
    headings = [b for b in ex.blocks if b.is_heading]
    assert [b.text for b in headings] == ["Sheet RAID Errors"] * 3 + ["Sheet Parts"]
    assert [b.locator for b in headings[:3]] == [b.locator for b in raid]
    (parts,) = [b for b in ex.blocks if b.locator.sheet == "Parts" and not b.is_heading]
    assert "Part number: BBU-9460; Qty: 2; Price: 129.5" in parts.text


def test_html_drops_scripts_and_keeps_structure(samples: dict[str, Path], limits: Limits) -> None:
    ex = extract(samples["html"], "html", limits=limits)
    text = _text(ex)
    assert ex.title == "Sample Diagnostic Guide"
    assert "analytics" not in text and "font-family" not in text
    steps = next(b for b in ex.blocks if b.text.startswith("1. Unbox"))
    assert steps.locator.heading == ("Sample Diagnostic Guide", "Status lights")
    assert "2. Install the rails." in text
    assert "Code: E-17 | Meaning: Uncorrectable memory error" in text
    cooling = next(b for b in ex.blocks if "cold aisle" in b.text)
    assert cooling.locator.heading[-1] == "Cooling"


def test_markdown_heading_paths(samples: dict[str, Path], limits: Limits) -> None:
    ex = extract(samples["md"], "markdown", limits=limits)
    assert ex.title == "FAQ"
    headings = [b.locator.heading for b in ex.blocks if b.is_heading]
    assert headings == [
        ("FAQ",),
        ("FAQ", "Passwords"),
        ("FAQ", "Passwords", "Locked account"),
        ("FAQ", "VPN"),
    ]
    wait = next(b for b in ex.blocks if b.text == "Wait 30 minutes.")
    assert wait.locator.heading == ("FAQ", "Passwords", "Locked account")
    fence = next(b for b in ex.blocks if "not a heading" in b.text)
    assert not fence.is_heading and fence.locator.heading == ("FAQ", "Passwords")


def test_text_paragraphs(samples: dict[str, Path], limits: Limits) -> None:
    ex = extract(samples["txt"], "text", limits=limits)
    assert [b.text for b in ex.blocks] == ["First paragraph line one.\nline two.", "Second paragraph."]


def test_standalone_image_is_a_photo(tmp_path: Path, limits: Limits) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (320, 200), "green").save(buf, format="JPEG")
    path = tmp_path / "rack_b3_photo.jpg"
    path.write_bytes(buf.getvalue())
    ex = extract(path, "image", limits=limits)
    (photo,) = ex.images
    assert photo.kind == "photo" and _size(photo.data) == (320, 200)
    assert ex.title == "rack b3 photo"


def test_scanned_page_with_a_stamp_is_rendered_and_blank_page_is_not(tmp_path: Path, limits: Limits) -> None:
    from fpdf import FPDF

    from vlsearch.demo.writers import text_png

    pdf = FPDF(format="A4")
    pdf.add_page()  # page 1: a scan plus a scanner's page stamp (too little text to be a text layer)
    pdf.image(io.BytesIO(text_png(["Scanned invoice", "Total 1,200 EUR"])), x=0, y=0, w=pdf.w, h=pdf.h)
    pdf.set_font("Helvetica", "", 8)
    pdf.text(10, 290, "Page 1")
    pdf.add_page()  # page 2: blank
    path = tmp_path / "scan.pdf"
    path.write_bytes(bytes(pdf.output()))

    ex = extract(path, "pdf", limits=limits)
    assert [(im.kind, im.locator.page) for im in ex.images] == [("page", 1)]
    assert [(b.text, b.locator.page) for b in ex.blocks] == [("Page 1", 1)]
    assert ex.meta["scanned_pages"] == [1]


def test_pdf_figure_over_pixel_limit_is_skipped_before_decoding(
    samples: dict[str, Path], limits: Limits
) -> None:
    from dataclasses import replace

    ex = extract(samples["pdf"], "pdf", limits=replace(limits, max_image_pixels=100_000))
    assert not [im for im in ex.images if im.kind == "figure"]  # the 900x360 panel is 324,000 px
    assert any("page 1: figures skipped, a 900x360 image" in w for w in ex.warnings)
    assert [im.kind for im in ex.images] == ["page"]  # the scanned page is still rendered


def test_html_deep_nesting_and_pre(tmp_path: Path, limits: Limits) -> None:
    path = tmp_path / "deep.html"
    nested = "<div><span>" * 3000 + "deep text" + "</span></div>" * 3000
    path.write_text(f"<html><body><h2>Logs</h2>{nested}<pre>line 1\n  line 2</pre></body></html>")
    ex = extract(path, "html", limits=limits)
    assert [b.text for b in ex.blocks] == ["Logs", "deep text", "line 1\n  line 2"]
    assert all(b.locator.heading == ("Logs",) for b in ex.blocks)


def test_pptx_picture_in_a_placeholder(tmp_path: Path, limits: Limits) -> None:
    from pptx import Presentation

    from vlsearch.demo.writers import panel_png

    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[8])  # "Picture with Caption"
    slide.shapes.title.text = "Rack B3"
    picture_holder = next(p for p in slide.placeholders if p.placeholder_format.type == 18)  # PICTURE
    picture_holder.insert_picture(io.BytesIO(panel_png("B3", (("PWR", "green"),))))
    path = tmp_path / "placeholder.pptx"
    prs.save(str(path))
    ex = extract(path, "pptx", limits=limits)
    (figure,) = ex.images
    assert figure.locator.slide == 1 and figure.context.startswith("Rack B3")


def test_legacy_text_encodings(tmp_path: Path, limits: Limits) -> None:
    from vlsearch.ingest.sniff import sniff

    cases = {
        "gb.txt": ("机房温湿度标准：冷通道18–27 °C。".encode("gb18030"), "机房温湿度标准：冷通道18–27 °C。"),
        "latin.txt": (
            "Café résumé for the Zürich site.".encode("cp1252"),
            "Café résumé for the Zürich site.",
        ),
        "u16.txt": ("UTF-16 电源模块".encode("utf-16"), "UTF-16 电源模块"),
    }
    for name, (data, expected) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        assert sniff(path) == "text", name
        assert [b.text for b in extract(path, "text", limits=limits).blocks] == [expected], name
