"""The generated demo corpus: enterprise IT material in English and Chinese, every format.

Chinese documents are DOCX / Markdown / HTML and the PDFs are English, because fpdf2 needs a
CJK TrueType font for Chinese and none is installed on these machines or shipped inside an
installed package. Output is deterministic, so rebuilding the corpus yields identical files
and re-ingesting it is a no-op.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from vlsearch.demo import docs_en, docs_zh
from vlsearch.demo.writers import (
    write_docx,
    write_html,
    write_markdown,
    write_pdf,
    write_pptx,
    write_text,
    write_xlsx,
)


def _builders() -> dict[str, Callable[[Path], Path]]:
    title, slides = docs_en.training_slides()
    return {
        "node07_hardware_diagnostic_manual.pdf": lambda p: write_pdf(p, docs_en.node07_manual()),
        "weekly_ops_report_2026_w46.docx": lambda p: write_docx(p, docs_en.weekly_ops_report()),
        "server_racking_sop.docx": lambda p: write_docx(p, docs_en.racking_sop()),
        "server_racking_sop.pdf": lambda p: write_pdf(p, docs_en.racking_sop()),
        "datacenter_onboarding_training.pptx": lambda p: write_pptx(p, title, slides),
        "raid_controller_error_codes.xlsx": lambda p: write_xlsx(
            p, docs_en.raid_error_sheets(), title="RAID controller error codes"
        ),
        "spare_parts_inventory.xlsx": lambda p: write_xlsx(
            p, docs_en.spare_parts_sheets(), title="Spare parts"
        ),
        "it_helpdesk_faq.md": lambda p: write_markdown(p, docs_en.faq()),
        "vpn_remote_access_guide.html": lambda p: write_html(p, docs_en.vpn_guide()),
        "oncall_handbook.txt": lambda p: write_text(p, docs_en.ONCALL_NOTES),
        "psu_replacement_procedure_zh.docx": lambda p: write_docx(p, docs_zh.psu_replacement()),
        "datacenter_climate_standard_zh.md": lambda p: write_markdown(p, docs_zh.climate_standard()),
        "datacenter_inspection_guide_zh.html": lambda p: write_html(
            p, docs_zh.inspection_guide(), lang="zh-CN"
        ),
    }


DEMO_FILES: tuple[str, ...] = tuple(sorted(_builders()))


def build_demo_files(dest: Path) -> list[Path]:
    """What `vlsearch demo` indexes: the documents, plus a racking video and an LED figure in
    `dest`/media. Sorted; the article's scenarios are measured on exactly this set."""
    from vlsearch.demo.media import write_demo_media

    files = build_demo_corpus(dest)
    media = write_demo_media(dest / "media", names=("video", "figure"))
    return files + sorted(media.values())


def build_demo_corpus(dest: Path) -> list[Path]:
    """Write every demo document into `dest` (created if needed); return their paths, sorted."""
    dest.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, build in sorted(_builders().items()):
        target = dest / name
        tmp = dest / f".{name}.tmp"
        build(tmp)
        tmp.replace(target)  # a half-written file never sits under the real name
        paths.append(target)
    return paths
