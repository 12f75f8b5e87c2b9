"""Video probing (PyAV) and frame decoding (PyAV or decord). Audio is never decoded."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from vlsearch.errors import ExtractionError, TooLargeError
from vlsearch.media.limits import check_file_size

# Container signatures we accept; everything else is refused before FFmpeg parses it.
_BRANDS_ISO = (b"ftyp",)


def sniff_video(head: bytes) -> str | None:
    """Return a container name (mp4, webm, avi, mpegts, ogg, flv) from the first bytes, or None."""
    if len(head) >= 12 and head[4:8] in _BRANDS_ISO:
        return "mp4"  # also mov / m4v / 3gp
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"  # Matroska / WebM
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    if head[:1] == b"\x47" and len(head) > 188 and head[188:189] == b"\x47":
        return "mpegts"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"FLV"):
        return "flv"
    return None


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about the first video stream."""

    duration: float  # seconds
    fps: float  # average frame rate
    width: int
    height: int
    codec: str
    frame_count: int  # from the container, or duration × fps when it does not say
    has_audio: bool
    container: str

    def to_meta(self) -> dict[str, Any]:
        return {
            "duration": round(self.duration, 3),
            "fps": round(self.fps, 3),
            "width": self.width,
            "height": self.height,
            "codec": self.codec,
            "frame_count": self.frame_count,
            "has_audio": self.has_audio,
            "container": self.container,
        }


def probe_video(path: Path, *, max_bytes: int | None = None, name: str = "") -> VideoInfo:
    """Read stream metadata with PyAV without decoding. Raises ExtractionError / TooLargeError."""
    import av

    label = name or path.name
    check_file_size(path, max_bytes=max_bytes, label=label)
    try:
        with av.open(str(path), mode="r") as container:
            if not container.streams.video:
                kinds = sorted({str(s.type) for s in container.streams}) or ["no streams"]
                raise ExtractionError(
                    f"{label}: the file has no video stream (found: {', '.join(kinds)}); "
                    "audio-only files are not indexed"
                )
            stream = container.streams.video[0]
            ctx = stream.codec_context
            if ctx is None:
                raise ExtractionError(
                    f"{label}: the video stream has no decoder parameters (unknown or damaged codec); "
                    "the file is corrupt"
                )
            duration = _stream_duration(container, stream)
            rate = stream.average_rate or stream.guessed_rate or stream.base_rate
            fps = float(rate) if rate else 0.0
            frames = int(stream.frames or 0)
            if frames <= 0 and duration > 0 and fps > 0:
                frames = round(duration * fps)
            info = VideoInfo(
                duration=duration,
                fps=fps,
                width=int(ctx.width or 0),
                height=int(ctx.height or 0),
                codec=str(ctx.name or ""),
                frame_count=frames,
                has_audio=bool(container.streams.audio),
                container=str(container.format.name),
            )
    except (av.FFmpegError, UnicodeDecodeError, ValueError, OverflowError) as exc:
        # FFmpeg errors, and PyAV decoding broken metadata strings / out-of-range header fields
        # FFmpeg's message names the file it opened, a path in the server's data dir: say what
        # went wrong under the name the user knows instead
        reason = str(getattr(exc, "strerror", None) or exc).replace(str(path), label)
        raise ExtractionError(
            f"{label}: not a readable video; the file is corrupt or truncated ({reason})"
        ) from exc
    if info.width <= 0 or info.height <= 0:
        raise ExtractionError(f"{label}: video stream has no frame size; the file is corrupt")
    if info.duration <= 0 and info.frame_count <= 0:
        raise ExtractionError(f"{label}: the video is zero-length (no duration, no frames)")
    return info


def check_duration(info: VideoInfo, *, max_seconds: float, setting: str, label: str) -> None:
    """Refuse videos longer than the limit, naming the setting that controls it."""
    if info.duration > max_seconds:
        raise TooLargeError(
            f"{label}: video is {info.duration:.1f} s long, over the limit of {max_seconds:g} s "
            f"({setting}); trim it or raise VLSEARCH_{setting.upper()}"
        )


def _stream_duration(container: Any, stream: Any) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration) / 1_000_000.0  # AV_TIME_BASE
    return 0.0


class DecodedFrame:
    """A decoded frame at time `t` (seconds).

    Full-size RGB conversion is deferred: the sampler compares every analysed frame through a tiny
    `small()` copy and converts only the frames it keeps, which is most of the work saved on 720p+.
    """

    __slots__ = ("_av_frame", "_image", "t")

    def __init__(self, t: float, *, image: Image.Image | None = None, av_frame: Any = None) -> None:
        if (image is None) == (av_frame is None):
            raise ValueError("give exactly one of image or av_frame")
        self.t = t
        self._image = image
        self._av_frame = av_frame

    @property
    def size(self) -> tuple[int, int]:
        if self._image is not None:
            return self._image.size
        return (int(self._av_frame.width), int(self._av_frame.height))

    def image(self) -> Image.Image:
        """The frame as a full-size RGB PIL image."""
        if self._image is None:
            self._image = self._av_frame.to_image()
        return self._image

    def small(self, width: int, height: int) -> np.ndarray:
        """An RGB uint8 array of the frame scaled to width x height."""
        if self._image is None:
            # libswscale scales and converts in one pass, without a full-size RGB copy
            return self._av_frame.reformat(width=width, height=height, format="rgb24").to_ndarray()
        return np.asarray(self._image.resize((width, height), Image.Resampling.BILINEAR))


def sample_times(duration: float, step: float) -> list[float]:
    """Times 0, step, 2·step, … strictly before `duration`."""
    count = max(1, math.ceil(duration / step - 1e-9))
    return [i * step for i in range(count)]


def iter_frames_decord(path: Path, info: VideoInfo, *, step: float) -> Iterator[DecodedFrame]:
    """Frames nearest to every `step` seconds via decord (fast seeking, video stream only)."""
    import decord
    import decord.logging

    # decord's bundled FFmpeg prints every bad NAL unit to stderr; failures reach us as exceptions
    decord.logging.set_level(decord.logging.FATAL)
    reader = decord.VideoReader(str(path), ctx=decord.cpu(0), num_threads=2)
    count = len(reader)
    fps = float(reader.get_avg_fps()) or info.fps
    if count <= 0 or fps <= 0:
        raise ExtractionError(f"{path.name}: decord found no frames")
    indices = sorted({min(count - 1, round(t * fps)) for t in sample_times(count / fps, step)})
    for start in range(0, len(indices), 8):
        batch = indices[start : start + 8]
        arrays = reader.get_batch(batch).asnumpy()
        stamps = reader.get_frame_timestamp(batch)[:, 0]
        for arr, t in zip(arrays, stamps, strict=True):
            yield DecodedFrame(float(t), image=Image.fromarray(np.ascontiguousarray(arr), mode="RGB"))


def iter_frames_pyav(path: Path, info: VideoInfo, *, step: float) -> Iterator[DecodedFrame]:
    """Frames at every `step` seconds by decoding the video stream in order with PyAV."""
    import av

    with av.open(str(path), mode="r") as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        next_t = 0.0
        half_frame = 0.5 / info.fps if info.fps > 0 else 0.0
        # demux only the video stream: audio packets are skipped, never decoded
        for frame in container.decode(stream):
            if frame.time is None:
                continue
            t = float(frame.time)
            if t + half_frame < next_t:
                continue
            yield DecodedFrame(t, av_frame=frame)
            while next_t <= t + half_frame:
                next_t += step


def iter_frames(path: Path, info: VideoInfo, *, step: float, backend: str = "auto") -> Iterator[DecodedFrame]:
    """Frames every `step` seconds with one backend ("pyav" or "decord"); fallback is the caller's."""
    if backend == "pyav":
        yield from iter_frames_pyav(path, info, step=step)
        return
    if backend == "decord":
        yield from iter_frames_decord(path, info, step=step)
        return
    raise ValueError(f"unknown video backend {backend!r}; use decord or pyav")
