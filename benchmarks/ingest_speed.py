"""Ingest throughput: pages/s for a generated 200-page PDF (extraction alone and end to end) and
chunks/s end to end (extract → chunk → embed with the CPU embedder → Milvus Lite upsert).

    python benchmarks/ingest_speed.py [--pages 200] [--out benchmarks/results/ingest_speed.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from vlsearch.config import Settings
from vlsearch.demo.writers import Doc, Heading, PageBreak, Para, Table, write_pdf
from vlsearch.ingest.extractors import extract
from vlsearch.ingest.limits import Limits
from vlsearch.runtime import Runtime

WORDS = [
    "server",
    "node",
    "rack",
    "rail",
    "power",
    "supply",
    "fan",
    "controller",
    "firmware",
    "battery",
    "cable",
    "switch",
    "port",
    "link",
    "error",
    "warning",
    "alarm",
    "status",
    "light",
    "replace",
    "inspect",
    "verify",
    "torque",
    "screw",
    "airflow",
    "cooling",
    "temperature",
]


def long_manual(pages: int, seed: int = 13) -> Doc:
    rng = random.Random(seed)
    blocks: list = []
    for page in range(1, pages + 1):
        blocks.append(Heading(f"Section {page}: component {rng.randint(100, 999)}"))
        for _ in range(3):
            blocks.append(Para(" ".join(rng.choice(WORDS) for _ in range(70)) + "."))
        if page % 10 == 0:
            blocks.append(
                Table(("Code", "Meaning"), tuple((f"E-{page}{i}", rng.choice(WORDS)) for i in range(4)))
            )
        if page < pages:
            blocks.append(PageBreak())
    return Doc(title=f"Generated {pages}-page manual", blocks=tuple(blocks))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/ingest_speed.json"))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        pdf = write_pdf(tmp / "manual.pdf", long_manual(args.pages))
        pdf_bytes = pdf.stat().st_size
        t0 = time.perf_counter()
        extraction = extract(pdf, "pdf", limits=Limits())
        extract_s = time.perf_counter() - t0
        pages = len({b.locator.page for b in extraction.blocks})

        settings = Settings(data_dir=tmp / "data", allowed_roots=[tmp], profile="cpu", reranker="")  # type: ignore[arg-type]
        runtime = Runtime.from_settings(settings)
        runtime.start()
        runtime.embedder.load()
        t1 = time.perf_counter()
        report = runtime.pipeline.ingest_paths([pdf], groups=("public",))
        total_s = time.perf_counter() - t1
        runtime.close()

    result = report.results[0]
    out = {
        "benchmark": "ingest_speed",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "pdf_pages": pages,
        "pdf_bytes": pdf_bytes,
        "extract_seconds": round(extract_s, 3),
        "extract_pages_per_s": round(pages / extract_s, 1),
        "end_to_end_seconds": round(total_s, 3),
        "end_to_end_pages_per_s": round(pages / total_s, 2),
        "chunks": result.items,
        "end_to_end_chunks_per_s": round(result.items / total_s, 2),
        "embedder": runtime.embedder.model_id,
        "status": result.status,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
