"""Zip-bomb guard for Office Open XML files, run BEFORE python-docx/pptx/openpyxl open them.

The declared uncompressed sizes in the central directory are enough: Python's zipfile stops
reading an entry at its declared size (and fails the CRC check if the data goes on), so an
entry that lies about its size cannot inflate past what we checked here.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from vlsearch.errors import ExtractionError, TooLargeError
from vlsearch.ingest.limits import Limits

_RATIO_FLOOR_BYTES = 1024 * 1024  # small XML parts compress 50x+ legitimately; judge only big ones


def check_zip_container(path: Path, *, limits: Limits, kind: str) -> None:
    """Raise TooLargeError / ExtractionError when the container is unsafe or unreadable."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ExtractionError(
            f"{path.name}: not a readable {kind} file (corrupt or truncated zip container: {exc}); "
            f"re-save it from the original application"
        ) from exc
    if len(infos) > limits.max_zip_entries:
        raise TooLargeError(
            f"{path.name}: {kind} container holds {len(infos)} parts, over the limit of "
            f"{limits.max_zip_entries}; this is not a normal document"
        )
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > _RATIO_FLOOR_BYTES:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_compression_ratio:
                raise TooLargeError(
                    f"{path.name}: part {info.filename!r} expands {ratio:.0f}x "
                    f"({info.compress_size} -> {info.file_size} bytes), over the "
                    f"{limits.max_compression_ratio:.0f}x limit; refusing a likely zip bomb"
                )
    if total > limits.max_uncompressed_bytes:
        raise TooLargeError(
            f"{path.name}: {kind} would expand to {total / 2**20:.0f} MiB, over the "
            f"{limits.max_uncompressed_bytes / 2**20:.0f} MiB limit; split the document or "
            f"remove embedded media"
        )
