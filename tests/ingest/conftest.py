"""Real sample files for the ingest tests, written once per session with vlsearch.demo.writers."""

from __future__ import annotations

from pathlib import Path

import pytest

from vlsearch.demo.writers import (
    Doc,
    Figure,
    Heading,
    PageBreak,
    Para,
    ScannedPage,
    Sheet,
    Slide,
    Table,
    diagram_png,
    panel_png,
    text_png,
    write_docx,
    write_html,
    write_pdf,
    write_pptx,
    write_text,
    write_xlsx,
)
from vlsearch.ingest.limits import Limits

PANEL = panel_png("NODE-07", (("PWR", "#2ecc40"), ("FAULT", "#e0201b")))
FLOW = diagram_png(["Unbox", "Rails", "Rack"])


def sample_doc() -> Doc:
    """Three PDF pages: text + figure, an image-only (scanned) page, text again."""
    return Doc(
        title="Sample Diagnostic Guide",
        blocks=(
            Heading("Status lights"),
            Para("The FAULT light turns red when the node has a critical hardware fault."),
            Para("Unbox the server.", "number"),
            Para("Install the rails.", "number"),
            Table(("Code", "Meaning"), (("E-17", "Uncorrectable memory error"), ("E-08", "Fan 4 failure"))),
            Figure(PANEL, "Figure 1: front panel lights"),
            ScannedPage(text_png(["SERVICE LABEL", "Serial HX22-0007"])),
            Heading("Cooling"),
            Para("Keep the cold aisle between 18 and 27 C. Fans are hot-swappable."),
        ),
    )


@pytest.fixture(scope="session")
def limits() -> Limits:
    return Limits()


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("ingest-samples")
    doc = sample_doc()
    zh = Doc(
        title="电源模块更换步骤",
        blocks=(
            Heading("更换步骤"),
            Para("断开故障电源模块的电源线。", "number"),
            Para("按住释放卡扣，拔出模块。", "number"),
            Figure(FLOW, "图1：更换流程"),
        ),
    )
    rows = tuple((f"R-{100 + i}", f"Message {i}", "Warning" if i % 2 else "Info") for i in range(45))
    md = root / "faq.md"
    md.write_text(
        "# FAQ\n\nIntro text.\n\n## Passwords\n\nReset it in the portal.\n\n"
        "```\n# not a heading\n```\n\n### Locked account\n\nWait 30 minutes.\n\n"
        "## VPN\n\nUse GlobalConnect.\n",
        encoding="utf-8",
    )
    return {
        "pdf": write_pdf(root / "guide.pdf", doc),
        "docx": write_docx(root / "guide.docx", doc),
        "docx_zh": write_docx(root / "psu_zh.docx", zh),
        "html": write_html(root / "guide.html", doc),
        "md": md,
        "txt": write_text(root / "notes.txt", "First paragraph line one.\nline two.\n\nSecond paragraph.\n"),
        "pptx": write_pptx(
            root / "deck.pptx",
            "Training",
            [
                Slide("Welcome", ("Safety first", "Badge in"), notes="Hand out checklists."),
                Slide("Escalation", ("Who to call",), table=Table(("Severity", "Time"), (("P1", "15 min"),))),
                Slide("Panel", picture=Figure(PANEL, "Front panel with a red light")),
            ],
        ),
        "xlsx": write_xlsx(
            root / "raid.xlsx",
            [
                Sheet("RAID Errors", ("Code", "Message", "Severity"), rows),
                Sheet("Parts", ("Part number", "Qty", "Price"), (("BBU-9460", 2, 129.5),)),
            ],
            title="RAID codes",
        ),
    }


@pytest.fixture(scope="session")
def multipage_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    blocks: list = []
    for n in range(1, 4):
        blocks += [Heading(f"Chapter {n}"), Para(f"Text of chapter {n}."), PageBreak()]
    return write_pdf(
        tmp_path_factory.mktemp("multipage") / "three.pdf", Doc("Three pages", tuple(blocks[:-1]))
    )
