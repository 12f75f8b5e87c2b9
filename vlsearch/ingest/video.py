"""From a video file to keyframe ImageBlocks, under the ingest or query limits."""

from __future__ import annotations

from pathlib import Path

from vlsearch.media.keyframes import KeyframeResult, KeyframeSampler
from vlsearch.media.limits import MediaLimits
from vlsearch.types import ImageBlock, Locator, Modality


def sampler_for(limits: MediaLimits) -> KeyframeSampler:
    """A KeyframeSampler configured from the keyframe settings in `limits`."""
    return KeyframeSampler(fps=limits.keyframe_fps, max_frames=limits.max_keyframes)


def sample_keyframes(
    path: Path,
    *,
    limits: MediaLimits,
    setting: str = "max_video_seconds",
    sampler: KeyframeSampler | None = None,
    name: str = "",
) -> KeyframeResult:
    """Probe, check size/duration/frame-size limits and sample keyframes.

    `setting` is the Settings field the duration limit came from (max_video_seconds for ingest,
    max_query_video_seconds for queries), so the error tells the user which knob to turn.
    """
    return (sampler or sampler_for(limits)).sample(
        path,
        max_seconds=limits.max_video_seconds,
        setting=setting,
        max_bytes=limits.max_file_bytes,
        max_pixels=limits.max_image_pixels,
        name=name,
    )


def keyframe_blocks(result: KeyframeResult, *, context: str = "") -> tuple[ImageBlock, ...]:
    """One FRAME ImageBlock per keyframe, located by its time span; `index` is its ordinal.

    `context` (the video's title) goes on every frame, as page renders carry their document title,
    so a frame without legible text is still findable by what the video is called.
    """
    return tuple(
        ImageBlock(
            data=frame.data,
            locator=Locator(t_start=frame.t_start, t_end=frame.t_end, index=i),
            modality=Modality.FRAME,
            context=context,
            kind="keyframe",
        )
        for i, frame in enumerate(result.keyframes)
    )
