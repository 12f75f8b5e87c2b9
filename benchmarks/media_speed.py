"""Media throughput: keyframe extraction (× real time) on a generated 720p clip, and OCR images/s.

    python benchmarks/media_speed.py [--seconds 30] [--out benchmarks/results/media_speed.json]

The clip is drawn here (racking scenes with a moving overlay, 30 fps H.264), so every run decodes
the same content. Timings are wall-clock on whatever CPU runs this; the JSON records the core count.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from vlsearch.demo.media import RACKING_STEPS, font, led_status_figure, rack_photo, racking_scene, write_video
from vlsearch.media import KeyframeSampler, probe_video
from vlsearch.media.ocr import OcrEngine

SIZE = (1280, 720)
FPS = 30


def make_clip(path: Path, seconds: float) -> Path:
    """A 720p clip: one racking scene per quarter, a box sliding across and a running frame counter."""
    scenes = [racking_scene(i, SIZE) for i in range(len(RACKING_STEPS))]
    frames = round(seconds * FPS)
    per_scene = max(1, frames // len(scenes))
    counter_font = font(28)

    def frame_at(i: int) -> Image.Image:
        img = scenes[min(i // per_scene, len(scenes) - 1)].copy()
        draw = ImageDraw.Draw(img)
        x = (i * 7) % (SIZE[0] - 120)
        draw.rectangle((x, SIZE[1] - 110, x + 100, SIZE[1] - 30), fill=(240, 200, 40))
        draw.text((SIZE[0] - 220, SIZE[1] - 60), f"frame {i:05d}", fill=(255, 255, 255), font=counter_font)
        return img

    return write_video(path, frame_at, frames=frames, fps=FPS)


def bench_keyframes(path: Path, *, backend: str, repeats: int) -> dict[str, object]:
    sampler = KeyframeSampler(fps=1.0, max_frames=64, backend=backend)
    walls, cpus = [], []
    result = None
    for _ in range(repeats):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = sampler.sample(path, max_seconds=600)
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu_started)
    assert result is not None
    wall = statistics.median(walls)
    cpu = statistics.median(cpus)
    return {
        "backend": result.backend,
        "wall_s": round(wall, 3),
        "x_real_time": round(result.info.duration / wall, 2),
        # CPU seconds (all threads) are steadier than wall time on a shared machine
        "cpu_s": round(cpu, 3),
        "x_real_time_per_cpu_second": round(result.info.duration / cpu, 2),
        "frames_analysed": result.analysed,
        "keyframes": len(result.keyframes),
        "runs": [round(w, 3) for w in walls],
    }


def bench_ocr(images: dict[str, Image.Image], *, repeats: int) -> dict[str, object]:
    engine = OcrEngine()
    started = time.perf_counter()
    engine.load()
    load_s = time.perf_counter() - started
    per_image: dict[str, dict[str, object]] = {}
    total_calls, total_wall, total_cpu = 0, 0.0, 0.0
    for name, img in images.items():
        walls, cpus = [], []
        text = ""
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            text = engine.read(img).text
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        total_calls += repeats
        total_wall += sum(walls)
        total_cpu += sum(cpus)
        per_image[name] = {
            "size": list(img.size),
            "median_ms": round(statistics.median(walls) * 1000, 1),
            "median_cpu_ms": round(statistics.median(cpus) * 1000, 1),
            "chars": len(text),
        }
    return {
        "load_s": round(load_s, 3),
        "images_per_s": round(total_calls / total_wall, 2),
        "images_per_cpu_s": round(total_calls / total_cpu, 2),
        "threads": "onnxruntime default (all cores)",
        "per_image": per_image,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the 720p test clip")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/media_speed.json"))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "clip720p.mp4"
        t0 = time.perf_counter()
        make_clip(clip, args.seconds)
        encode_s = time.perf_counter() - t0
        info = probe_video(clip)
        keyframes = {b: bench_keyframes(clip, backend=b, repeats=args.repeats) for b in ("decord", "pyav")}
        images = {
            "rack_photo_1024x768": rack_photo(),
            "keyframe_1280x720": _first_frame(clip),
            "led_figure_900x560": led_status_figure(),
            "dense_page_1240x1754": _dense_page(),
        }
        ocr = bench_ocr(images, repeats=args.repeats)

    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "load_avg_1m_at_end": round(os.getloadavg()[0], 2),  # other work on the box skews wall times
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "clip": {
            "seconds": info.duration,
            "fps": info.fps,
            "size": [info.width, info.height],
            "codec": info.codec,
            "encode_s": round(encode_s, 2),
        },
        "keyframes": keyframes,
        "ocr": ocr,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


def _first_frame(clip: Path) -> Image.Image:
    result = KeyframeSampler(max_frames=1, backend="pyav").sample(clip, max_seconds=600)
    return Image.open(io.BytesIO(result.keyframes[0].data)).convert("RGB")


def _dense_page() -> Image.Image:
    """An A4-at-150-dpi page of body text, like a scanned manual page."""
    page = Image.new("RGB", (1240, 1754), (255, 255, 255))
    draw = ImageDraw.Draw(page)
    body = font(24)
    rng = np.random.default_rng(0)
    words = [
        "server",
        "rack",
        "rail",
        "screw",
        "node",
        "power",
        "fan",
        "status",
        "warning",
        "replace",
        "install",
        "slide",
        "fasten",
        "check",
    ]
    y = 120
    while y < 1650:
        line = " ".join(rng.choice(words, size=9))
        draw.text((110, y), line.capitalize() + ".", fill=(20, 20, 20), font=body)
        y += 40
    return page


if __name__ == "__main__":
    main()
