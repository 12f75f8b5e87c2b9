"""Write real PDF/DOCX/PPTX/XLSX/HTML/Markdown files from a small in-memory document model.

Used by the demo corpus and by tests. Output is byte-for-byte deterministic: fixed document
dates, fixed zip entry timestamps, and images drawn with Pillow's bundled font.

PDFs use fpdf2's core Helvetica font, which covers Latin-1 only; write_pdf refuses CJK text
(no CJK font ships on these machines or inside an installed package), so Chinese documents
are written as DOCX/Markdown/HTML.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FIXED_TIME = dt.datetime(2026, 3, 2, 9, 0, 0, tzinfo=dt.UTC)
_ZIP_TIME = (2026, 3, 2, 9, 0, 0)


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1  # 1..3


@dataclass(frozen=True)
class Para:
    text: str
    style: str = ""  # "" | "number" (numbered step) | "bullet"


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Figure:
    png: bytes
    caption: str = ""


@dataclass(frozen=True)
class PageBreak:
    pass


@dataclass(frozen=True)
class ScannedPage:
    """A PDF page that is only an image (no text layer), like a scanned sheet."""

    png: bytes


Block = Heading | Para | Table | Figure | PageBreak | ScannedPage


@dataclass(frozen=True)
class Doc:
    title: str
    blocks: tuple[Block, ...]
    author: str = "IT Operations"


@dataclass(frozen=True)
class Slide:
    title: str
    bullets: tuple[str, ...] = ()
    notes: str = ""
    table: Table | None = None
    picture: Figure | None = None


@dataclass(frozen=True)
class Sheet:
    name: str
    header: tuple[str, ...]
    rows: tuple[tuple[str | int | float, ...], ...]


# ---------------------------------------------------------------------------- images


def text_png(
    lines: Sequence[str],
    *,
    size: tuple[int, int] = (1000, 1300),
    font_size: int = 30,
    background: str = "white",
) -> bytes:
    """An image of dark text lines, e.g. a scanned page or a label."""
    img = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=font_size)
    y = font_size * 2
    for line in lines:
        draw.text((font_size * 2, y), line, fill=(20, 20, 20), font=font)
        y += int(font_size * 1.6)
    return _png(img)


def panel_png(title: str, leds: Sequence[tuple[str, str]], *, size: tuple[int, int] = (900, 360)) -> bytes:
    """A server front panel drawing: a bezel with labelled status LEDs (label, colour)."""
    img = Image.new("RGB", size, (235, 235, 235))
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=26)
    small = ImageFont.load_default(size=20)
    draw.rectangle((20, 20, size[0] - 20, size[1] - 20), fill=(60, 64, 72), outline=(20, 20, 20), width=4)
    draw.text((50, 40), title, fill=(240, 240, 240), font=font)
    step = (size[0] - 100) // max(len(leds), 1)
    for i, (label, colour) in enumerate(leds):
        cx = 50 + step * i + step // 2
        draw.ellipse((cx - 28, 130, cx + 28, 186), fill=colour, outline=(10, 10, 10), width=3)
        draw.text((cx - step // 2 + 10, 210), label, fill=(240, 240, 240), font=small)
    return _png(img)


def diagram_png(
    boxes: Sequence[str], *, size: tuple[int, int] = (900, 420), colour: str = "#2f6db5"
) -> bytes:
    """A left-to-right flow diagram of labelled boxes joined by arrows."""
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=22)
    width = (size[0] - 40) // max(len(boxes), 1)
    top, bottom = size[1] // 2 - 60, size[1] // 2 + 60
    for i, label in enumerate(boxes):
        x0 = 20 + i * width + 10
        x1 = x0 + width - 40
        draw.rounded_rectangle((x0, top, x1, bottom), radius=14, fill=colour, outline=(20, 20, 20), width=2)
        for j, word in enumerate(label.split("\n")):
            draw.text((x0 + 12, top + 20 + j * 28), word, fill="white", font=font)
        if i < len(boxes) - 1:
            draw.line((x1, size[1] // 2, x1 + 30, size[1] // 2), fill=(20, 20, 20), width=4)
            draw.polygon(
                [(x1 + 30, size[1] // 2 - 8), (x1 + 40, size[1] // 2), (x1 + 30, size[1] // 2 + 8)],
                fill=(20, 20, 20),
            )
    return _png(img)


def _png(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


# ---------------------------------------------------------------------------- PDF


def write_pdf(path: Path, doc: Doc) -> Path:
    """A text-layer PDF (fpdf2, Helvetica); ScannedPage blocks become image-only pages."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    for text in _texts(doc):
        if any(ord(ch) > 0xFF for ch in text):
            raise ValueError(f"write_pdf covers Latin-1 text only (no CJK font available): {text[:40]!r}")
    pdf = FPDF(format="A4")
    pdf.set_creation_date(FIXED_TIME)
    pdf.set_producer("vlsearch demo writer")
    pdf.set_title(doc.title)
    pdf.set_author(doc.author)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.multi_cell(0, 9, doc.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    step = 0
    after_scan = False  # the page after a scanned one is opened only if more content follows
    for block in doc.blocks:
        if after_scan and not isinstance(block, ScannedPage | PageBreak):
            pdf.add_page()
        after_scan = False
        if isinstance(block, Heading):
            step = 0
            pdf.set_font("Helvetica", "B", {1: 15, 2: 13}.get(block.level, 12))
            pdf.ln(2)
            pdf.multi_cell(0, 7, block.text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(1)
        elif isinstance(block, Para):
            pdf.set_font("Helvetica", "", 11)
            text = block.text
            if block.style == "number":
                step += 1
                text = f"{step}. {text}"
            elif block.style == "bullet":
                text = f"- {text}"
            pdf.multi_cell(0, 5.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(2.5)
        elif isinstance(block, Table):
            pdf.set_font("Helvetica", "", 9)
            # columns sized by their longest cell, so rows wrap as little as possible
            widths = tuple(
                max(8, *(len(str(row[c])) for row in (block.header, *block.rows))) + 2
                for c in range(len(block.header))
            )
            with pdf.table(line_height=5, col_widths=widths) as table:
                for row in (block.header, *block.rows):
                    cells = table.row()
                    for value in row:
                        cells.cell(value)
            pdf.ln(3)
        elif isinstance(block, Figure):
            pdf.image(io.BytesIO(block.png), w=150)
            if block.caption:
                pdf.set_font("Helvetica", "I", 10)
                pdf.multi_cell(0, 5, block.caption, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(3)
        elif isinstance(block, PageBreak):
            pdf.add_page()
        elif isinstance(block, ScannedPage):
            pdf.add_page()
            pdf.image(io.BytesIO(block.png), x=0, y=0, w=pdf.w, h=pdf.h)
            after_scan = True
    path.write_bytes(bytes(pdf.output()))
    return path


def _texts(doc: Doc) -> list[str]:
    out = [doc.title, doc.author]
    for block in doc.blocks:
        if isinstance(block, Heading | Para):
            out.append(block.text)
        elif isinstance(block, Table):
            out.extend(block.header)
            out.extend(v for row in block.rows for v in row)
        elif isinstance(block, Figure):
            out.append(block.caption)
    return out


# ---------------------------------------------------------------------------- DOCX


def write_docx(path: Path, doc: Doc) -> Path:
    import docx
    from docx.shared import Inches

    document = docx.Document()
    props = document.core_properties
    props.title = doc.title
    props.author = doc.author
    props.last_modified_by = doc.author
    props.created = FIXED_TIME.replace(tzinfo=None)
    props.modified = FIXED_TIME.replace(tzinfo=None)
    props.revision = 1
    document.add_heading(doc.title, level=0)
    for block in doc.blocks:
        if isinstance(block, Heading):
            document.add_heading(block.text, level=block.level)
        elif isinstance(block, Para):
            style = {"number": "List Number", "bullet": "List Bullet"}.get(block.style)
            document.add_paragraph(block.text, style=style)
        elif isinstance(block, Table):
            table = document.add_table(rows=1 + len(block.rows), cols=len(block.header))
            table.style = "Table Grid"
            for r, row in enumerate((block.header, *block.rows)):
                for c, value in enumerate(row):
                    table.cell(r, c).text = str(value)
        elif isinstance(block, Figure):
            document.add_picture(io.BytesIO(block.png), width=Inches(5))
            if block.caption:
                document.add_paragraph(block.caption, style="Caption")
        elif isinstance(block, PageBreak):
            document.add_page_break()
        elif isinstance(block, ScannedPage):
            document.add_picture(io.BytesIO(block.png), width=Inches(6))
    buf = io.BytesIO()
    document.save(buf)
    path.write_bytes(normalise_zip(buf.getvalue()))
    return path


# ---------------------------------------------------------------------------- PPTX


def write_pptx(path: Path, title: str, slides: Sequence[Slide], *, author: str = "IT Operations") -> Path:
    from pptx import Presentation
    from pptx.util import Inches, Pt

    prs = Presentation()
    props = prs.core_properties
    props.title = title
    props.author = author
    props.last_modified_by = author
    props.created = FIXED_TIME.replace(tzinfo=None)
    props.modified = FIXED_TIME.replace(tzinfo=None)
    props.revision = 1
    for spec in slides:
        has_body = bool(spec.bullets) and spec.table is None and spec.picture is None
        slide = prs.slides.add_slide(prs.slide_layouts[1 if has_body else 5])
        slide.shapes.title.text = spec.title
        if has_body:
            frame = slide.placeholders[1].text_frame
            frame.text = spec.bullets[0]
            for bullet in spec.bullets[1:]:
                frame.add_paragraph().text = bullet
        else:
            top = Inches(1.6)
            if spec.bullets:
                box = slide.shapes.add_textbox(Inches(0.6), top, Inches(8.8), Inches(1.2))
                box.text_frame.word_wrap = True
                box.text_frame.text = spec.bullets[0]
                for bullet in spec.bullets[1:]:
                    box.text_frame.add_paragraph().text = bullet
                for para in box.text_frame.paragraphs:
                    for run in para.runs:
                        run.font.size = Pt(14)
                top = Inches(3.0)
            if spec.table is not None:
                rows, cols = 1 + len(spec.table.rows), len(spec.table.header)
                shape = slide.shapes.add_table(rows, cols, Inches(0.6), top, Inches(8.8), Inches(0.4) * rows)
                for r, row in enumerate((spec.table.header, *spec.table.rows)):
                    for c, value in enumerate(row):
                        shape.table.cell(r, c).text = str(value)
            if spec.picture is not None:
                pic = slide.shapes.add_picture(
                    io.BytesIO(spec.picture.png), Inches(1.5), top, width=Inches(7)
                )
                pic._element.nvPicPr.cNvPr.set("descr", spec.picture.caption)
        if spec.notes:
            slide.notes_slide.notes_text_frame.text = spec.notes
    buf = io.BytesIO()
    prs.save(buf)
    path.write_bytes(normalise_zip(buf.getvalue()))
    return path


# ---------------------------------------------------------------------------- XLSX


def write_xlsx(path: Path, sheets: Sequence[Sheet], *, title: str = "") -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.properties.title = title
    wb.properties.creator = "IT Operations"
    wb.properties.created = FIXED_TIME.replace(tzinfo=None)
    wb.properties.modified = FIXED_TIME.replace(tzinfo=None)
    first = True
    for spec in sheets:
        ws = wb.active if first else wb.create_sheet()
        first = False
        assert ws is not None
        ws.title = spec.name
        ws.append(list(spec.header))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in spec.rows:
            ws.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(normalise_zip(_fix_xlsx_modified(buf.getvalue())))
    return path


def _fix_xlsx_modified(data: bytes) -> bytes:
    """openpyxl stamps docProps/core.xml with the save time; pin it for reproducible bytes."""
    import re

    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            blob = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
                blob = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rb"\g<1>" + stamp + rb"\2", blob
                )
            dst.writestr(info, blob)
    return out.getvalue()


def normalise_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed entry timestamps so the same content gives the same bytes."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, src.read(info.filename))
    return out.getvalue()


# ---------------------------------------------------------------------------- HTML / Markdown / text


def write_html(path: Path, doc: Doc, *, lang: str = "en") -> Path:
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{html.escape(lang)}"><head><meta charset="utf-8">',
        f"<title>{html.escape(doc.title)}</title>",
        "<style>body{font-family:sans-serif;max-width:52em;margin:2em auto}</style>",
        "<script>window.analytics = {page: 'kb'};</script>",
        "</head><body>",
        f"<h1>{html.escape(doc.title)}</h1>",
    ]
    open_list = ""
    for block in doc.blocks:
        kind = {"number": "ol", "bullet": "ul"}.get(block.style, "") if isinstance(block, Para) else ""
        if open_list and kind != open_list:
            parts.append(f"</{open_list}>")
            open_list = ""
        if isinstance(block, Heading):
            level = min(block.level + 1, 6)
            parts.append(f"<h{level}>{html.escape(block.text)}</h{level}>")
        elif isinstance(block, Para):
            if kind:
                if not open_list:
                    parts.append(f"<{kind}>")
                    open_list = kind
                parts.append(f"<li>{html.escape(block.text)}</li>")
            else:
                parts.append(f"<p>{html.escape(block.text)}</p>")
        elif isinstance(block, Table):
            head = "".join(f"<th>{html.escape(h)}</th>" for h in block.header)
            body = "".join(
                "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
                for row in block.rows
            )
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif isinstance(block, Figure):
            parts.append(f"<figure><figcaption>{html.escape(block.caption)}</figcaption></figure>")
    if open_list:
        parts.append(f"</{open_list}>")
    parts.append("</body></html>")
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return path


def write_markdown(path: Path, doc: Doc) -> Path:
    lines = [f"# {doc.title}", ""]
    step = 0
    for block in doc.blocks:
        if isinstance(block, Heading):
            step = 0
            lines += ["#" * min(block.level + 1, 6) + " " + block.text, ""]
        elif isinstance(block, Para):
            if block.style == "number":
                step += 1
                lines.append(f"{step}. {block.text}")
            elif block.style == "bullet":
                lines.append(f"- {block.text}")
            else:
                lines += [block.text, ""]
        elif isinstance(block, Table):
            lines += ["", "| " + " | ".join(block.header) + " |", "|" + "---|" * len(block.header)]
            lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in block.rows]
            lines.append("")
        elif isinstance(block, Figure) and block.caption:
            lines += [f"*{block.caption}*", ""]
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    return path


def write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
