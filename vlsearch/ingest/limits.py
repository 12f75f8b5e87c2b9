"""Resource limits the extractors enforce, so one hostile or huge file cannot exhaust the host."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vlsearch.config import Settings

_MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Per-file extraction limits. Defaults mirror the Settings defaults.

    The zip fields guard DOCX/PPTX/XLSX, which are zip containers: a few KB on disk can declare
    gigabytes of XML, and python-docx/pptx/openpyxl would inflate all of it.
    """

    max_file_bytes: int = 200 * _MB
    max_pages: int = 2000  # PDF pages, PPTX slides
    max_image_pixels: int = 40_000_000
    max_uncompressed_bytes: int = 1024 * _MB  # sum of declared sizes of all zip entries
    max_compression_ratio: float = 200.0  # per entry, checked only for entries above 1 MiB
    max_zip_entries: int = 20_000
    max_figures_per_doc: int = 200
    max_page_renders: int = 300  # scanned PDF pages rendered for OCR (~0.3-1 MB of PNG each)
    max_page_previews: int = 500  # text pages rendered to show hits' line boxes on (~0.1-0.3 MB JPEG)
    max_sheet_rows: int = 200_000  # per XLSX sheet; later rows are skipped with a warning
    # read by vlsearch.media (MediaLimits.coerce) when the same Limits is passed for image/video
    max_video_seconds: float = 600.0
    keyframe_fps: float = 1.0
    max_keyframes: int = 64

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            max_file_bytes=settings.max_file_mb * _MB,
            max_pages=settings.max_pages,
            max_image_pixels=settings.max_image_pixels,
            max_uncompressed_bytes=settings.max_uncompressed_mb * _MB,
            max_figures_per_doc=settings.max_figures_per_doc,
            max_page_previews=settings.max_page_previews,
            max_video_seconds=settings.max_video_seconds,
            keyframe_fps=settings.keyframe_fps,
            max_keyframes=settings.max_keyframes,
        )
