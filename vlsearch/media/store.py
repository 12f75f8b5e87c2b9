"""Writing the stored copy and thumbnail of an image row under the media dir."""

from __future__ import annotations

import hashlib
import io
import os
import re
from pathlib import Path
from typing import NamedTuple

from PIL import Image

from vlsearch.media.images import NORMALISED_LONG_SIDE, encode_image, fit_within, sniff_image_format

THUMBNAIL_LONG_SIDE = 320
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


class StoredMedia(NamedTuple):
    """Paths relative to the data dir, as Item.media / Item.thumbnail hold them."""

    media: str
    thumbnail: str


def media_stem(item_id: str) -> str:
    """A file-name-safe stem for an item id; ids that are not plain tokens are hashed."""
    if _SAFE_ID.match(item_id):
        return item_id
    return hashlib.sha256(item_id.encode("utf-8")).hexdigest()[:40]


def save_image_variants(
    data: bytes | Image.Image,
    *,
    folder: Path,
    stem: str,
    data_dir: Path,
    keep_encoded: bool = False,
) -> StoredMedia:
    """Write `<folder>/<stem>.{png|jpg}` (long side ≤ 1600) and `<folder>/<stem>.thumb.jpg` (≤ 320 px).

    `data` is an ImageBlock's encoded bytes (already validated by the extractor) or a PIL image.
    PNG input stays PNG so figures keep crisp text; everything else is stored as JPEG. Names depend
    only on the stem (an item id; made file-name safe), so re-ingesting a document overwrites its
    files instead of adding copies. Returns (media, thumbnail) relative to `data_dir`, POSIX style.
    `keep_encoded`: bytes already fit to size (a page preview) are written as they are, not re-encoded.
    """
    if isinstance(data, Image.Image):
        img, lossless = data, False
    else:
        img = Image.open(io.BytesIO(data))
        img.load()
        lossless = sniff_image_format(data[:32]) == "PNG"
    if img.mode != "RGB":
        img = img.convert("RGB")
    safe = media_stem(stem)
    folder.mkdir(parents=True, exist_ok=True)
    main_path = folder / f"{safe}.{'png' if lossless else 'jpg'}"
    thumb_path = folder / f"{safe}.thumb.jpg"
    main = fit_within(img, NORMALISED_LONG_SIDE)
    as_is = isinstance(data, bytes) and sniff_image_format(data[:32]) in ("PNG", "JPEG")
    if keep_encoded and as_is and main is img:
        atomic_write(main_path, data)  # type: ignore[arg-type]
    else:
        atomic_write(main_path, encode_image(main, fmt="PNG" if lossless else "JPEG"))
    atomic_write(thumb_path, encode_image(fit_within(img, THUMBNAIL_LONG_SIDE), quality=80))
    base = data_dir.resolve()
    return StoredMedia(
        media=main_path.resolve().relative_to(base).as_posix(),
        thumbnail=thumb_path.resolve().relative_to(base).as_posix(),
    )


def atomic_write(path: Path, payload: bytes) -> None:
    # Readers (the API serving thumbnails) must never see a half-written file.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(payload)
    os.replace(tmp, path)
