"""The size and duration limits media handling enforces, taken from Settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vlsearch.errors import ExtractionError, TooLargeError

_MB = 1024 * 1024


@dataclass(frozen=True)
class MediaLimits:
    """Limits for one media input. Defaults mirror the Settings defaults."""

    max_file_bytes: int = 200 * _MB
    max_image_pixels: int = 40_000_000
    max_video_seconds: float = 600.0
    keyframe_fps: float = 1.0
    max_keyframes: int = 64

    @classmethod
    def from_settings(cls, settings: Any, *, query: bool = False) -> MediaLimits:
        """Limits for ingest, or for query media (`query=True`: the shorter query video limit)."""
        seconds = settings.max_query_video_seconds if query else settings.max_video_seconds
        return cls(
            max_file_bytes=int(settings.max_file_mb) * _MB,
            max_image_pixels=int(settings.max_image_pixels),
            max_video_seconds=float(seconds),
            keyframe_fps=float(settings.keyframe_fps),
            max_keyframes=int(settings.max_keyframes),
        )

    @classmethod
    def coerce(cls, limits: Any) -> MediaLimits:
        """Accept MediaLimits, None (defaults) or any object with Settings-like limit attributes.

        The ingest package has its own `Limits`; reading the same attribute names keeps the two in
        step without importing each other. A missing attribute falls back to the Settings default.
        """
        if limits is None:
            return cls()
        if isinstance(limits, cls):
            return limits
        base = cls()
        max_bytes = getattr(limits, "max_file_bytes", None)
        if max_bytes is None and getattr(limits, "max_file_mb", None) is not None:
            max_bytes = int(limits.max_file_mb) * _MB
        return cls(
            max_file_bytes=int(max_bytes) if max_bytes is not None else base.max_file_bytes,
            max_image_pixels=int(getattr(limits, "max_image_pixels", base.max_image_pixels)),
            max_video_seconds=float(getattr(limits, "max_video_seconds", base.max_video_seconds)),
            keyframe_fps=float(getattr(limits, "keyframe_fps", base.keyframe_fps)),
            max_keyframes=int(getattr(limits, "max_keyframes", base.max_keyframes)),
        )


def check_file_size(source: Path | bytes, *, max_bytes: int | None, label: str) -> int:
    """The size of a media file (or of bytes already read); refuses an unreadable, empty or too large
    one, naming the setting to raise."""
    if isinstance(source, bytes):
        size = len(source)
    else:
        try:
            size = source.stat().st_size
        except OSError as exc:
            raise ExtractionError(f"{label}: cannot read the file ({exc})") from exc
    if size == 0:
        raise ExtractionError(f"{label}: the file is empty (0 bytes)")
    if max_bytes is not None and size > max_bytes:
        raise TooLargeError(
            f"{label}: file is {size / 1048576:.1f} MB, over the limit of {max_bytes / 1048576:.0f} MB "
            "(raise VLSEARCH_MAX_FILE_MB to accept it)"
        )
    return size
