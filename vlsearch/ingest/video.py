"""Keyframes as ingest ImageBlocks (sampling under the limits is `vlsearch.media.keyframes`)."""

from __future__ import annotations

from vlsearch.media.keyframes import KeyframeResult
from vlsearch.types import ImageBlock, Locator, Modality


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
