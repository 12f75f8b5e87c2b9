"""Cost of extracting in a worker process instead of in-process, per file and per worker start.

    python benchmarks/isolation_overhead.py [--rounds 30] [--out benchmarks/results/isolation_overhead.json]

Files are generated here (a small DOCX, a 2-page PDF with a figure and a scanned page, a 2 s
640x360 video); rounds alternate in-process and isolated runs so load changes hit both alike.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

from vlsearch.demo.media import write_video
from vlsearch.demo.writers import (
    Doc,
    Figure,
    Heading,
    Para,
    ScannedPage,
    diagram_png,
    text_png,
    write_docx,
    write_pdf,
)
from vlsearch.ingest.isolation import IsolatedExtractor, IsolationSettings, sniff_and_extract
from vlsearch.ingest.limits import Limits


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/isolation_overhead.json"))
    args = parser.parse_args()
    limits = Limits()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        small = Doc(title="Small", blocks=(Heading("Small"), Para("One paragraph about pump P-7.")))
        sample = Doc(
            title="Sample",
            blocks=(
                Heading("Status lights"),
                Para("The FAULT light turns red when the node has a critical hardware fault."),
                Figure(diagram_png(["Unbox", "Rails", "Rack"]), "Figure 1: flow"),
                ScannedPage(text_png(["SERVICE LABEL", "Serial HX22-0007"])),
            ),
        )
        frames = [np.full((360, 640, 3), (i * 53) % 256, dtype=np.uint8) for i in range(8)]
        files = {
            "docx": write_docx(root / "small.docx", small),
            "pdf": write_pdf(root / "sample.pdf", sample),
            "video": write_video(root / "clip.mp4", lambda i: frames[i], frames=8, fps=Fraction(4)),
        }
        iso = IsolatedExtractor(settings=IsolationSettings())
        starts = []
        for _ in range(3):
            started = time.perf_counter()
            iso.run(files["docx"], limits=limits)
            starts.append(time.perf_counter() - started)
            iso.close()  # the next round starts a fresh worker
        iso.run(files["docx"], limits=limits)
        results: dict[str, dict[str, float]] = {}
        for name, path in files.items():
            sniff_and_extract(path, limits=limits)  # warm both sides
            iso.run(path, limits=limits)
            inline, isolated = [], []
            for _ in range(args.rounds):
                t = time.perf_counter()
                sniff_and_extract(path, limits=limits)
                inline.append(time.perf_counter() - t)
                t = time.perf_counter()
                iso.run(path, limits=limits)
                isolated.append(time.perf_counter() - t)
            results[name] = {
                "in_process_ms": round(statistics.median(inline) * 1000, 1),
                "isolated_ms": round(statistics.median(isolated) * 1000, 1),
                "overhead_ms": round((statistics.median(isolated) - statistics.median(inline)) * 1000, 1),
            }
        iso.close()
    out = {
        "worker_start_s": round(statistics.median(starts), 2),
        "files": results,
        "rounds": args.rounds,
        "cpus": os.cpu_count(),
        "load_avg": os.getloadavg()[0],
        "python": platform.python_version(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
