"""Turn a query's image or video into searchable text (OCR) and frames for multimodal models."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vlsearch.media.images import NORMALISED_LONG_SIDE, encode_image, fit_within, load_image
from vlsearch.media.keyframes import KeyframeSampler, sample_keyframes
from vlsearch.media.limits import MediaLimits
from vlsearch.media.ocr import OcrEngine
from vlsearch.media.store import atomic_write


@dataclass(frozen=True)
class QueryMedia:
    """What a query's media contributes.

    texts: distinct non-empty OCR texts, images first, then video frames in time order. There is no
        caption model on the CPU path, so a photo without legible text contributes no text at all.
    image_texts: the OCR text of each query image, in order ("" where nothing was legible).
    video_text: the video's distinct frame texts in time order, one per line ("" without a video).
    image_paths: absolute paths of the query images, each validated and at most 1600 px on its long
        side (a normalised copy is written next to any larger or non-JPEG/PNG original).
    frame_paths: absolute paths of the query video's keyframes in time order (for EmbedInput.video_frames
        or a multimodal reranker); written to a "<video>.frames" folder next to the video.
    frame_times: (t_start, t_end) of each frame in seconds.
    """

    texts: tuple[str, ...] = ()
    image_texts: tuple[str, ...] = ()
    video_text: str = ""
    image_paths: tuple[str, ...] = ()
    frame_paths: tuple[str, ...] = ()
    frame_times: tuple[tuple[float, float], ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    @property
    def part_texts(self) -> tuple[str, ...]:
        """What each medium says, one entry per image and one for the video (empty ones left out):
        the search retrieves with each as a part of the query of its own (see Searcher.retrieve)."""
        return tuple(t for t in (*self.image_texts, self.video_text) if t)


class QueryMediaReader:
    """Validate and digest query media under the query limits (max_query_video_seconds).

    Cheap to build; OCR loads on first use. Files are written next to the query media (the API's
    per-request folder), so they go away with it.
    """

    def __init__(self, *, ocr: OcrEngine | None, settings: Any, max_frames: int = 16) -> None:
        self.ocr = ocr
        self.limits = MediaLimits.from_settings(settings, query=True)
        self.sampler = KeyframeSampler(
            fps=self.limits.keyframe_fps, max_frames=min(max_frames, self.limits.max_keyframes)
        )

    def read(
        self, *, image_paths: Sequence[str | Path] = (), video_path: str | Path | None = None
    ) -> QueryMedia:
        """Digest all media of one query. Raises TooLargeError / ExtractionError naming the file."""
        texts: list[str] = []
        image_texts: list[str] = []
        video_texts: list[str] = []
        images: list[str] = []
        frames: list[str] = []
        times: list[tuple[float, float]] = []
        warnings: list[str] = []
        for raw in image_paths:
            path, text = self._image(Path(raw))
            images.append(str(path))
            image_texts.append(text.strip())
            _add_text(texts, text)
        if video_path is not None:
            video = Path(video_path)
            result = sample_keyframes(
                video, limits=self.limits, setting="max_query_video_seconds", sampler=self.sampler
            )
            warnings.extend(result.warnings)
            folder = video.with_name(video.name + ".frames")
            folder.mkdir(parents=True, exist_ok=True)
            for i, frame in enumerate(result.keyframes):
                out = folder / f"frame{i:03d}.jpg"
                atomic_write(out, frame.data)
                frames.append(str(out.resolve()))
                times.append((frame.t_start, frame.t_end))
                if self.ocr is not None:
                    frame_text = self.ocr.read(frame.data).text
                    _add_text(texts, frame_text)
                    _add_text(video_texts, frame_text)
        return QueryMedia(
            texts=tuple(texts),
            image_texts=tuple(image_texts),
            video_text="\n".join(video_texts),
            image_paths=tuple(images),
            frame_paths=tuple(frames),
            frame_times=tuple(times),
            warnings=tuple(warnings),
        )

    def _image(self, path: Path) -> tuple[Path, str]:
        loaded = load_image(
            path, max_pixels=self.limits.max_image_pixels, max_bytes=self.limits.max_file_bytes
        )
        normalised = fit_within(loaded.image, NORMALISED_LONG_SIDE)
        usable_as_is = (
            normalised.size == loaded.image.size
            and loaded.format in ("JPEG", "PNG")
            and loaded.source_mode == "RGB"
            and loaded.orientation == 1
            and loaded.frames == 1
        )
        if not usable_as_is:
            # models read upright RGB JPEG/PNG reliably; anything else (rotated by EXIF, alpha,
            # TIFF/BMP/WebP/GIF, over 1600 px) is handed over as a normalised copy
            out = path.with_name(path.name + ".query.jpg")
            atomic_write(out, encode_image(normalised, quality=92))
            path = out
        text = self.ocr.read(normalised).text if self.ocr is not None else ""
        return path.resolve(), text


def _add_text(texts: list[str], text: str) -> None:
    text = text.strip()
    if text and text not in texts:
        texts.append(text)
