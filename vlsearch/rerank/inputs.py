"""Turn the seed article's query/document dicts into resized images and sampled video frames.

Images are resized once here (to multiples of 32 within the pixel bounds), so the HF processor is
called with `do_resize=False`. Videos are sampled by fps/max_frames and resized under a total-pixel
budget; unlike the upstream code, the budget also applies to videos given as file paths.
"""

from __future__ import annotations

import base64
import io
import math
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from vlsearch.errors import InputRejectedError
from vlsearch.models.base import RerankInput

VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpeg", ".mpg", ".flv", ".wmv"})


@dataclass(frozen=True)
class VisionLimits:
    """Official Qwen3-VL-Reranker defaults. One visual token = one 32x32 pixel block."""

    min_pixels: int = 4096
    max_pixels: int = 1_843_200
    video_total_pixels: int = 7_864_320
    video_frame_max_pixels: int = 768 * 32 * 32
    fps: float = 1.0
    max_frames: int = 64
    min_frames: int = 4
    factor: int = 32
    frame_factor: int = 2  # temporal patch: frame counts are kept even
    max_aspect_ratio: float = 200.0


@dataclass(frozen=True)
class SideContent:
    """One side of a rerank pair (or one embedder input) as raw references, in the dict's order."""

    texts: tuple[str, ...] = ()
    images: tuple[Any, ...] = ()
    videos: tuple[Any, ...] = ()  # each a file path or a sequence of frames

    @property
    def empty(self) -> bool:
        return not (self.texts or self.images or self.videos)


@dataclass(frozen=True)
class PreparedVideo:
    """Sampled, resized frames ready for the processor (which must not sample or resize again)."""

    frames: torch.Tensor  # uint8, (T, 3, H, W), T even
    fps: float  # frame rate the indices refer to
    indices: tuple[int, ...]

    def metadata(self) -> Any:
        from transformers.video_utils import VideoMetadata

        return VideoMetadata(
            total_num_frames=int(self.frames.shape[0]),
            fps=self.fps,
            width=int(self.frames.shape[-1]),
            height=int(self.frames.shape[-2]),
            frames_indices=list(self.indices),
        )


def _as_tuple(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(v for v in value if v is not None and v != "")
    return () if value == "" else (value,)


def _is_video_file(ref: Any) -> bool:
    return isinstance(ref, (str, Path)) and Path(str(ref)).suffix.lower() in VIDEO_SUFFIXES


def _videos(value: Any) -> tuple[Any, ...]:
    """A list of video files is several videos; any other list is the frames of one video."""
    if value is None or value == "":
        return ()
    if isinstance(value, (list, tuple)):
        items = [v for v in value if v is not None]
        if not items:
            return ()
        if all(_is_video_file(v) for v in items) or all(isinstance(v, (list, tuple)) for v in items):
            return tuple(items)
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


def smart_resize(
    height: int, width: int, *, factor: int, min_pixels: int, max_pixels: int, max_ratio: float = 200.0
) -> tuple[int, int]:
    """Nearest multiples of `factor` keeping the aspect ratio, with the area inside [min, max] pixels."""
    if min(height, width) <= 0:
        raise InputRejectedError(f"image has an empty side ({width}x{height})")
    if max(height, width) / min(height, width) > max_ratio:
        raise InputRejectedError(
            f"image aspect ratio {max(height, width) / min(height, width):.0f} "
            f"exceeds {max_ratio:.0f}; crop it"
        )
    h_bar = max(factor, round(height / factor) * factor)
    w_bar = max(factor, round(width / factor) * factor)
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, (255, 255, 255))
        canvas.paste(rgba, mask=rgba.split()[3])
        return canvas
    return image.convert("RGB")


def load_image(ref: Any) -> Image.Image:
    """Path, file:// or http(s) URL, data: URI, PIL image or HxWxC uint8 array -> RGB PIL image."""
    if isinstance(ref, Image.Image):
        return _to_rgb(ref)
    if isinstance(ref, np.ndarray):
        return _to_rgb(Image.fromarray(ref))
    if not isinstance(ref, (str, Path)):
        raise InputRejectedError(
            f"cannot read an image from a {type(ref).__name__}; give a path, URL or PIL image"
        )
    text = str(ref)
    try:
        if text.startswith(("http://", "https://")):
            with urllib.request.urlopen(text, timeout=30) as resp:
                data = resp.read()
            image = Image.open(io.BytesIO(data))
        elif text.startswith("data:"):
            image = Image.open(io.BytesIO(base64.b64decode(text.split(",", 1)[1])))
        else:
            path = text.removeprefix("file://")
            image = Image.open(path)
        image.load()
    except (OSError, ValueError) as exc:
        raise InputRejectedError(f"cannot read image {text[:200]!r}: {exc}") from exc
    return _to_rgb(image)


def prepare_image(ref: Any, limits: VisionLimits) -> Image.Image:
    image = load_image(ref)
    h, w = smart_resize(
        image.height,
        image.width,
        factor=limits.factor,
        min_pixels=limits.min_pixels,
        max_pixels=limits.max_pixels,
        max_ratio=limits.max_aspect_ratio,
    )
    if (h, w) != (image.height, image.width):
        image = image.resize((w, h), Image.Resampling.BICUBIC)
    return image


def frame_count(
    total_frames: int, video_fps: float, *, fps: float, limits: VisionLimits, max_frames: int
) -> int:
    """How many frames to sample: `fps` per second, within [min_frames, max_frames], even."""
    ff = limits.frame_factor
    min_frames = math.ceil(limits.min_frames / ff) * ff
    cap = max(ff, math.floor(min(max_frames, total_frames) / ff) * ff)
    wanted = total_frames / video_fps * fps if video_fps > 0 else float(min_frames)
    n = min(max(wanted, min_frames), cap, total_frames)
    return max(ff, math.floor(n / ff) * ff) if total_frames >= ff else total_frames


def _frame_pixel_budget(n_frames: int, limits: VisionLimits) -> int:
    per_frame = limits.video_total_pixels / max(n_frames, 1) * limits.frame_factor
    return int(max(min(limits.video_frame_max_pixels, per_frame), int(limits.min_pixels * 1.05)))


def _stack_frames(frames: Sequence[Image.Image], limits: VisionLimits) -> torch.Tensor:
    first = frames[0]
    h, w = smart_resize(
        first.height,
        first.width,
        factor=limits.factor,
        min_pixels=limits.min_pixels,
        max_pixels=_frame_pixel_budget(len(frames), limits),
        max_ratio=limits.max_aspect_ratio,
    )
    arrays = []
    for frame in frames:
        if frame.size != (w, h):
            frame = frame.resize((w, h), Image.Resampling.BICUBIC)
        arrays.append(np.asarray(frame, dtype=np.uint8))
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()


def _pad_even(frames: list[Image.Image], indices: list[int], ff: int) -> None:
    while len(frames) % ff:
        frames.append(frames[-1])
        indices.append(indices[-1])


def _decode_file(path: str, *, fps: float, max_frames: int, limits: VisionLimits) -> PreparedVideo:
    import av

    try:
        with av.open(path) as container:
            if not container.streams.video:
                raise InputRejectedError(f"{path} has no video stream")
            stream = container.streams.video[0]
            video_fps = float(stream.average_rate or stream.guessed_rate or 0) or 24.0
            total = int(stream.frames or 0)
            if total <= 0 and stream.duration and stream.time_base:
                total = int(float(stream.duration * stream.time_base) * video_fps)
            if total <= 0:
                # No frame count in the header: decode once to count (short clips only reach here).
                total = sum(1 for _ in container.decode(stream))
                container.seek(0)
            n = frame_count(total, video_fps, fps=fps, limits=limits, max_frames=max_frames)
            wanted = np.linspace(0, total - 1, max(n, 1)).round().astype(int).tolist()
            wanted_set = set(wanted)
            picked: dict[int, Image.Image] = {}
            for i, frame in enumerate(container.decode(stream)):
                if i in wanted_set:
                    picked[i] = _to_rgb(frame.to_image())
                if i >= wanted[-1]:
                    break
    except (av.error.FFmpegError, OSError) as exc:  # type: ignore[attr-defined]
        raise InputRejectedError(f"cannot decode video {path}: {exc}") from exc
    if not picked:
        raise InputRejectedError(f"video {path} has no decodable frames")
    # Headers can overstate the frame count: indices past the end reuse the last decoded frame.
    frames: list[Image.Image] = []
    indices: list[int] = []
    for idx in wanted:
        image = picked.get(idx)
        if image is not None:
            frames.append(image)
            indices.append(idx)
        elif frames:
            frames.append(frames[-1])
            indices.append(indices[-1])
    _pad_even(frames, indices, limits.frame_factor)
    return PreparedVideo(frames=_stack_frames(frames, limits), fps=video_fps, indices=tuple(indices))


def _from_frames(refs: Sequence[Any], *, fps: float, max_frames: int, limits: VisionLimits) -> PreparedVideo:
    """A list of frames is taken as already sampled at `fps`; thinned uniformly above max_frames."""
    idx = list(range(len(refs)))
    cap = max(limits.frame_factor, max_frames - max_frames % limits.frame_factor)
    if len(idx) > cap:
        idx = np.linspace(0, len(refs) - 1, cap).round().astype(int).tolist()
    frames = [load_image(refs[i]) for i in idx]
    _pad_even(frames, idx, limits.frame_factor)
    return PreparedVideo(
        frames=_stack_frames(frames, limits), fps=fps if fps > 0 else 1.0, indices=tuple(idx)
    )


def prepare_video(
    ref: Any, limits: VisionLimits, *, fps: float | None = None, max_frames: int | None = None
) -> PreparedVideo:
    fps_ = limits.fps if fps is None else float(fps)
    max_frames_ = limits.max_frames if max_frames is None else int(max_frames)
    if fps_ <= 0 or max_frames_ < 1:
        raise InputRejectedError(
            f"fps must be > 0 and max_frames >= 1 (got fps={fps_}, max_frames={max_frames_})"
        )
    if isinstance(ref, (list, tuple)):
        if not ref:
            raise InputRejectedError("a video given as frames needs at least one frame")
        return _from_frames(ref, fps=fps_, max_frames=max_frames_, limits=limits)
    if isinstance(ref, (str, Path)):
        path = str(ref).removeprefix("file://")
        if not Path(path).is_file():
            raise InputRejectedError(f"video file not found: {path}")
        return _decode_file(path, fps=fps_, max_frames=max_frames_, limits=limits)
    raise InputRejectedError(f"a video must be a file path or a list of frames, got {type(ref).__name__}")
