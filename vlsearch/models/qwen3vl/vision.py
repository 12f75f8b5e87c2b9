"""Images and videos into model pixels through qwen-vl-utils, exactly as the official scripts do it.

The official Qwen3-VL-Reranker / -Embedding code builds one element dict per image or video and
hands it to qwen-vl-utils (`fetch_image` / `fetch_video`, `image_patch_size=16`,
`return_video_metadata=True`); the processor then gets `do_resize=False`, `do_sample_frames=False`
and the returned metadata. This module builds the same dicts:

* an image: `{"image": "file://…", "min_pixels", "max_pixels"}`;
* a video file: `{"video": "file://…", "fps", "max_frames"}` and no pixel budget (qwen-vl-utils'
  own per-frame bounds apply), plus `video_start` / `video_end` for a clip of it;
* a frame list: thinned to the constructor's max_frames with `np.linspace(0, n-1, k, dtype=int)`,
  then `{"video": ["file://…", …], "total_pixels"}` (qwen-vl-utils labels such frames 2 fps, 0..n-1).

Video files are decoded by decord: qwen-vl-utils picks its reader once per process from
FORCE_QWENVL_VIDEO_READER, else torchcodec when installed, else decord, else torchvision (whose
`read_video` is gone from torchvision 0.29). We set FORCE_QWENVL_VIDEO_READER=decord before the
first import unless the deployment set it, so frames do not change when torchcodec appears.
"""

from __future__ import annotations

import io
import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vlsearch.errors import InputRejectedError, VlsearchError
from vlsearch.models.qwen3vl.inputs import SideContent, VideoClip, VisionLimits

if TYPE_CHECKING:
    import torch
    from PIL import Image

log = logging.getLogger(__name__)

IMAGE_PATCH_SIZE = 16  # Qwen3-VL; one visual token = (16 × spatial merge 2)² pixels
VIDEO_READER_ENV = "FORCE_QWENVL_VIDEO_READER"
DEFAULT_VIDEO_READER = "decord"
URL_TIMEOUT_S = 30.0
URL_MAX_BYTES = 64 * 1024 * 1024

_qwen_lock = threading.Lock()
_qwen: Any = None


def qwen_vl_utils() -> Any:
    """qwen_vl_utils.vision_process, imported once with the video reader pinned (see module doc)."""
    global _qwen
    with _qwen_lock:
        if _qwen is None:
            os.environ.setdefault(VIDEO_READER_ENV, DEFAULT_VIDEO_READER)
            try:
                from qwen_vl_utils import vision_process
            except ImportError as exc:
                raise VlsearchError(
                    "qwen-vl-utils is not installed; it prepares every image and video for the Qwen3-VL "
                    "models: pip install 'qwen-vl-utils==0.0.14'"
                ) from exc
            backend = vision_process.get_video_reader_backend()
            if backend != DEFAULT_VIDEO_READER:
                log.warning(
                    "qwen-vl-utils reads videos with %s (%s is set); frames may differ",
                    backend,
                    VIDEO_READER_ENV,
                )
            _qwen = vision_process
    return _qwen


def video_reader() -> str:
    """The reader qwen-vl-utils uses for video files in this process."""
    return str(qwen_vl_utils().get_video_reader_backend())


@dataclass(frozen=True)
class PreparedVideo:
    """Frames from qwen-vl-utils (float, T×3×H×W, T even) and its metadata for the processor."""

    frames: torch.Tensor
    metadata: dict[str, Any]


# -- references -> element dicts ------------------------------------------------------------------
def _local_path(ref: str | Path) -> str:
    return str(ref).removeprefix("file://")


def _uri(path: str) -> str:
    return "file://" + path


def _as_pil(ref: Any) -> Any:
    """numpy frames and downloaded URLs become PIL images; everything else is passed on as is."""
    import numpy as np

    if isinstance(ref, np.ndarray):
        from PIL import Image

        return Image.fromarray(ref)
    if isinstance(ref, str) and ref.startswith(("http://", "https://")):
        return _download_image(ref)
    return ref


def _download_image(url: str) -> Image.Image:
    """An image URL, fetched with a deadline and a size cap (qwen-vl-utils' own fetch has neither)."""
    import httpx
    from PIL import Image

    try:
        with httpx.stream("GET", url, timeout=URL_TIMEOUT_S, follow_redirects=True) as resp:
            resp.raise_for_status()
            data = bytearray()
            for chunk in resp.iter_bytes():
                data.extend(chunk)
                if len(data) > URL_MAX_BYTES:
                    raise InputRejectedError(f"image {url[:200]!r} is over {URL_MAX_BYTES >> 20} MB")
        image = Image.open(io.BytesIO(bytes(data)))
        image.load()
    except (httpx.HTTPError, OSError, ValueError) as exc:
        raise InputRejectedError(f"cannot fetch image {url[:200]!r}: {exc}") from exc
    return image


def image_element(ref: Any, limits: VisionLimits) -> dict[str, Any]:
    ref = _as_pil(ref)
    if isinstance(ref, (str, Path)):
        text = str(ref)
        ref = text if text.startswith("data:") else _uri(_local_path(text))
    return {"image": ref, "min_pixels": limits.min_pixels, "max_pixels": limits.max_pixels}


def _check_call_options(fps: float | None, max_frames: int | None) -> None:
    if fps is not None and not fps > 0:
        raise InputRejectedError(f"fps must be > 0 (got {fps})")
    if max_frames is not None and int(max_frames) < 2:
        raise InputRejectedError(f"max_frames must be >= 2 (got {max_frames}); frames come in pairs")


def video_element(
    ref: Any, limits: VisionLimits, *, fps: float | None = None, max_frames: int | None = None
) -> dict[str, Any]:
    """The official element dict for a video file, a clip of one, or a list of frames."""
    _check_call_options(fps, max_frames)
    if isinstance(ref, (list, tuple)):
        frames = list(ref)
        if not frames:
            raise InputRejectedError("a video given as frames needs at least one frame")
        if len(frames) > limits.max_frames:
            import numpy as np

            keep = np.linspace(0, len(frames) - 1, limits.max_frames, dtype=int).tolist()
            frames = [frames[i] for i in keep]
        refs = [_as_pil(f) for f in frames]
        video = [_uri(_local_path(r)) if isinstance(r, (str, Path)) else r for r in refs]
        return {"video": video, "total_pixels": limits.total_pixels}
    element: dict[str, Any] = {
        "fps": float(fps) if fps else limits.fps,
        "max_frames": int(max_frames) if max_frames else limits.max_frames,
    }
    if isinstance(ref, VideoClip):
        element.update(video=_uri(ref.path), video_start=ref.start, video_end=ref.end)
    elif isinstance(ref, (str, Path)):
        if str(ref).startswith(("http://", "https://")):
            raise InputRejectedError(
                f"video URLs are not fetched by the reranker ({str(ref)[:200]!r}); download it first"
            )
        element["video"] = _uri(_local_path(ref))
    else:
        raise InputRejectedError(f"a video must be a file path or a list of frames, got {type(ref).__name__}")
    if limits.video_file_total_pixels:
        element["total_pixels"] = limits.video_file_total_pixels
    return element


# -- checks that must not wait for a model ----------------------------------------------------------
def _require_file(path: str, what: str) -> None:
    if not Path(path).is_file():
        raise InputRejectedError(f"{what} not found: {path}")


def check_video(ref: Any, limits: VisionLimits) -> None:
    """Refuse missing files and videos over the duration limit (named by its setting)."""
    if isinstance(ref, (list, tuple)):
        for frame in ref:
            if isinstance(frame, (str, Path)) and not str(frame).startswith(("http://", "https://", "data:")):
                _require_file(_local_path(frame), "video frame")
        return
    if not isinstance(ref, (str, Path, VideoClip)):
        raise InputRejectedError(f"a video must be a file path or a list of frames, got {type(ref).__name__}")
    from vlsearch.media import probe_video
    from vlsearch.media.video import check_duration

    path = _local_path(ref.path if isinstance(ref, VideoClip) else ref)
    if str(path).startswith(("http://", "https://")):
        raise InputRejectedError(
            f"video URLs are not fetched by the reranker ({path[:200]!r}); download it first"
        )
    _require_file(path, "video file")
    info = probe_video(Path(path), name=Path(path).name)
    if isinstance(ref, VideoClip):
        end = min(ref.end, info.duration) if info.duration > 0 else ref.end
        info = replace(info, duration=max(0.0, end - ref.start))
    check_duration(
        info,
        max_seconds=limits.max_video_seconds,
        setting=limits.duration_setting,
        label=Path(path).name,
    )


def check_side(side: SideContent, limits: VisionLimits) -> None:
    """Every video of a side is readable and within the duration limit; images exist."""
    for image in side.images:
        if isinstance(image, (str, Path)) and not str(image).startswith(("http://", "https://", "data:")):
            _require_file(_local_path(image), "image")
    for video in side.videos:
        check_video(video, limits)


# -- fetching -------------------------------------------------------------------------------------
def fetch_image(ref: Any, limits: VisionLimits) -> Image.Image:
    from PIL import Image

    element = image_element(ref, limits)
    try:
        image: Image.Image = qwen_vl_utils().fetch_image(element, image_patch_size=IMAGE_PATCH_SIZE)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise InputRejectedError(f"cannot read image {_label(ref)}: {exc}") from exc
    return image


def fetch_video(
    ref: Any, limits: VisionLimits, *, fps: float | None = None, max_frames: int | None = None
) -> PreparedVideo:
    element = video_element(ref, limits, fps=fps, max_frames=max_frames)
    try:
        frames, metadata = qwen_vl_utils().fetch_video(
            element, image_patch_size=IMAGE_PATCH_SIZE, return_video_metadata=True
        )
    except InputRejectedError:
        raise
    except Exception as exc:
        # decord errors surface as its own types (or, after qwen-vl-utils' fallback, torchvision's):
        # any failure here is this one input's problem, reported with what was being read.
        raise InputRejectedError(f"cannot decode video {_label(ref)}: {type(exc).__name__}: {exc}") from exc
    return PreparedVideo(frames=frames, metadata=dict(metadata))


def fetch_side(
    side: SideContent, limits: VisionLimits, *, fps: float | None = None, max_frames: int | None = None
) -> tuple[list[Image.Image], list[PreparedVideo]]:
    images = [fetch_image(ref, limits) for ref in side.images]
    videos = [fetch_video(ref, limits, fps=fps, max_frames=max_frames) for ref in side.videos]
    return images, videos


def fetch_sides(
    sides: Sequence[SideContent],
    limits: VisionLimits,
    *,
    fps: float | None = None,
    max_frames: int | None = None,
    max_workers: int = 8,
) -> list[tuple[list[Image.Image], list[PreparedVideo]]]:
    """`fetch_side` for many sides, in input order; sides with media are fetched in threads."""
    from concurrent.futures import ThreadPoolExecutor

    def one(side: SideContent) -> tuple[list[Image.Image], list[PreparedVideo]]:
        return fetch_side(side, limits, fps=fps, max_frames=max_frames)

    visual = [i for i, side in enumerate(sides) if side.images or side.videos]
    out: list[tuple[list[Image.Image], list[PreparedVideo]]] = [([], []) for _ in sides]
    workers = min(max_workers, os.cpu_count() or 1, len(visual))
    if workers <= 1:
        for i in visual:
            out[i] = one(sides[i])
        return out
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rerank-media") as pool:
        for i, fetched in zip(visual, pool.map(one, [sides[i] for i in visual]), strict=True):
            out[i] = fetched
    return out


def _label(ref: Any) -> str:
    if isinstance(ref, (list, tuple)):
        return f"({len(ref)} frames, first {_label(ref[0]) if ref else '-'})"
    text = str(ref) if isinstance(ref, (str, Path, VideoClip)) else type(ref).__name__
    return repr(text[:200])
