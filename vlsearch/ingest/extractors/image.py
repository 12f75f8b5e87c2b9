"""Standalone image files: one IMAGE ImageBlock holding a validated, normalised copy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vlsearch.media.images import NORMALISED_LONG_SIDE, encode_image, fit_within, load_image, lossless_source
from vlsearch.media.limits import MediaLimits
from vlsearch.types import Extraction, ImageBlock, Locator, Modality


def extract_image(path: Path, *, limits: Any) -> Extraction:
    """Validate and normalise an image file.

    `limits` is the ingest Limits (or MediaLimits / Settings-like object, see MediaLimits.coerce).
    The header is checked against max_image_pixels before decoding; the first frame of GIF/TIFF/WebP
    is used; EXIF orientation is applied; the result is RGB with long side ≤ 1600 px, PNG for
    lossless sources (screenshots, figures) and JPEG for photos. The block's context is the file
    name in words, which is often the only description a photo has. Raises TooLargeError over the
    limits and ExtractionError for corrupt, truncated or non-image content.
    """
    media_limits = MediaLimits.coerce(limits)
    loaded = load_image(path, max_pixels=media_limits.max_image_pixels, max_bytes=media_limits.max_file_bytes)
    lossless = lossless_source(loaded.format)
    normalised = fit_within(loaded.image, NORMALISED_LONG_SIDE)
    data = encode_image(normalised, fmt="PNG" if lossless else "JPEG", quality=92)
    title = path.stem.replace("_", " ").replace("-", " ").strip()
    warnings: tuple[str, ...] = ()
    if loaded.frames > 1:
        warnings = (f"{loaded.format} has {loaded.frames} frames/pages; only the first is indexed",)
    return Extraction(
        doc_type="image",
        title=title,
        images=(
            ImageBlock(
                data=data,
                locator=Locator(),
                modality=Modality.IMAGE,
                context=title,
                kind="photo",
            ),
        ),
        warnings=warnings,
        meta={
            "format": loaded.format,
            "width": loaded.width,
            "height": loaded.height,
            "frames": loaded.frames,
            "stored_width": normalised.width,
            "stored_height": normalised.height,
        },
    )
