"""Small real documents for the API and browser tests, written once per session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Corpus:
    alpha_pdf: Path  # group alpha: 2-page PDF, the answer to "replace the power supply" is on page 2
    alpha_photo: Path  # group alpha: the Node-07 rack photo (image document)
    beta_md: Path  # group beta: Chinese + English markdown about the same topic
    query_photo: Path  # a query image (not ingested)
    long_video: Path  # 10 s video, for the query-duration limit
    corrupt_pdf: Path  # fails extraction with a reason


def write_corpus(folder: Path) -> Corpus:
    from vlsearch.demo.media import rack_photo, racking_video
    from vlsearch.demo.writers import Doc, Heading, PageBreak, Para, write_pdf

    folder.mkdir(parents=True, exist_ok=True)
    pdf = write_pdf(
        folder / "psu_manual.pdf",
        Doc(
            title="Server maintenance manual",
            blocks=(
                Heading("Rack layout"),
                Para("Servers are mounted in 42U racks. Each rack has two PDUs and a top-of-rack switch."),
                PageBreak(),
                Heading("Replacing the power supply module"),
                Para(
                    "To replace the power supply module (PSU), first check the amber fault LED, then "
                    "pull the release latch, slide the PSU out and insert the new module until it clicks. "
                    "Error code E-17 means the power supply lost input voltage."
                ),
            ),
        ),
    )
    photo = folder / "node07_rack_warning.jpg"
    rack_photo(size=(640, 480)).save(photo, format="JPEG", quality=85)
    query_photo = folder / "query_rack.jpg"
    rack_photo(size=(480, 360), seed=11).save(query_photo, format="JPEG", quality=85)
    md = folder / "电源模块更换指南.md"
    md.write_text(
        "# 电源模块更换指南\n\n更换服务器电源模块(power supply)时,先确认故障指示灯为琥珀色,"
        "然后拉开释放卡扣,取出旧模块并插入新模块。\n\n"
        "## 温湿度\n\n机房温湿度应保持在 18–27 °C 与 40–60 % 之间。\n",
        encoding="utf-8",
    )
    video = racking_video(folder / "racking.mp4", seconds_per_step=2.5, fps=2, size=(320, 180))
    corrupt = folder / "broken.pdf"
    corrupt.write_bytes(b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF-truncated")
    return Corpus(
        alpha_pdf=pdf,
        alpha_photo=photo,
        beta_md=md,
        query_photo=query_photo,
        long_video=video,
        corrupt_pdf=corrupt,
    )
