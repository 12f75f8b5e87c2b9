"""Videos: keyframes (FRAME ImageBlocks located by time span) via vlsearch.ingest.video."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from vlsearch.ingest.limits import Limits
from vlsearch.types import Extraction

if TYPE_CHECKING:
    from vlsearch.media.limits import MediaLimits


def extract_video(path: Path, *, limits: Limits | MediaLimits) -> Extraction:
    """Extract a video's keyframes; their searchable text comes later from OCR (VisualEnricher).

    Raises TooLargeError over max_file_mb / max_video_seconds / max_image_pixels per frame, and
    ExtractionError for empty, corrupt, truncated or audio-only files. Audio is never decoded.
    meta holds the probe (duration, fps, width, height, codec, frame_count, has_audio, container),
    the decoder used and how many frames were analysed / kept.
    """
    # imported here so document ingestion never loads the video decoders
    from vlsearch.ingest.video import keyframe_blocks
    from vlsearch.media.keyframes import sample_keyframes
    from vlsearch.media.limits import MediaLimits

    media_limits = MediaLimits.coerce(limits)
    result = sample_keyframes(path, limits=media_limits, setting="max_video_seconds", name=path.name)
    meta: dict[str, Any] = result.info.to_meta()
    meta.update(
        duration_s=result.info.duration,
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
    title = path.stem.replace("_", " ").replace("-", " ").strip()
    return Extraction(
        doc_type="video",
        title=title,
        images=keyframe_blocks(result, context=title),
        warnings=tuple(warnings),
        meta=meta,
    )
