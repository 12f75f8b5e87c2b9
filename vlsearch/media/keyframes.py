"""Keyframe sampling: regular samples plus scene changes, near-duplicates dropped, capped evenly."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from vlsearch.errors import ExtractionError, TooLargeError
from vlsearch.media.images import NORMALISED_LONG_SIDE, encode_image, fit_within
from vlsearch.media.limits import MediaLimits
from vlsearch.media.video import DecodedFrame, VideoInfo, check_duration, iter_frames, probe_video

# Frames are compared through a small colour copy ("signature"), 128 px wide: averaging over
# ~10x10 source pixels removes sensor noise and compression artefacts, while a new line of slide
# text still changes ~1.5% of it. Colour, not greyscale: two equally bright scenes differ in hue.
_SIGNATURE_WIDTH = 128
# A signature pixel counts as changed when its mean RGB difference exceeds this (0..1 scale).
_PIXEL_DELTA = 0.08


@dataclass(frozen=True)
class Keyframe:
    t_start: float  # seconds
    t_end: float  # until the next kept keyframe (or the end of the video)
    data: bytes  # JPEG, long side ≤ 1600
    width: int
    height: int
    reason: str  # "start" | "interval" | "scene"


@dataclass(frozen=True)
class KeyframeResult:
    info: VideoInfo
    keyframes: tuple[Keyframe, ...]
    backend: str  # decoder that produced the frames: "pyav" | "decord"
    analysed: int  # frames looked at
    candidates: int  # frames kept before the max_frames cap
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Kept:
    t: float
    data: bytes  # JPEG, encoded when kept so long videos hold kilobytes per frame, not megabytes
    width: int
    height: int
    reason: str


# Candidates held before thinning, as a multiple of max_frames: bounds memory on long, busy videos
# while leaving the final even spread to choose among plenty.
_THIN_FACTOR = 8


class KeyframeSampler:
    """Pick the frames that represent a video.

    Frames are looked at `analysis_fps` times a second. A frame becomes a candidate at every
    1/`fps` seconds and whenever it differs from the previous analysed frame by more than
    `scene_threshold` (a cut). A candidate is dropped when it differs from the last kept keyframe by
    less than `dedupe_threshold`, so a static scene yields one keyframe however long it lasts.
    Both thresholds are fractions of the frame that changed visibly (see `changed_fraction`): a
    mean-difference measure would call a slide that gains a bullet line "the same" (0.2% mean change)
    while a cut between scenes sharing a layout changes 45-90% of the frame.
    Differences are mean absolute differences of small colour signatures, in [0, 1]. When more than
    `max_frames` survive, `max_frames` are kept spread evenly over the video.
    """

    def __init__(
        self,
        *,
        fps: float = 1.0,
        max_frames: int = 64,
        scene_threshold: float = 0.3,
        dedupe_threshold: float = 0.005,
        analysis_fps: float = 4.0,
        backend: str = "auto",
        long_side: int = NORMALISED_LONG_SIDE,
    ) -> None:
        if fps <= 0 or analysis_fps <= 0:
            raise ValueError("fps and analysis_fps must be positive")
        if max_frames < 1:
            raise ValueError("max_frames must be at least 1")
        if backend not in ("auto", "decord", "pyav"):
            raise ValueError(f"unknown backend {backend!r}; use auto, decord or pyav")
        self.fps = fps
        self.max_frames = max_frames
        self.scene_threshold = scene_threshold
        self.dedupe_threshold = dedupe_threshold
        self.analysis_fps = max(analysis_fps, fps)
        self.backend = backend
        self.long_side = long_side

    def sample(
        self,
        path: Path,
        *,
        max_seconds: float,
        setting: str = "max_video_seconds",
        max_bytes: int | None = None,
        max_pixels: int | None = None,
        name: str = "",
    ) -> KeyframeResult:
        """Probe, enforce limits (`setting` names the limit in errors), decode and select keyframes."""
        label = name or path.name
        info = probe_video(path, max_bytes=max_bytes, name=label)
        check_duration(info, max_seconds=max_seconds, setting=setting, label=label)
        if max_pixels is not None and info.width * info.height > max_pixels:
            raise TooLargeError(
                f"{label}: frames are {info.width}x{info.height}, over max_image_pixels={max_pixels:,}"
            )
        step = 1.0 / self.analysis_fps
        warnings: list[str] = []
        # PyAV first: decoding in order and converting only kept frames costs ~0.85 s CPU per 30 s of
        # 720p30 against ~1.9 s for decord's seek-and-batch (benchmarks/media_speed.py), and PyAV is
        # maintained; decord 0.6 stays as the second decoder for files PyAV's build rejects.
        backends = ["pyav", "decord"] if self.backend == "auto" else [self.backend]
        for backend in backends:
            try:
                frames = iter_frames(path, info, step=step, backend=backend)
                kept, analysed, candidates = self._select(
                    frames, max_seconds=max_seconds, setting=setting, label=label
                )
            except TooLargeError:
                raise
            except Exception as exc:
                reason = f"{backend}: {type(exc).__name__}: {str(exc).strip()[:300]}"
            else:
                if kept:
                    return self._finish(
                        info,
                        kept,
                        backend=backend,
                        analysed=analysed,
                        candidates=candidates,
                        warnings=warnings,
                    )
                reason = f"{backend}: no decodable frames"
            warnings.append(reason)
        raise ExtractionError(
            f"{label}: video frames cannot be decoded; the file is corrupt or truncated "
            f"({'; '.join(warnings)})"
        )

    def _select(
        self, frames: Iterator[DecodedFrame], *, max_seconds: float, setting: str, label: str
    ) -> tuple[list[_Kept], int, int]:
        """Return (kept frames in time order, frames analysed, candidates accepted before thinning)."""
        interval = 1.0 / self.fps
        kept: list[_Kept] = []
        kept_sig: np.ndarray | None = None
        prev_sig: np.ndarray | None = None
        next_regular = 0.0
        analysed = candidates = 0
        for frame in frames:
            # the container's duration can lie; the decoded timestamps cannot
            if frame.t > max_seconds + 1.0:
                raise TooLargeError(
                    f"{label}: video runs past {max_seconds:g} s ({setting}); trim it or raise "
                    f"VLSEARCH_{setting.upper()}"
                )
            analysed += 1
            sig = signature(frame)
            reason = ""
            if kept_sig is None:
                reason = "start"
            elif prev_sig is not None and changed_fraction(sig, prev_sig) > self.scene_threshold:
                reason = "scene"
            elif frame.t + 1e-6 >= next_regular:
                reason = "interval"
            if frame.t + 1e-6 >= next_regular:
                next_regular = (int((frame.t + 1e-6) / interval) + 1) * interval
            prev_sig = sig
            if not reason:
                continue
            if kept_sig is not None and changed_fraction(sig, kept_sig) < self.dedupe_threshold:
                continue
            image = fit_within(frame.image(), self.long_side)
            kept.append(
                _Kept(
                    t=frame.t,
                    data=encode_image(image, quality=90),
                    width=image.width,
                    height=image.height,
                    reason=reason,
                )
            )
            kept_sig = sig
            candidates += 1
            if len(kept) > _THIN_FACTOR * self.max_frames:
                kept = kept[::2]  # every other one: still spread evenly over the video so far
        return kept, analysed, candidates

    def _finish(
        self,
        info: VideoInfo,
        kept: list[_Kept],
        *,
        backend: str,
        analysed: int,
        candidates: int,
        warnings: list[str],
    ) -> KeyframeResult:
        if len(kept) > self.max_frames:
            picks = np.unique(np.linspace(0, len(kept) - 1, self.max_frames).round().astype(int))
            kept = [kept[i] for i in picks]
        end_of_video = max(info.duration, kept[-1].t + 1.0 / self.fps)
        keyframes = []
        for i, k in enumerate(kept):
            t_end = kept[i + 1].t if i + 1 < len(kept) else end_of_video
            keyframes.append(
                Keyframe(
                    t_start=round(k.t, 3),
                    t_end=round(t_end, 3),
                    data=k.data,
                    width=k.width,
                    height=k.height,
                    reason=k.reason,
                )
            )
        return KeyframeResult(
            info=info,
            keyframes=tuple(keyframes),
            backend=backend,
            analysed=analysed,
            candidates=candidates,
            warnings=tuple(warnings),
        )


def signature(frame: DecodedFrame | Image.Image) -> np.ndarray:
    """A small RGB copy as floats in [0, 1], the unit frames are compared in."""
    if isinstance(frame, Image.Image):
        frame = DecodedFrame(0.0, image=frame.convert("RGB"))
    width, height = frame.size
    small_h = max(1, round(_SIGNATURE_WIDTH * height / max(1, width)))
    return frame.small(_SIGNATURE_WIDTH, small_h).astype(np.float32) / 255.0


def changed_fraction(a: np.ndarray, b: np.ndarray) -> float:
    """Fraction of signature pixels whose mean RGB difference exceeds _PIXEL_DELTA (0 = same, 1 = all)."""
    return float(np.mean(np.abs(a - b).mean(axis=2) > _PIXEL_DELTA))


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
