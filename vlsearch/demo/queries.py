"""Query media for the seed article's two scenarios: a photo and a video for each.

`vlsearch demo` writes them to <data dir>/demo-queries/ (they are not indexed): the UI, the CLI and
the e2e tests query the demo corpus with them. Everything is drawn from fixed seeds, so the files
are the same on every machine, and each differs from the indexed demo media (another camera, a
hand-held drift, sensor noise), as a user's own recording would.

- 4.1 (text + image): a rack with a red warning light and a "Node-07" label, asked with
  "Node-07报错日志分析"; the article expects the Node-07 diagnostic manual first.
- 4.2 (video): a new employee's 15-second recording of racking a server (unbox, rails, slide in,
  screws); the article expects the racking SOP's procedure first.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from vlsearch.demo.media import RACKING_STEPS, rack_photo, racking_scene, write_video


@dataclass(frozen=True)
class DemoScenario:
    """One scenario of the seed article and the query files that play it."""

    key: str
    section: str  # the article's section
    text: str  # the text typed with the media ("" for none)
    photo: str  # file name in demo-queries/
    video: str  # file name in demo-queries/
    expect: str  # what the article says comes first


SCENARIOS: tuple[DemoScenario, ...] = (
    DemoScenario(
        key="node07",
        section="4.1",
        text="Node-07报错日志分析",
        photo="node07_rack_warning.jpg",
        video="node07_rack_warning.mp4",
        expect="node07_hardware_diagnostic_manual.pdf",
    ),
    DemoScenario(
        key="racking",
        section="4.2",
        text="",
        photo="server_racking_step3.jpg",
        video="server_racking_training.mp4",
        expect="server_racking_sop",
    ),
)


def _handheld(base: Image.Image, size: tuple[int, int], *, t: float, zoom: float, seed: int) -> Image.Image:
    """A crop of `base` that drifts and zooms as a hand-held phone camera does, with sensor noise."""
    width, height = base.size
    scale = zoom
    cw, ch = int(width * scale), int(height * scale)
    # slow drift plus a small shake; both bounded so the crop stays inside the picture
    dx = (width - cw) * (0.5 + 0.35 * math.sin(0.9 * t) + 0.05 * math.sin(7.3 * t))
    dy = (height - ch) * (0.5 + 0.3 * math.cos(0.7 * t) + 0.05 * math.cos(6.1 * t))
    x0, y0 = int(max(0, min(width - cw, dx))), int(max(0, min(height - ch, dy)))
    frame = base.crop((x0, y0, x0 + cw, y0 + ch)).resize(size, Image.Resampling.BILINEAR)
    rng = np.random.default_rng(seed)
    noisy = np.clip(np.asarray(frame, np.float32) + rng.normal(0.0, 4.0, (size[1], size[0], 3)), 0, 255)
    return Image.fromarray(noisy.astype(np.uint8), "RGB").filter(ImageFilter.GaussianBlur(0.5))


def node07_clip(
    path: Path, *, seconds: float = 6.0, fps: int = 5, size: tuple[int, int] = (640, 480)
) -> Path:
    """A hand-held clip of the Node-07 rack: the camera closes in while the red light blinks (1 Hz)."""
    lit, dark = rack_photo(seed=21), rack_photo(seed=21, light_on=False)
    frames = round(seconds * fps)

    def frame_at(i: int) -> Image.Image:
        t = i / fps
        base = lit if (t % 1.0) < 0.5 else dark
        return _handheld(base, size, t=t, zoom=0.95 - 0.15 * i / max(1, frames - 1), seed=100 + i)

    return write_video(path, frame_at, frames=frames, fps=fps)


def _on_screen(scene: Image.Image, margin: float = 0.12) -> Image.Image:
    """The scene shown on a monitor with a dark bezel, so a drifting camera keeps all of it in view."""
    w, h = scene.size
    mx, my = int(w * margin), int(h * margin)
    screen = Image.new("RGB", (w + 2 * mx, h + 2 * my), (28, 29, 33))
    screen.paste(scene, (mx, my))
    return screen


def racking_training_video(
    path: Path, *, seconds: float = 15.0, fps: int = 4, size: tuple[int, int] = (640, 360)
) -> Path:
    """The 15-second recording of the four racking steps the article's scenario 4.2 describes."""
    scenes = [_on_screen(racking_scene(i, (800, 450))) for i in range(len(RACKING_STEPS))]
    frames = round(seconds * fps)
    per_step = frames / len(scenes)
    frame_at: Callable[[int], Image.Image] = lambda i: _handheld(  # noqa: E731
        scenes[min(int(i // per_step), len(scenes) - 1)], size, t=i / fps, zoom=0.9, seed=300 + i
    )
    return write_video(path, frame_at, frames=frames, fps=fps)


def racking_photo(size: tuple[int, int] = (960, 540)) -> Image.Image:
    """A phone photo of the training screen at step 3 (sliding the server into the rack)."""
    scene = _on_screen(racking_scene(2, (1200, 675)))
    tilted = scene.rotate(2.0, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=(30, 30, 34))
    return _handheld(tilted, size, t=1.0, zoom=0.92, seed=401)


def write_demo_queries(dest: Path) -> dict[str, Path]:
    """Write every scenario's photo and video into `dest`; returns {file name: path}."""
    dest.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    node07, racking = SCENARIOS
    out[node07.photo] = dest / node07.photo
    rack_photo().save(out[node07.photo], format="JPEG", quality=90)
    out[node07.video] = node07_clip(dest / node07.video)
    out[racking.photo] = dest / racking.photo
    racking_photo().save(out[racking.photo], format="JPEG", quality=90)
    out[racking.video] = racking_training_video(dest / racking.video)
    return out
