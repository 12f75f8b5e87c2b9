"""OCR for images, page renders and keyframes (rapidocr 3.x, Chinese + English, models in its wheel)."""

from __future__ import annotations

import io
import threading
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from vlsearch.errors import ModelUnavailableError
from vlsearch.media.images import fit_within

Box = tuple[tuple[float, float], tuple[float, float], tuple[float, float], tuple[float, float]]


@dataclass(frozen=True)
class OcrLine:
    text: str
    score: float  # recognition confidence in [0, 1]
    box: Box  # four corner points (x, y) in pixels of the image passed to read()

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """Axis-aligned x0, y0, x1, y1 around the (possibly rotated) box."""
        xs = [p[0] for p in self.box]
        ys = [p[1] for p in self.box]
        return (min(xs), min(ys), max(xs), max(ys))


@dataclass(frozen=True)
class OcrResult:
    text: str  # lines in reading order joined by "\n"; "" when nothing was read
    lines: tuple[OcrLine, ...] = ()
    elapsed_ms: float = 0.0
    width: int = 0  # size of the image read, which the line boxes are in
    height: int = 0


@dataclass(frozen=True)
class OcrSpec:
    """An OcrEngine's settings, picklable: what an extraction worker builds its own engine from."""

    max_side: int = 2000
    det_side: int = 960
    min_score: float = 0.5
    use_angle_cls: bool = False
    threads: int = 0


class OcrEngine:
    """rapidocr behind a cheap constructor; `load()` builds the ONNX sessions once.

    Speed on 2 cores comes from bounding the work: the image is shrunk so its long side is at most
    `max_side` before anything else, and detection runs on a copy whose long side is at most
    `det_side` (rapidocr's default instead *upscales* the short side to 736, several times slower on
    wide frames). Recognition still reads crops from the `max_side` image, so small text survives.
    """

    def __init__(
        self,
        *,
        max_side: int = 2000,
        det_side: int = 960,
        min_score: float = 0.5,
        use_angle_cls: bool = False,
        threads: int = 0,
    ) -> None:
        self.max_side = max_side
        self.det_side = det_side
        self.min_score = min_score
        self.use_angle_cls = use_angle_cls
        self.threads = threads  # 0 = onnxruntime's default (all cores)
        self._engine: Any = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._engine is not None

    @property
    def spec(self) -> OcrSpec:
        # OcrSpec's fields are this engine's settings, by the same names
        return OcrSpec(**{f.name: getattr(self, f.name) for f in fields(OcrSpec)})

    @classmethod
    def from_spec(cls, spec: OcrSpec) -> OcrEngine:
        return cls(**asdict(spec))

    def load(self) -> None:
        """Create the rapidocr pipeline. Safe to call twice and from several threads."""
        if self._engine is not None:
            return
        with self._lock:
            if self._engine is not None:
                return
            try:
                from rapidocr import RapidOCR
            except ImportError as exc:
                raise ModelUnavailableError(
                    f"OCR needs rapidocr and onnxruntime ({exc}); pip install rapidocr onnxruntime"
                ) from exc
            threads = self.threads if self.threads > 0 else -1
            params = {
                "Global.log_level": "error",  # an image without text is normal, not a warning
                "Global.text_score": self.min_score,
                "Global.use_cls": self.use_angle_cls,
                "Global.max_side_len": self.max_side,
                "Det.limit_type": "max",
                "Det.limit_side_len": self.det_side,
                "EngineConfig.onnxruntime.intra_op_num_threads": threads,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            }
            engine = RapidOCR(params=params)
            # rapidocr builds its ONNX sessions lazily on the first image; do it here so the first
            # real request does not pay for it and a broken install fails at load().
            engine(np.full((48, 160, 3), 255, dtype=np.uint8))
            self._engine = engine

    def unload(self) -> None:
        with self._lock:
            self._engine = None

    def read(self, image: Image.Image | np.ndarray | bytes | Path) -> OcrResult:
        """OCR one image. Accepts a PIL image, an RGB uint8 array, encoded bytes or a path."""
        self.load()
        img = _as_rgb_image(image)
        scaled = fit_within(img, self.max_side)
        scale_back = img.width / scaled.width if scaled.width else 1.0
        started = time.perf_counter()
        out = self._engine(np.asarray(scaled))
        elapsed = (time.perf_counter() - started) * 1000.0
        txts = getattr(out, "txts", None)
        if not txts:
            return OcrResult(text="", lines=(), elapsed_ms=elapsed, width=img.width, height=img.height)
        lines: list[OcrLine] = []
        for text, score, box in zip(txts, out.scores, out.boxes, strict=True):
            cleaned = str(text).strip()
            if not any(ch.isalnum() for ch in cleaned):
                continue  # LEDs, screws and rails read as "●" or "_": symbols alone are never text
            points = tuple((float(x) * scale_back, float(y) * scale_back) for x, y in np.asarray(box)[:4])
            lines.append(OcrLine(text=cleaned, score=float(score), box=points))  # type: ignore[arg-type]
        return OcrResult(
            text="\n".join(line.text for line in lines),
            lines=tuple(lines),
            elapsed_ms=elapsed,
            width=img.width,
            height=img.height,
        )


def _as_rgb_image(image: Image.Image | np.ndarray | bytes | Path) -> Image.Image:
    if isinstance(image, Image.Image):
        return image if image.mode == "RGB" else image.convert("RGB")
    if isinstance(image, np.ndarray):
        return Image.fromarray(image).convert("RGB")
    if isinstance(image, bytes):
        with Image.open(io.BytesIO(image)) as img:
            return img.convert("RGB")
    with Image.open(image) as img:
        return img.convert("RGB")
