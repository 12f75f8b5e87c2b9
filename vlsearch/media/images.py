"""Image sniffing and safe loading: size limits checked before any pixel is decoded."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from vlsearch.errors import ExtractionError, TooLargeError
from vlsearch.media.limits import check_file_size

# Formats we accept, keyed by the Pillow plugin name; Image.open is restricted to these so a file
# cannot smuggle in one of Pillow's rarer (and less hardened) decoders.
ALLOWED_FORMATS: tuple[str, ...] = ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP")

# Long side of the normalised copy we store and hand to OCR and multimodal models.
NORMALISED_LONG_SIDE = 1600


def sniff_image_format(head: bytes) -> str | None:
    """Return the Pillow format name of an image from its first bytes, or None when it is not one."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head.startswith(b"BM") and len(head) >= 26:
        return "BMP"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


def describe_content(head: bytes) -> str:
    """A short guess at what non-image bytes are, for error messages."""
    text = head.lstrip().lower()
    if not head:
        return "an empty file"
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in text[:512]:
        return "HTML"
    if text.startswith(b"<?xml") or text.startswith(b"<svg"):
        return "XML/SVG"
    if head.startswith(b"%PDF"):
        return "a PDF"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "unrecognised binary data"
    return "text"


@dataclass(frozen=True)
class LoadedImage:
    """A decoded RGB image and what its header said."""

    image: Image.Image  # RGB, EXIF orientation applied, first frame of animations / multi-page files
    format: str  # Pillow format name of the source
    width: int  # after orientation
    height: int
    frames: int  # frames/pages in the source (GIF, TIFF, WebP); 1 otherwise
    source_mode: str = "RGB"  # Pillow mode of the stored pixels (RGBA, P, L, CMYK, ...)
    orientation: int = 1  # EXIF orientation of the source; 1 = stored upright


def load_image(
    source: Path | bytes,
    *,
    max_pixels: int,
    max_bytes: int | None = None,
    name: str = "",
) -> LoadedImage:
    """Decode an image safely.

    Checks, in order: file size (`max_bytes`), magic bytes, header dimensions against `max_pixels`
    (before decoding, so decompression bombs cost nothing), then decodes the first frame, applies the
    EXIF orientation and converts to RGB. Raises TooLargeError for limits and ExtractionError for
    anything that is not a whole, readable image.
    """
    label = name or (source.name if isinstance(source, Path) else "image")
    data = _read_bytes(source, max_bytes=max_bytes, label=label)
    fmt = sniff_image_format(data[:32])
    if fmt is None:
        raise ExtractionError(
            f"{label}: not a supported image (content looks like {describe_content(data[:1024])}); "
            f"supported formats: {', '.join(ALLOWED_FORMATS)}"
        )
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb guard stays on: its warning becomes an error here, not a log line.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=[fmt])
            width, height = img.size
            _check_pixels(width, height, max_pixels=max_pixels, label=label)
            frames = int(getattr(img, "n_frames", 1) or 1)
            if frames > 1:
                img.seek(0)
            img.load()
            source_mode = img.mode
            orientation = int(img.getexif().get(0x0112, 1) or 1)
            oriented = ImageOps.exif_transpose(img)
            rgb = _to_rgb(oriented)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise TooLargeError(
            f"{label}: image dimensions exceed the decoder safety limit "
            f"(max_image_pixels={max_pixels:,}): {exc}"
        ) from exc
    except UnidentifiedImageError as exc:
        raise ExtractionError(
            f"{label}: {fmt} header cannot be read; the file is corrupt or uses a {fmt} variant "
            "Pillow does not support (convert it to PNG or JPEG)"
        ) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        # Pillow reports truncated and corrupt data as OSError/SyntaxError/ValueError.
        reason = "truncated" if "truncated" in str(exc).lower() else "corrupt"
        raise ExtractionError(f"{label}: {fmt} image is {reason} and cannot be decoded ({exc})") from exc
    return LoadedImage(
        image=rgb,
        format=fmt,
        width=rgb.width,
        height=rgb.height,
        frames=frames,
        source_mode=source_mode,
        orientation=orientation,
    )


def _read_bytes(source: Path | bytes, *, max_bytes: int | None, label: str) -> bytes:
    check_file_size(source, max_bytes=max_bytes, label=label)
    if isinstance(source, bytes):
        return source
    return source.read_bytes()


def _check_pixels(width: int, height: int, *, max_pixels: int, label: str) -> None:
    if width <= 0 or height <= 0:
        raise ExtractionError(
            f"{label}: header gives an empty image size {width}x{height}; the file is corrupt"
        )
    if width * height > max_pixels:
        raise TooLargeError(
            f"{label}: header declares {width}x{height} = {width * height:,} pixels, over "
            f"max_image_pixels={max_pixels:,}; refused before decoding (possible decompression bomb; "
            "raise VLSEARCH_MAX_IMAGE_PIXELS if the image is genuine)"
        )


def _to_rgb(img: Image.Image) -> Image.Image:
    """RGB on a white background: transparent areas of logos and figures must not turn black."""
    if img.mode == "RGB":
        return img.copy()
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, (255, 255, 255))
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale (TIFF scans): scale to 8 bits instead of clipping to white.
        import numpy as np

        arr = np.asarray(img, dtype=np.float64)
        top = float(arr.max()) or 1.0
        return Image.fromarray((arr * (255.0 / top)).astype("uint8"), mode="L").convert("RGB")
    return img.convert("RGB")


def fit_within(img: Image.Image, long_side: int) -> Image.Image:
    """Downscale (never upscale) so the longer side is at most `long_side`."""
    if max(img.size) <= long_side:
        return img
    scale = long_side / max(img.size)
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    return img.resize(size, Image.Resampling.LANCZOS)


def encode_image(img: Image.Image, *, fmt: str = "JPEG", quality: int = 90) -> bytes:
    """Encode an RGB image as JPEG or PNG bytes."""
    buf = io.BytesIO()
    if fmt == "PNG":
        img.save(buf, format="PNG", optimize=False, compress_level=6)
    else:
        img.save(buf, format="JPEG", quality=quality, optimize=True)
    return buf.getvalue()


def lossless_source(fmt: str) -> bool:
    """Whether a source format is usually a screenshot/figure, so its copy should stay lossless."""
    return fmt in ("PNG", "GIF", "BMP", "TIFF")
