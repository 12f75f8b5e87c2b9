"""Turning embedded image bytes into checked PNG/JPEG figures, with a per-document cap."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field

from PIL import Image, UnidentifiedImageError

from vlsearch.ingest.limits import Limits
from vlsearch.types import ImageBlock, Locator

MIN_FIGURE_SIDE = 32  # icons, bullets and spacer pixels are not worth indexing


@dataclass
class FigureCollector:
    """Accumulates figures for one document, enforcing size and count limits.

    Skipped figures become warnings on the Extraction instead of failing the document.
    """

    limits: Limits
    images: list[ImageBlock] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _over_cap: int = 0

    @property
    def full(self) -> bool:
        return len(self.images) >= self.limits.max_figures_per_doc

    def add(self, data: bytes, *, locator: Locator, context: str, what: str) -> bool:
        """Normalise and keep one figure; False when it was skipped (too small, too big, unreadable)."""
        if self.full:
            self._over_cap += 1
            return False
        encoded = self._normalise(data, what)
        if encoded is None:
            return False
        self.images.append(ImageBlock(data=encoded, locator=locator, context=context.strip(), kind="figure"))
        return True

    def finish(self) -> tuple[tuple[ImageBlock, ...], tuple[str, ...]]:
        notes = list(self.warnings)
        if self._over_cap:
            notes.append(
                f"{self._over_cap} more figures skipped: over the limit of "
                f"{self.limits.max_figures_per_doc} figures per document"
            )
        return tuple(self.images), tuple(notes)

    def _normalise(self, data: bytes, what: str) -> bytes | None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(io.BytesIO(data)) as img:
                    width, height = img.size
                    if min(width, height) < MIN_FIGURE_SIDE:
                        return None
                    if width * height > self.limits.max_image_pixels:
                        self.warnings.append(
                            f"{what}: {width}x{height} image skipped, over the "
                            f"{self.limits.max_image_pixels} pixel limit"
                        )
                        return None
                    # decode now, inside the extraction worker: a truncated or corrupt figure is a
                    # warning here, instead of failing the whole document when it is stored later
                    img.load()
                    if img.format in ("PNG", "JPEG"):
                        return data
                    img.seek(0)
                    rgb = img.convert("RGBA" if "A" in img.getbands() or img.mode == "P" else "RGB")
                    out = io.BytesIO()
                    rgb.save(out, format="PNG")
                    return out.getvalue()
        except (
            UnidentifiedImageError,
            OSError,
            ValueError,
            Image.DecompressionBombWarning,
            Image.DecompressionBombError,
        ) as exc:
            self.warnings.append(f"{what}: image skipped, unreadable or unsupported format ({exc})")
            return None
