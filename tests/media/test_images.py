"""Image loading, limits, corrupt inputs and stored variants."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from vlsearch.errors import ExtractionError, InputRejectedError, TooLargeError
from vlsearch.ingest.extractors.image import extract_image
from vlsearch.ingest.limits import Limits
from vlsearch.media import MediaLimits, load_image, save_image_variants, sniff_image_format
from vlsearch.types import Modality

MAX_PIXELS = 40_000_000


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("astronaut.png", "PNG"),
        ("camera.png", "PNG"),  # greyscale
        ("hubble_deep_field.jpg", "JPEG"),
        ("multipage.tif", "TIFF"),
        ("no_time_for_that_tiny.gif", "GIF"),
    ],
)
def test_skimage_samples_load_as_rgb(skdata: Path, name: str, fmt: str) -> None:
    loaded = load_image(skdata / name, max_pixels=MAX_PIXELS)
    assert loaded.format == fmt
    assert loaded.image.mode == "RGB"
    assert loaded.image.size == (loaded.width, loaded.height)
    assert loaded.width >= 10 and loaded.height >= 10


def test_unsupported_tiff_variant_is_a_clear_error(skdata: Path) -> None:
    # this planar RGB TIFF is valid but beyond Pillow; the error must say so, not crash
    with pytest.raises(ExtractionError, match="variant Pillow does not support"):
        load_image(skdata / "multipage_rgb.tif", max_pixels=MAX_PIXELS)


def test_multi_frame_sources_use_the_first_frame(skdata: Path) -> None:
    gif = load_image(skdata / "no_time_for_that_tiny.gif", max_pixels=MAX_PIXELS)
    tif = load_image(skdata / "multipage.tif", max_pixels=MAX_PIXELS)
    assert gif.frames > 1 and tif.frames > 1
    with Image.open(skdata / "no_time_for_that_tiny.gif") as raw:
        raw.seek(0)
        first = raw.convert("RGB")
    assert gif.image.tobytes() == first.tobytes()


@pytest.mark.parametrize("fmt", ["BMP", "WEBP", "TIFF"])
def test_other_formats_round_trip(skdata: Path, fmt: str) -> None:
    src = Image.open(skdata / "chelsea.png").convert("RGB")
    buf = io.BytesIO()
    src.save(buf, format=fmt)
    loaded = load_image(buf.getvalue(), max_pixels=MAX_PIXELS)
    assert loaded.format == fmt
    assert loaded.image.size == src.size


def test_exif_orientation_is_applied() -> None:
    img = Image.new("RGB", (200, 100), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: rotate 90° clockwise to display
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif)
    loaded = load_image(buf.getvalue(), max_pixels=MAX_PIXELS)
    assert (loaded.width, loaded.height) == (100, 200)
    assert loaded.orientation == 6


def test_transparency_becomes_white() -> None:
    img = Image.new("RGBA", (20, 20), (0, 0, 0, 0))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    loaded = load_image(buf.getvalue(), max_pixels=MAX_PIXELS)
    assert loaded.image.getpixel((5, 5)) == (255, 255, 255)


def test_decompression_bomb_refused_naming_the_limit(broken: dict[str, Path]) -> None:
    with pytest.raises(TooLargeError, match="max_image_pixels"):
        load_image(broken["bomb.png"], max_pixels=MAX_PIXELS)


def test_own_pixel_limit_checked_from_header(broken: dict[str, Path]) -> None:
    # 49 MP is under Pillow's guard: only our header check can refuse it
    with pytest.raises(TooLargeError, match=r"7000x7000 .*max_image_pixels=40,000,000"):
        load_image(broken["over_limit.png"], max_pixels=MAX_PIXELS)
    # with the limit raised the header passes and the (missing) pixel data is what fails
    with pytest.raises(ExtractionError, match="cannot be decoded"):
        load_image(broken["over_limit.png"], max_pixels=50_000_000)


def test_html_disguised_as_png(broken: dict[str, Path]) -> None:
    with pytest.raises(ExtractionError, match="looks like HTML"):
        load_image(broken["page.png"], max_pixels=MAX_PIXELS)


def test_truncated_jpeg(broken: dict[str, Path]) -> None:
    with pytest.raises(ExtractionError, match="truncated"):
        load_image(broken["truncated.jpg"], max_pixels=MAX_PIXELS)


def test_corrupt_png(broken: dict[str, Path]) -> None:
    with pytest.raises(ExtractionError, match=r"PNG image is (corrupt|truncated)"):
        load_image(broken["corrupt.png"], max_pixels=MAX_PIXELS)


def test_empty_file(broken: dict[str, Path]) -> None:
    with pytest.raises(ExtractionError, match="empty"):
        load_image(broken["empty.png"], max_pixels=MAX_PIXELS)


def test_file_size_limit(skdata: Path) -> None:
    with pytest.raises(TooLargeError, match="MAX_FILE_MB"):
        load_image(skdata / "astronaut.png", max_pixels=MAX_PIXELS, max_bytes=10_000)


def test_sniff_image_format() -> None:
    assert sniff_image_format(b"GIF89a....") == "GIF"
    assert sniff_image_format(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "WEBP"
    assert sniff_image_format(b"<html>") is None


def test_extract_image_with_ingest_limits(demo_media: dict[str, Path]) -> None:
    extraction = extract_image(demo_media["rack"], limits=Limits())
    assert extraction.doc_type == "image"
    assert len(extraction.images) == 1
    block = extraction.images[0]
    assert block.modality == Modality.IMAGE and block.kind == "photo"
    assert block.context == "node07 rack warning"
    stored = Image.open(io.BytesIO(block.data))
    assert stored.format == "JPEG" and stored.size == (1024, 768)
    assert extraction.meta["format"] == "JPEG"


def test_extract_image_downscales_and_keeps_figures_lossless(tmp_path: Path) -> None:
    path = tmp_path / "wide_figure.png"
    Image.new("RGB", (4000, 1000), (10, 120, 200)).save(path)
    extraction = extract_image(path, limits=MediaLimits())
    stored = Image.open(io.BytesIO(extraction.images[0].data))
    assert stored.format == "PNG" and stored.size == (1600, 400)


def test_extract_image_failures_are_input_errors(broken: dict[str, Path]) -> None:
    for name in ("bomb.png", "page.png", "truncated.jpg", "corrupt.png", "empty.png"):
        with pytest.raises(InputRejectedError, match=name):
            extract_image(broken[name], limits=Limits())


def test_save_image_variants(tmp_path: Path, demo_media: dict[str, Path]) -> None:
    data_dir = tmp_path / "data"
    folder = data_dir / "media" / "doc1"
    big = Image.new("RGB", (3200, 1800), (40, 90, 160))
    photo = save_image_variants(big, folder=folder, stem="item-1", data_dir=data_dir)
    assert photo == ("media/doc1/item-1.jpg", "media/doc1/item-1.thumb.jpg")
    assert Image.open(data_dir / photo.media).size == (1600, 900)
    assert Image.open(data_dir / photo.thumbnail).size == (320, 180)
    figure = save_image_variants(
        demo_media["figure"].read_bytes(), folder=folder, stem="fig/2", data_dir=data_dir
    )
    assert figure.media.endswith(".png") and "/" not in Path(figure.media).name
    again = save_image_variants(
        demo_media["figure"].read_bytes(), folder=folder, stem="fig/2", data_dir=data_dir
    )
    assert again == figure  # deterministic names: re-ingest overwrites
    assert len(list(folder.iterdir())) == 4
