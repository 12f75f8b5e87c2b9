"""Small generated documents for the ops tests (real DOCX/Markdown files, one with a figure)."""

from __future__ import annotations

from pathlib import Path

from vlsearch.demo.writers import Doc, Figure, Heading, Para, text_png, write_docx, write_markdown

_TOPICS = (
    ("Backup rotation", "Rotate the nightly backup tapes every Friday and log the label in the register."),
    ("VPN outage", "When the VPN concentrator drops sessions, restart the IKE daemon and check the CRL."),
    ("Printer queue", "Clear a stuck print queue by stopping the spooler and deleting the job files."),
    ("Disk alerts", "A disk alert above ninety percent needs the log archive moved to cold storage."),
    ("Badge access", "New staff badges are activated by facilities after the manager signs the form."),
    ("Patch window", "Servers are patched on the second Tuesday; announce the window two days ahead."),
)


def paragraphs(i: int, n: int = 6) -> tuple[Para, ...]:
    title, text = _TOPICS[i % len(_TOPICS)]
    return tuple(
        Para(f"{title} note {i}.{j}: {text} Reference code OPS-{i:03d}-{j:02d} for the audit trail.")
        for j in range(n)
    )


def markdown_doc(path: Path, i: int, *, paras: int = 6) -> Path:
    title = f"{_TOPICS[i % len(_TOPICS)][0]} runbook {i}"
    return write_markdown(path, Doc(title=title, blocks=(Heading("Procedure"), *paragraphs(i, paras))))


def figure_doc(path: Path) -> Path:
    figure = Figure(
        png=text_png(["RACK B7 FAN FAILURE", "replace module FM-2"], size=(640, 240)), caption="Fan tray"
    )
    doc = Doc(title="Fan tray replacement", blocks=(Heading("Fan tray"), *paragraphs(1, 3), figure))
    return write_docx(path, doc)


def write_corpus(folder: Path, n_markdown: int = 4) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = [markdown_doc(folder / f"runbook-{i:02d}.md", i) for i in range(n_markdown)]
    files.append(figure_doc(folder / "fan-tray.docx"))
    return files
