"""XLSX: each sheet as readable rows ("Header: value; ...") in blocks with sheet + row range."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from vlsearch.errors import ExtractionError
from vlsearch.ingest.extractors.archive_guard import OFFICE_PARSE_ERRORS, check_zip_container
from vlsearch.ingest.limits import Limits
from vlsearch.types import Extraction, Locator, TextBlock

ROWS_PER_BLOCK = 20  # a block is one locator; the chunker may split it further by tokens


# the library's own 'not a Excel file' error, plus what a damaged package makes it raise
_UNREADABLE: tuple[type[BaseException], ...] = (InvalidFileException, *OFFICE_PARSE_ERRORS)


def extract_xlsx(path: Path, *, limits: Limits) -> Extraction:
    check_zip_container(path, limits=limits, kind="XLSX")
    try:
        wb = openpyxl.load_workbook(str(path), read_only=True, data_only=True)
    except _UNREADABLE as exc:
        raise _unreadable(path, exc) from exc
    blocks: list[TextBlock] = []
    warnings: list[str] = []
    try:
        title = (wb.properties.title or "").strip() if wb.properties else ""
        for ws in wb.worksheets:
            if not hasattr(ws, "iter_rows"):
                continue  # chartsheets carry no cells
            blocks.extend(_sheet_blocks(ws, limits=limits, warnings=warnings))
    except OFFICE_PARSE_ERRORS as exc:  # read-only sheets are parsed lazily, while iterating
        raise _unreadable(path, exc) from exc
    finally:
        wb.close()  # read-only workbooks keep the zip open until closed
    return Extraction(
        doc_type="xlsx",
        title=title or path.stem,
        blocks=tuple(blocks),
        warnings=tuple(warnings),
    )


def _unreadable(path: Path, exc: BaseException) -> ExtractionError:
    return ExtractionError(
        f"{path.name}: not a readable Excel workbook ({type(exc).__name__}: {exc}); "
        f"re-save it as .xlsx from Excel"
    )


def _sheet_blocks(ws: Any, *, limits: Limits, warnings: list[str]) -> list[TextBlock]:
    name = str(ws.title)
    header: list[str] | None = None
    pending: list[tuple[int, str]] = []
    blocks: list[TextBlock] = []

    def flush() -> None:
        if pending:
            body = "\n".join(line for _, line in pending)
            loc = Locator(sheet=name, row_start=pending[0][0], row_end=pending[-1][0])
            # the sheet name as a heading: the chunker repeats it in every chunk of these rows
            blocks.append(TextBlock(text=f"Sheet {name}", locator=loc, is_heading=True))
            blocks.append(TextBlock(text=body, locator=loc))
            pending.clear()

    for row_no, values in enumerate(ws.iter_rows(values_only=True), start=1):
        if row_no > limits.max_sheet_rows:
            warnings.append(f"sheet {name!r}: rows after {limits.max_sheet_rows} skipped (row limit)")
            break
        cells = [_cell_text(v) for v in values]
        if not any(cells):
            continue
        if header is None:
            header = [c or get_column_letter(i + 1) for i, c in enumerate(cells)]
            continue
        pairs = [
            f"{header[i] if i < len(header) else get_column_letter(i + 1)}: {c}"
            for i, c in enumerate(cells)
            if c
        ]
        pending.append((row_no, "; ".join(pairs)))
        if len(pending) >= ROWS_PER_BLOCK:
            flush()
    flush()
    if header is not None and not blocks:
        # a sheet with only a header row still says what it is about
        blocks.append(
            TextBlock(
                text=f"Sheet {name}: " + "; ".join(header),
                locator=Locator(sheet=name, row_start=1, row_end=1),
            )
        )
    return blocks


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.10g}"
    if isinstance(value, dt.datetime):
        return (
            value.isoformat(sep=" ", timespec="minutes")
            if value.time() != dt.time()
            else value.date().isoformat()
        )
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return " ".join(str(value).split())
