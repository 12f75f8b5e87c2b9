"""Saving uploaded files to disk with size checks, and validating query images and videos."""

from __future__ import annotations

from pathlib import Path

from fastapi import UploadFile

from vlsearch.api.errors import ApiError, format_bytes
from vlsearch.api.limits import ApiLimits
from vlsearch.config import Settings

_CHUNK = 1 << 20


def copy_upload(upload: UploadFile, target: Path, *, max_bytes: int, limit_name: str) -> int:
    """Stream an upload to `target`; 413 naming the limit when it is larger than `max_bytes`."""
    written = 0
    upload.file.seek(0)
    with target.open("wb") as out:
        while chunk := upload.file.read(_CHUNK):
            written += len(chunk)
            if written > max_bytes:
                out.close()
                target.unlink(missing_ok=True)
                raise ApiError(
                    "body_too_large",
                    f"{upload.filename or 'upload'}: over the {limit_name} limit "
                    f"of {format_bytes(max_bytes)}",
                    status=413,
                    detail={"limit": limit_name, "limit_bytes": max_bytes},
                )
            out.write(chunk)
    return written


def save_query_image(
    upload: UploadFile, folder: Path, *, settings: Settings, limits: ApiLimits, stem: str = "query-image"
) -> Path:
    from vlsearch.media import load_image  # Pillow loads only when a query image arrives

    target = folder / stem
    copy_upload(upload, target, max_bytes=limits.query_upload_bytes, limit_name="query_upload")
    # Decode once here so a corrupt or oversize image is a clear 4xx, not a failure deep in retrieval.
    loaded = load_image(target, max_pixels=settings.max_image_pixels, name=upload.filename or "image")
    suffixed = target.with_suffix("." + loaded.format.lower().replace("jpeg", "jpg"))
    target.rename(suffixed)
    return suffixed


def save_query_video(upload: UploadFile, folder: Path, *, settings: Settings, limits: ApiLimits) -> Path:
    from vlsearch.media import check_duration, probe_video

    name = upload.filename or "video"
    suffix = Path(name).suffix.lower() if Path(name).suffix.lower() in _VIDEO_SUFFIXES else ".mp4"
    target = folder / f"query-video{suffix}"
    copy_upload(upload, target, max_bytes=limits.query_upload_bytes, limit_name="query_upload")
    info = probe_video(target, name=name)
    check_duration(
        info, max_seconds=settings.max_query_video_seconds, setting="max_query_video_seconds", label=name
    )
    return target


_VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi")
