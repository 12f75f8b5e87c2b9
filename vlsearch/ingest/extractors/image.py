"""Standalone images (photos, screenshots): one checked, upright ImageBlock of kind "photo"."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from vlsearch.ingest.limits import Limits
from vlsearch.types import Extraction, ImageBlock, Locator, Modality

if TYPE_CHECKING:
    from vlsearch.media.limits import MediaLimits


def extract_image(path: Path, *, limits: Limits | MediaLimits) -> Extraction:
    """Validate and normalise an image file.

    The header is checked against max_image_pixels before decoding; the first frame of GIF/TIFF/WebP
    is used; EXIF orientation is applied; the result is RGB with long side ≤ 1600 px, PNG for
    lossless sources (screenshots, figures) and JPEG for photos. Re-encoding from the decoded pixels
    also drops metadata such as GPS tags. The block's context is the file name in words, often the
    only description a photo has. Raises TooLargeError over the limits and ExtractionError for
    corrupt, truncated or non-image content.
    """
    # imported here so text-only ingestion never pays for the media stack
    from vlsearch.media import NORMALISED_LONG_SIDE, MediaLimits, encode_image, fit_within, load_image
    from vlsearch.media.images import lossless_source

    media_limits = MediaLimits.coerce(limits)
    loaded = load_image(path, max_pixels=media_limits.max_image_pixels, max_bytes=media_limits.max_file_bytes)
    upright = fit_within(loaded.image, NORMALISED_LONG_SIDE)
    data = encode_image(upright, fmt="PNG" if lossless_source(loaded.format) else "JPEG", quality=92)
    title = path.stem.replace("_", " ").replace("-", " ").strip()
    warnings: tuple[str, ...] = ()
    if loaded.frames > 1:
        warnings = (f"{loaded.format} has {loaded.frames} frames/pages; only the first is indexed",)
    return Extraction(
        doc_type="image",
        title=title,
        images=(
            ImageBlock(data=data, locator=Locator(), modality=Modality.IMAGE, context=title, kind="photo"),
        ),
        warnings=warnings,
        meta={
            "format": loaded.format,
            "width": loaded.width,
            "height": loaded.height,
            "frames": loaded.frames,
            "stored_width": upright.width,
            "stored_height": upright.height,
        },
    )
