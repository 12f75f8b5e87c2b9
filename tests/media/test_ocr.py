"""OCR, visual enrichment of extractions and query media, on real rapidocr models."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from vlsearch.config import get_settings
from vlsearch.demo.media import LED_CODES, RACK_LABEL, RACKING_STEPS
from vlsearch.errors import ExtractionError, TooLargeError
from vlsearch.ingest.extractors.image import extract_image
from vlsearch.ingest.extractors.video import extract_video
from vlsearch.ingest.limits import Limits
from vlsearch.ingest.visual import VisualEnricher, merge_context
from vlsearch.media.ocr import OcrEngine
from vlsearch.retrieve.query_media import QueryMediaReader
from vlsearch.types import Extraction, ImageBlock, Locator, TextBlock


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def test_engine_is_cheap_until_loaded() -> None:
    engine = OcrEngine()
    assert not engine.loaded
    engine.load()
    engine.load()  # idempotent
    assert engine.loaded


def test_reads_node_label_from_rack_photo(ocr: OcrEngine, demo_media: dict[str, Path]) -> None:
    result = ocr.read(demo_media["rack"])
    assert RACK_LABEL in result.text
    line = next(line for line in result.lines if RACK_LABEL in line.text)
    assert line.score > 0.8
    x0, y0, x1, y1 = line.bbox
    # the label plate sits right of centre on the fourth unit of a 1024x768 photo
    assert 450 < (x0 + x1) / 2 < 700 and 300 < (y0 + y1) / 2 < 400


_CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


@pytest.mark.skipif(
    not _CJK_FONT.exists(), reason="needs a CJK font to draw the test image (fonts-wqy-microhei)"
)
def test_reads_mixed_chinese_and_english(ocr: OcrEngine) -> None:
    from PIL import ImageDraw, ImageFont

    img = Image.new("RGB", (900, 200), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    cjk = ImageFont.truetype(str(_CJK_FONT), 40)
    draw.text((30, 30), "服务器 Node-07 电源模块故障", fill=(0, 0, 0), font=cjk)
    draw.text((30, 110), "请更换电源 replace the PSU", fill=(0, 0, 0), font=cjk)
    result = ocr.read(img)
    assert [line.text for line in result.lines] == [
        "服务器 Node-07 电源模块故障",
        "请更换电源 replace the PSU",
    ]


def test_boxes_are_in_input_pixels_when_downscaled(ocr: OcrEngine, demo_media: dict[str, Path]) -> None:
    small = OcrEngine(max_side=640)
    big = Image.open(demo_media["rack"]).convert("RGB").resize((2048, 1536))
    result = small.read(big)
    line = next(line for line in result.lines if RACK_LABEL in line.text)
    assert 900 < (line.bbox[0] + line.bbox[2]) / 2 < 1400


def test_reads_figure_and_real_photos(ocr: OcrEngine, demo_media: dict[str, Path], skdata: Path) -> None:
    figure = ocr.read(demo_media["figure"].read_bytes())
    for name, _colour, meaning in LED_CODES:
        assert name in figure.text and meaning.split(",")[0] in figure.text
    assert ocr.read(skdata / "astronaut.png").text == ""
    assert "YAMAHA" in ocr.read(skdata / "motorcycle_left.png").text  # the brand on a real photo


def test_enrich_appends_ocr_and_adds_scanned_page_text(
    ocr: OcrEngine, demo_media: dict[str, Path], skdata: Path
) -> None:
    page_render = Image.open(skdata / "page.png").convert("RGB")
    extraction = Extraction(
        doc_type="pdf",
        blocks=(TextBlock(text="Rack maintenance guide. " * 4, locator=Locator(page=1)),),
        images=(
            ImageBlock(
                data=demo_media["rack"].read_bytes(),
                locator=Locator(page=1, index=0),
                context="Figure 1: rack",
            ),
            ImageBlock(data=_png(page_render), locator=Locator(page=2), kind="page"),
            # page 1 has a text layer, so its render must not duplicate it as a TextBlock
            ImageBlock(data=_png(page_render), locator=Locator(page=1), kind="page"),
        ),
    )
    enriched = VisualEnricher(ocr=ocr).enrich(extraction)
    assert extraction.images[0].context == "Figure 1: rack"  # input untouched
    figure, page2, page1 = enriched.images
    assert "Region-based segmentation" in page1.context
    assert figure.context.startswith("Figure 1: rack\n\n") and RACK_LABEL in figure.context
    assert "Region-based segmentation" in page2.context
    added = [b for b in enriched.blocks if b not in extraction.blocks]
    assert len(added) == 1 and added[0].locator == Locator(page=2)
    assert "Region-based segmentation" in added[0].text
    assert enriched.blocks[0] == extraction.blocks[0] and enriched.blocks[-1] == added[0]
    assert enriched.meta["ocr_images"] == 3 and enriched.meta["ocr_chars"] > 100


def test_enrich_video_keyframes_reads_each_step(ocr: OcrEngine, demo_media: dict[str, Path]) -> None:
    enriched = VisualEnricher(ocr=ocr).enrich(extract_video(demo_media["video"], limits=Limits()))
    title = "server racking procedure"
    assert [b.context for b in enriched.images] == [f"{title}\n\n{step}" for step in RACKING_STEPS]
    starts = [b.locator.t_start or 0.0 for b in enriched.images]
    assert starts[0] == 0.0 and starts == sorted(starts) and len(set(starts)) == 4


def test_enrich_survives_an_undecodable_figure(ocr: OcrEngine, demo_media: dict[str, Path]) -> None:
    extraction = Extraction(
        doc_type="docx",
        images=(
            ImageBlock(data=b"\x89PNG\r\n\x1a\n broken", locator=Locator(index=0), context="Figure 1"),
            ImageBlock(data=demo_media["rack"].read_bytes(), locator=Locator(index=1)),
        ),
    )
    enriched = VisualEnricher(ocr=ocr).enrich(extraction)
    assert enriched.images[0].context == "Figure 1"
    assert enriched.images[1].context == RACK_LABEL
    assert len(enriched.warnings) == 1 and "OCR skipped for figure" in enriched.warnings[0]
    assert enriched.meta["ocr_images"] == 1


def test_merge_context() -> None:
    assert merge_context("", " Node-07 ") == "Node-07"
    assert merge_context("photo", "") == "photo"
    assert merge_context("label Node-07", "Node-07") == "label Node-07"
    assert merge_context("photo", "Node-07") == "photo\n\nNode-07"


def test_query_image_and_video(ocr: OcrEngine, demo_media: dict[str, Path], tmp_path: Path) -> None:
    reader = QueryMediaReader(ocr=ocr, settings=get_settings(data_dir=tmp_path))
    query_dir = tmp_path / "request"
    query_dir.mkdir()
    video = query_dir / "query.mp4"
    video.write_bytes(demo_media["video"].read_bytes())
    photo = query_dir / "query.jpg"
    photo.write_bytes(demo_media["rack"].read_bytes())
    media = reader.read(image_paths=[photo], video_path=video)
    assert media.texts == (RACK_LABEL, *RACKING_STEPS)
    assert media.image_paths == (str(photo.resolve()),)  # upright RGB JPEG ≤ 1600 px: used as is
    assert len(media.frame_paths) == 4 and all(Path(p).is_file() for p in media.frame_paths)
    assert [t[0] for t in media.frame_times] == pytest.approx([0.0, 2.5, 5.0, 7.5], abs=0.01)


def test_query_media_normalises_large_images(tmp_path: Path, skdata: Path) -> None:
    src = tmp_path / "big.webp"
    Image.open(skdata / "astronaut.png").resize((2400, 2400)).save(src, format="WEBP")
    media = QueryMediaReader(ocr=None, settings=get_settings(data_dir=tmp_path)).read(image_paths=[src])
    assert media.texts == ()  # no OCR engine, no caption model: no text
    copy = Image.open(media.image_paths[0])
    assert copy.format == "JPEG" and copy.size == (1600, 1600)


def test_query_video_limit_is_the_query_limit(
    long_tiny_video: Path, tmp_path: Path, broken: dict[str, Path]
) -> None:
    reader = QueryMediaReader(ocr=None, settings=get_settings(data_dir=tmp_path, max_query_video_seconds=120))
    with pytest.raises(TooLargeError, match=r"over the limit of 120 s \(max_query_video_seconds\)"):
        reader.read(video_path=long_tiny_video)
    with pytest.raises(ExtractionError, match="looks like HTML"):
        reader.read(image_paths=[broken["page.png"]])


def test_extract_then_enrich_rack_photo(ocr: OcrEngine, demo_media: dict[str, Path]) -> None:
    enriched = VisualEnricher(ocr=ocr).enrich(extract_image(demo_media["rack"], limits=Limits()))
    assert enriched.images[0].context == f"node07 rack warning\n\n{RACK_LABEL}"
