"""What one side of a rerank pair (or one embedder input) holds, parsed from the seed article's dicts.

Nothing is read or decoded here (and neither torch nor qwen-vl-utils is imported): turning the
references into pixels is `vlsearch.models.qwen3vl.vision`'s job, through qwen-vl-utils.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vlsearch.errors import InputRejectedError
from vlsearch.models.base import RerankInput

VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpeg", ".mpg", ".flv", ".wmv"})


@dataclass(frozen=True)
class VisionLimits:
    """The official Qwen3-VL-Reranker / -Embedding defaults. One visual token = 32x32 pixels.

    Images are sized within [min_pixels, max_pixels]. A frame list shares `total_pixels`; a video
    FILE gets qwen-vl-utils' own per-frame bounds (128..768 tokens) and no total budget, as in the
    official code, unless `video_file_total_pixels` opts into one. Frame lists are thinned to this
    `max_frames` (the constructor's, never a call's); video files are sampled at the call's fps and
    max_frames, falling back to these. Video files (and clips) longer than `max_video_seconds` are
    refused, naming the setting `duration_setting`.
    """

    min_pixels: int = 4096
    max_pixels: int = 1_843_200
    total_pixels: int = 7_864_320
    video_file_total_pixels: int | None = None
    fps: float = 1.0
    max_frames: int = 64
    max_video_seconds: float = 120.0
    duration_setting: str = "max_query_video_seconds"

    def __post_init__(self) -> None:
        if self.fps <= 0 or self.max_frames < 2 or self.max_video_seconds <= 0:
            raise ValueError(
                f"fps and max_video_seconds must be > 0 and max_frames >= 2 (got fps={self.fps}, "
                f"max_frames={self.max_frames}, max_video_seconds={self.max_video_seconds})"
            )


@dataclass(frozen=True)
class VideoClip:
    """A stretch [start, end) seconds of a video file (qwen-vl-utils' video_start / video_end)."""

    path: str
    start: float
    end: float

    def __post_init__(self) -> None:
        if not (0.0 <= self.start < self.end):
            raise ValueError(f"a clip needs 0 <= start < end (got {self.start}..{self.end})")

    def __str__(self) -> str:  # the score cache keys references by str() as a fallback
        return f"{self.path}#t={self.start:.3f},{self.end:.3f}"


@dataclass(frozen=True)
class SideContent:
    """One side of a rerank pair (or one embedder input) as raw references, in the dict's order."""

    texts: tuple[str, ...] = ()
    images: tuple[Any, ...] = ()
    videos: tuple[Any, ...] = ()  # each a file path, a VideoClip or a sequence of frames

    @property
    def empty(self) -> bool:
        return not (self.texts or self.images or self.videos)


def _as_tuple(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(v for v in value if v is not None and not (isinstance(v, str) and v == ""))
    return () if isinstance(value, str) and value == "" else (value,)


def is_video_file(ref: Any) -> bool:
    return isinstance(ref, (str, Path)) and Path(str(ref)).suffix.lower() in VIDEO_SUFFIXES


def _videos(value: Any) -> tuple[Any, ...]:
    """A list of video files (or of frame lists, or clips) is several videos; any other list is the
    frames of one video (the official format's rule, which looks at the first element)."""
    if value is None or (isinstance(value, str) and value == ""):
        return ()
    if isinstance(value, (list, tuple)):
        items = [v for v in value if v is not None]
        if not items:
            return ()
        if all(is_video_file(v) or isinstance(v, (list, tuple, VideoClip)) for v in items):
            return tuple(tuple(v) if isinstance(v, list) else v for v in items)
        return (tuple(items),)
    return (value,)


def parse_side(value: Mapping[str, Any] | RerankInput | None) -> SideContent:
    if value is None:
        return SideContent()
    if isinstance(value, RerankInput):
        text, image, video = value.text, value.image, value.video
    elif isinstance(value, Mapping):
        text, image, video = value.get("text"), value.get("image"), value.get("video")
    else:
        raise InputRejectedError(
            f"a query/document must be a dict with text/image/video keys, got {type(value).__name__}"
        )
    texts = tuple(str(t) for t in _as_tuple(text))
    return SideContent(texts=texts, images=_as_tuple(image), videos=_videos(video))
