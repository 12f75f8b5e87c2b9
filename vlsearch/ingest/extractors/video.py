"""Video files: keyframes as FRAME ImageBlocks (their text comes later from OCR)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vlsearch.ingest.video import keyframe_blocks, sample_keyframes
from vlsearch.media.limits import MediaLimits
from vlsearch.types import Extraction


def extract_video(path: Path, *, limits: Any) -> Extraction:
    """Extract a video's keyframes.

    `limits` is the ingest Limits (or MediaLimits / Settings-like object, see MediaLimits.coerce).
    Raises TooLargeError over max_file_mb / max_video_seconds / max_image_pixels per frame, and
    ExtractionError for empty, corrupt, truncated or audio-only files. Audio is never decoded.
    meta holds the probe (duration, fps, size, codec, frame_count, has_audio) and the decoder used.
    """
    media_limits = MediaLimits.coerce(limits)
    result = sample_keyframes(path, limits=media_limits, setting="max_video_seconds")
    meta: dict[str, Any] = result.info.to_meta()
    meta.update(
        decoder=result.backend,
        frames_analysed=result.analysed,
        keyframes=len(result.keyframes),
        keyframe_candidates=result.candidates,
    )
    warnings = list(result.warnings)
    if result.candidates > len(result.keyframes):
        warnings.append(
            f"{result.candidates} distinct scenes found; kept {len(result.keyframes)} spread evenly "
            f"(max_keyframes={media_limits.max_keyframes})"
        )
    return Extraction(
        doc_type="video",
        title=path.stem.replace("_", " ").replace("-", " ").strip(),
        images=keyframe_blocks(result),
        warnings=tuple(warnings),
        meta=meta,
    )
