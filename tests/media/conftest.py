"""Media test fixtures: generated demo media, skimage's bundled photos and deliberately broken files."""

from __future__ import annotations

import io
import struct
import zlib
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from vlsearch.demo.media import font, write_demo_media, write_video
from vlsearch.media.ocr import OcrEngine


@pytest.fixture(scope="session")
def demo_media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_demo_media(tmp_path_factory.mktemp("demo_media"))


@pytest.fixture(scope="session")
def ocr() -> OcrEngine:
    engine = OcrEngine()
    engine.load()
    return engine


@pytest.fixture(scope="session")
def skdata() -> Path:
    """scikit-image's sample images, shipped inside its wheel (no download)."""
    import skimage.data

    return Path(skimage.data.__file__).parent


def png_with_header(width: int, height: int) -> bytes:
    """A PNG whose header declares width x height but carries almost no pixel data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="session")
def broken(
    tmp_path_factory: pytest.TempPathFactory, demo_media: dict[str, Path], skdata: Path
) -> dict[str, Path]:
    """Each file is wrong in exactly one way."""
    out = tmp_path_factory.mktemp("broken")
    files: dict[str, Path] = {}

    def put(name: str, data: bytes) -> None:
        files[name] = out / name
        files[name].write_bytes(data)

    buf = io.BytesIO()
    Image.open(skdata / "coffee.png").convert("RGB").save(buf, format="JPEG", quality=90)
    jpeg = buf.getvalue()
    put("truncated.jpg", jpeg[: len(jpeg) // 2])
    png = (skdata / "astronaut.png").read_bytes()
    corrupt = bytearray(png)
    mid = len(corrupt) // 2
    corrupt[mid : mid + 4096] = bytes(4096)  # zeroed stretch inside the IDAT stream
    put("corrupt.png", bytes(corrupt))
    put("empty.png", b"")
    put("empty.mp4", b"")
    put("bomb.png", png_with_header(100_000, 100_000))  # Pillow's own guard fires
    put("over_limit.png", png_with_header(7_000, 7_000))  # under Pillow's guard, over ours (40 MP)
    put("page.png", b"<!DOCTYPE html><html><head><title>x</title></head><body>hi</body></html>\n")
    video = demo_media["video"].read_bytes()
    put("truncated.mp4", video[: len(video) * 6 // 10])
    put("garbage.mp4", b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(range(256)) * 40)
    zeroed = bytearray(video)
    start, end = zeroed.find(b"mdat") + 68, zeroed.find(b"moov") - 8
    zeroed[start:end] = bytes(end - start)  # container intact, every coded frame wiped
    put("zeroed_frames.mp4", bytes(zeroed))
    files["audio_only.m4a"] = write_audio_only(out / "audio_only.m4a", seconds=2.0)
    return files


def write_audio_only(path: Path, *, seconds: float) -> Path:
    """An AAC-in-MP4 file with a sine tone and no video stream."""
    import av

    rate = 16_000
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream("aac", rate=rate)
        stream.layout = "mono"
        samples = int(seconds * rate)
        tone = (0.2 * np.sin(2 * np.pi * 440 * np.arange(samples) / rate)).astype(np.float32)
        for start in range(0, samples, 1024):
            piece = tone[start : start + 1024]
            frame = av.AudioFrame.from_ndarray(piece[None, :], format="fltp", layout="mono")
            frame.sample_rate = rate
            frame.pts = start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.fixture(scope="session")
def long_tiny_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """620 s of 32x32 video at one frame per 10 s: long enough to break the limits, cheap to make."""
    colours = [np.full((32, 32, 3), (i * 37) % 256, dtype=np.uint8) for i in range(62)]
    return write_video(
        tmp_path_factory.mktemp("long") / "long.mp4", lambda i: colours[i], frames=62, fps=Fraction(1, 10)
    )


@pytest.fixture(scope="session")
def changing_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20 s at 2 fps where every frame is a different colour: every regular sample is distinct."""
    rng = np.random.default_rng(3)
    colours = rng.integers(0, 256, size=(40, 3))
    frames = [np.broadcast_to(c.astype(np.uint8), (90, 160, 3)).copy() for c in colours]
    return write_video(
        tmp_path_factory.mktemp("changing") / "changing.mp4", lambda i: frames[i], frames=40, fps=2
    )


@pytest.fixture(scope="session")
def slide_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 s of a slide at 2 fps; at 3 s one bullet line appears and nothing else changes."""

    def slide(lines: list[str]) -> Image.Image:
        img = Image.new("RGB", (640, 360), (255, 255, 255))
        draw = ImageDraw.Draw(img)
        for i, line in enumerate(lines):
            draw.text((40, 50 + i * 26), line, fill=(0, 0, 0), font=font(15))
        return img

    before = slide(["Rack installation checklist", "- check the rail kit"])
    after = slide(["Rack installation checklist", "- check the rail kit", "- torque screws to 2 Nm"])
    return write_video(
        tmp_path_factory.mktemp("slides") / "slides.mp4",
        lambda i: before if i < 6 else after,
        frames=12,
        fps=2,
    )
