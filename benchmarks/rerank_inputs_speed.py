"""Input preparation cost of the reranker: qwen-vl-utils (now) vs the hand-written code it replaced.

Times turning references into model pixels (no model): a 224 px image, a 1024x768 photo, the demo's
10 s 640x360 racking video as a file at fps 1, and 8 of its frames as a frame list. With
--baseline-tree (a checkout of the old code, e.g. a `git worktree` of fdbc08e) the old
`vlsearch/rerank/inputs.py` runs in the same process on the same files, interleaved, for a
same-run baseline. Pixel counts are recorded too: the video paths now follow qwen-vl-utils' minimum
of 128 tokens per frame, so they may do more work than the old code did, on purpose.

  python benchmarks/rerank_inputs_speed.py --baseline-tree /tmp/base [--repeats 5]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vlsearch.demo.media import rack_photo, racking_scene, racking_video  # noqa: E402
from vlsearch.models.qwen3vl.inputs import VisionLimits  # noqa: E402
from vlsearch.models.qwen3vl.vision import fetch_image, fetch_video  # noqa: E402


def _old_inputs(tree: Path) -> Any:
    spec = importlib.util.spec_from_file_location("old_rerank_inputs", tree / "vlsearch/rerank/inputs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def _pixels(out: Any) -> int:
    if hasattr(out, "frames"):
        t, _, h, w = out.frames.shape
        return int(t * h * w)
    return int(out.width * out.height)


def _time(fn: Callable[[], Any], repeats: int) -> tuple[float, int]:
    out = fn()  # warm-up (imports, decoder init)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, _pixels(out)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--baseline-tree", type=Path, help="checkout of the old code for a same-run baseline")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "rerank_inputs_speed.json"))
    args = parser.parse_args()
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        small = tmp / "small.png"
        racking_scene(2, (224, 224)).save(small)
        photo = tmp / "photo.jpg"
        rack_photo().save(photo, quality=90)
        video = racking_video(tmp / "racking.mp4")
        frames = []
        for i in range(8):
            frames.append(tmp / f"f{i}.jpg")
            racking_scene(i % 4).save(frames[-1], quality=90)
        lim = VisionLimits()
        cases: dict[str, dict[str, Callable[[], Any]]] = {
            "image 224x224": {"new": lambda: fetch_image(str(small), lim)},
            "photo 1024x768": {"new": lambda: fetch_image(str(photo), lim)},
            "video file 10 s 640x360, fps 1": {"new": lambda: fetch_video(str(video), lim, fps=1.0)},
            "frame list 8 x 640x360": {"new": lambda: fetch_video([str(f) for f in frames], lim)},
        }
        if args.baseline_tree:
            old = _old_inputs(args.baseline_tree)
            olim = old.VisionLimits()
            cases["image 224x224"]["old"] = lambda: old.prepare_image(str(small), olim)
            cases["photo 1024x768"]["old"] = lambda: old.prepare_image(str(photo), olim)
            cases["video file 10 s 640x360, fps 1"]["old"] = lambda: old.prepare_video(
                str(video), olim, fps=1.0
            )
            cases["frame list 8 x 640x360"]["old"] = lambda: old.prepare_video([str(f) for f in frames], olim)
        rows = []
        for name, impls in cases.items():
            row: dict[str, Any] = {"case": name}
            for impl, fn in sorted(impls.items()):  # "new" then "old", alternating per case
                ms, pixels = _time(fn, args.repeats)
                row[impl] = {"median_ms": round(ms, 2), "pixels": pixels}
            rows.append(row)
            print(json.dumps(row), flush=True)
    out = {
        "benchmark": "rerank_inputs_speed",
        "baseline": str(args.baseline_tree) if args.baseline_tree else None,
        "repeats": args.repeats,
        "load_average_1min": {"start": round(load_start, 2), "end": round(os.getloadavg()[0], 2)},
        "host_cores": os.cpu_count(),
        "rows": rows,
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
