"""Deterministic demo media: a server-rack photo, a racking-procedure video and an LED status figure.

Tests and the demo corpus use these; everything is drawn with PIL from fixed seeds using Pillow's
bundled font, so the same pixels come out on every machine and no binaries live in the repo.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

RACK_LABEL = "Node-07"
RACKING_STEPS: tuple[str, ...] = (
    "Step 1: Unbox the server",
    "Step 2: Install the rails",
    "Step 3: Slide the server into the rack",
    "Step 4: Fasten the screws",
)
LED_CODES: tuple[tuple[str, tuple[int, int, int], str], ...] = (
    ("Green solid", (40, 170, 60), "Normal operation"),
    ("Amber blinking", (240, 160, 20), "Fan or power supply warning"),
    ("Red solid", (215, 30, 30), "Critical fault, replace the node"),
    ("Blue blinking", (40, 90, 220), "Locate indicator active"),
)


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled scalable font: identical on every machine, no system fonts needed."""
    return ImageFont.load_default(size=size)


def rack_photo(size: tuple[int, int] = (1024, 768), *, seed: int = 7, light_on: bool = True) -> Image.Image:
    """A photo-like server rack with a red warning light next to a large "Node-07" label.

    OCR reads the label at sizes down to 480x360; smaller renders are for thumbnails only.
    `light_on=False` draws the blinking warning light in its dark phase (for video frames).
    """
    width, height = size
    rng = np.random.default_rng(seed)
    # wall-to-floor gradient, like a dim machine room
    ramp = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    top, bottom = np.array([70, 78, 92], np.float32), np.array([38, 40, 46], np.float32)
    base = np.broadcast_to(top * (1 - ramp) + bottom * ramp, (height, width, 3)).copy()
    img = Image.fromarray(base.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    x0, x1 = int(width * 0.28), int(width * 0.72)
    y0, y1 = int(height * 0.06), int(height * 0.97)
    draw.rectangle((x0, y0, x1, y1), fill=(22, 23, 26), outline=(90, 92, 98), width=6)
    unit_h = (y1 - y0 - 24) // 8
    glow_centres = []
    for unit in range(8):
        uy = y0 + 12 + unit * unit_h
        face = (58 + unit % 2 * 8, 60 + unit % 2 * 8, 66 + unit % 2 * 8)
        draw.rectangle((x0 + 14, uy + 3, x1 - 14, uy + unit_h - 3), fill=face, outline=(30, 30, 34), width=2)
        # vent holes in a honeycomb: vertical slots would read as "IIII" to OCR
        for row, vy in enumerate(range(uy + 14, uy + unit_h - 16, 10)):
            for vx in range(x0 + 36 + (row % 2) * 5, x0 + (x1 - x0) // 2 - 40, 10):
                draw.ellipse((vx, vy, vx + 5, vy + 5), fill=(30, 31, 35))
        led_x, led_y = x1 - 60, uy + unit_h // 2
        if unit == 3:
            if light_on:
                glow_centres.append((led_x, led_y))
            lit = (255, 40, 30) if light_on else (90, 20, 18)
            draw.ellipse((led_x - 11, led_y - 11, led_x + 11, led_y + 11), fill=lit)
        else:
            draw.ellipse((led_x - 6, led_y - 6, led_x + 6, led_y + 6), fill=(40, 200, 80))
    # the label plate of the faulty unit: dark text on white, large enough for OCR at 1/2 scale
    uy = y0 + 12 + 3 * unit_h
    plate = (x0 + (x1 - x0) // 2 - 30, uy + 8, x1 - 86, uy + unit_h - 8)
    draw.rectangle(plate, fill=(236, 236, 230), outline=(20, 20, 20), width=2)
    label_size = max(20, int((plate[3] - plate[1]) * 0.7))
    label_font = font(label_size)
    while draw.textlength(RACK_LABEL, font=label_font) > plate[2] - plate[0] - 16 and label_size > 12:
        label_size -= 2
        label_font = font(label_size)
    box = draw.textbbox((0, 0), RACK_LABEL, font=label_font)
    tx = (plate[0] + plate[2] - (box[2] - box[0])) // 2 - box[0]
    ty = (plate[1] + plate[3] - (box[3] - box[1])) // 2 - box[1]
    draw.text((tx, ty), RACK_LABEL, fill=(10, 10, 10), font=label_font)
    # red glow around the warning light, added on a blurred layer
    glow = Image.new("RGB", img.size, (0, 0, 0))
    glow_draw = ImageDraw.Draw(glow)
    for cx, cy in glow_centres:
        glow_draw.ellipse((cx - 40, cy - 40, cx + 40, cy + 40), fill=(150, 20, 10))
    img = Image.fromarray(
        np.clip(
            np.asarray(img, np.int16) + np.asarray(glow.filter(ImageFilter.GaussianBlur(18)), np.int16),
            0,
            255,
        ).astype(np.uint8)
    )
    # sensor noise and a slight lens blur make it look photographed rather than drawn
    noise = rng.normal(0.0, 5.0, (height, width, 3))
    noisy = np.clip(np.asarray(img, np.float32) + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(noisy, "RGB").filter(ImageFilter.GaussianBlur(0.6))


def led_status_figure(size: tuple[int, int] = (900, 560)) -> Image.Image:
    """A figure for documents: a chart of front-panel LED colours and what they mean."""
    width, height = size
    img = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(img)
    draw.text((40, 28), "Front panel LED status codes", fill=(20, 20, 20), font=font(40))
    draw.line((40, 90, width - 40, 90), fill=(120, 120, 120), width=2)
    row_h = (height - 130) // len(LED_CODES)
    for i, (name, colour, meaning) in enumerate(LED_CODES):
        cy = 120 + i * row_h + row_h // 2
        draw.ellipse((60, cy - 26, 112, cy + 26), fill=colour, outline=(40, 40, 40), width=2)
        draw.text((140, cy - 36), name, fill=(20, 20, 20), font=font(32))
        draw.text((140, cy + 4), meaning, fill=(70, 70, 70), font=font(26))
        if i:
            draw.line((40, cy - row_h // 2, width - 40, cy - row_h // 2), fill=(220, 220, 220), width=1)
    return img


def racking_scene(step: int, size: tuple[int, int] = (640, 360)) -> Image.Image:
    """One still scene of the racking video: a step caption over a simple illustration."""
    width, height = size
    palette = ((34, 64, 110), (30, 110, 60), (140, 60, 40), (190, 190, 196))
    img = Image.new("RGB", size, palette[step % len(palette)])
    draw = ImageDraw.Draw(img)
    caption = RACKING_STEPS[step]
    size_px = 34
    caption_font = font(size_px)
    while draw.textlength(caption, font=caption_font) > width - 40 and size_px > 14:
        size_px -= 2
        caption_font = font(size_px)
    draw.rectangle((0, 0, width, 70), fill=(250, 250, 245))
    draw.text((20, 35), caption, fill=(15, 15, 15), font=caption_font, anchor="lm")
    rack = (width // 2 - 90, 95, width // 2 + 90, height - 20)
    if step == 0:  # an open box with the server inside
        draw.rectangle((170, 170, 470, 330), fill=(176, 132, 80), outline=(90, 60, 30), width=4)
        draw.rectangle((200, 150, 440, 200), fill=(70, 72, 80))
    else:
        draw.rectangle(rack, fill=(25, 25, 28), outline=(150, 150, 150), width=4)
        if step >= 1:  # rails
            for x in (rack[0] + 12, rack[2] - 18):
                draw.rectangle((x, 200, x + 6, 230), fill=(200, 200, 210))
        if step == 2:  # server half-way in
            draw.rectangle((rack[0] + 10, 196, rack[2] + 120, 236), fill=(80, 82, 92))
        if step == 3:  # server in, screws shown
            draw.rectangle((rack[0] + 10, 196, rack[2] - 10, 236), fill=(80, 82, 92))
            for x in (rack[0] + 4, rack[2] - 12):
                draw.ellipse((x, 208, x + 10, 218), fill=(230, 200, 40))
    return img


def write_video(
    path: Path,
    frame_at: Callable[[int], Image.Image | np.ndarray],
    *,
    frames: int,
    fps: float | Fraction,
    codec: str = "libx264",
) -> Path:
    """Encode `frames` frames from `frame_at(i)` into an mp4 (video only, no audio track)."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    first = frame_at(0)
    first_img = first if isinstance(first, Image.Image) else Image.fromarray(first)
    rate = Fraction(fps).limit_denominator(1000)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=rate)
        if not isinstance(stream, av.video.stream.VideoStream):
            raise ValueError(f"{codec} is not a video codec")
        stream.width, stream.height = first_img.width, first_img.height
        stream.pix_fmt = "yuv420p"
        # one encoder thread and fixed settings keep the bytes the same run to run
        stream.codec_context.thread_count = 1
        if codec == "libx264":
            stream.options = {"preset": "veryfast", "crf": "23"}
        for i in range(frames):
            raw = first_img if i == 0 else frame_at(i)
            img = raw if isinstance(raw, Image.Image) else Image.fromarray(raw)
            for packet in stream.encode(av.VideoFrame.from_image(img)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def racking_video(
    path: Path, *, seconds_per_step: float = 2.5, fps: int = 4, size: tuple[int, int] = (640, 360)
) -> Path:
    """An mp4 of the four racking steps, each a static scene of `seconds_per_step` seconds."""
    scenes = [racking_scene(i, size) for i in range(len(RACKING_STEPS))]
    per_step = round(seconds_per_step * fps)
    return write_video(
        path, lambda i: scenes[min(i // per_step, len(scenes) - 1)], frames=per_step * len(scenes), fps=fps
    )


def write_demo_media(out_dir: Path, *, names: Sequence[str] = ("rack", "video", "figure")) -> dict[str, Path]:
    """Write the demo files into `out_dir`; returns {"rack": ..., "video": ..., "figure": ...}."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    if "rack" in names:
        written["rack"] = out_dir / "node07_rack_warning.jpg"
        rack_photo().save(written["rack"], format="JPEG", quality=90)
    if "video" in names:
        written["video"] = racking_video(out_dir / "server_racking_procedure.mp4")
    if "figure" in names:
        written["figure"] = out_dir / "led_status_codes.png"
        led_status_figure().save(written["figure"], format="PNG")
    return written
