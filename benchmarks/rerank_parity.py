"""Parity table: vlsearch's Qwen3-VL reranker / embedder vs the official recipe, on a tiny random model.

The reference (tests/rerank/official_reference.py) builds its own prompts, calls qwen-vl-utils and
the HF processor directly and scores one pair per forward. Ours runs batched (one process() call
per case) and one document at a time. Everything in float32 on the CPU.

  python benchmarks/rerank_parity.py [--out benchmarks/results/rerank_parity.json] [--label after]

Scores of a random tiny model mean nothing about relevance; only the differences matter here.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.rerank.official_reference import OfficialEmbedder, OfficialReranker  # noqa: E402
from tests.rerank.parity_cases import build_parity_media, embed_cases, rerank_cases  # noqa: E402
from vlsearch.testing.tiny_qwen3vl import build_tiny_qwen3vl  # noqa: E402


def _ours_reranker(model_dir: Path, ctor: dict[str, Any]) -> Any:
    from vlsearch.rerank import Qwen3VLReranker

    return Qwen3VLReranker(model_name_or_path=str(model_dir), torch_dtype=torch.float32, device="cpu", **ctor)


def _ours_embedder(model_dir: Path, ctor: dict[str, Any]) -> Any:
    from vlsearch.models.qwen3vl_embedder import Qwen3VLEmbedder

    if "max_frames" in ctor:
        from vlsearch.models.qwen3vl.inputs import VisionLimits

        return Qwen3VLEmbedder(
            model=str(model_dir), device="cpu", limits=VisionLimits(max_frames=ctor["max_frames"])
        )
    return Qwen3VLEmbedder(model=str(model_dir), device="cpu")


def rerank_rows(model_dir: Path, media: dict[str, str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for case in rerank_cases(media):
        ref = OfficialReranker(model_dir, **case.ctor)
        want = ref.process(case.inputs)
        ours = _ours_reranker(model_dir, case.ctor)
        error = ""
        try:
            batched = ours.process(case.inputs)
            single = [ours.process(dict(case.inputs, documents=[d]))[0] for d in case.inputs["documents"]]
        except Exception as exc:  # recorded in the table: the old code may refuse a case
            error = f"{type(exc).__name__}: {exc}"[:200]
            batched = single = [float("nan")] * len(want)
        for i, w in enumerate(want):
            rows.append(
                {
                    "case": case.name + (f" [doc {i}]" if len(want) > 1 else ""),
                    "reference": w,
                    "ours_batched": batched[i],
                    "ours_single": single[i],
                    "diff_batched": abs(batched[i] - w),
                    "diff_single": abs(single[i] - w),
                    "error": error,
                }
            )
    return rows


def embed_rows(model_dir: Path, media: dict[str, str]) -> list[dict[str, Any]]:
    from vlsearch.types import EmbedInput, Role

    rows: list[dict[str, Any]] = []
    groups: dict[tuple, list] = {}
    for case in embed_cases(media):
        groups.setdefault(tuple(sorted(case.ctor.items())), []).append(case)
    for ctor_key, cases in groups.items():
        ctor = dict(ctor_key)
        ref = OfficialEmbedder(model_dir, **ctor)
        ours = _ours_embedder(model_dir, ctor)
        for role in (Role.DOCUMENT, Role.QUERY):
            picked = [c for c in cases if c.query == (role is Role.QUERY)]
            if not picked:
                continue
            items = [
                EmbedInput(
                    text=c.item.get("text", ""),
                    images=tuple(c.item.get("image", ())),
                    video_frames=tuple(c.item.get("video", ())),
                )
                for c in picked
            ]
            batched = ours.embed(items, role=role)
            single = np.vstack([ours.embed([it], role=role) for it in items])
            for k, case in enumerate(picked):
                instruction = "Retrieve relevant passages." if case.query else "Represent the user's input."
                want = ref.embed(case.item, instruction)
                rows.append(
                    {
                        "case": "embed: " + case.name,
                        "reference_norm_dot": 1.0,
                        "ours_batched_dot": float(np.dot(batched[k], want)),
                        "diff_batched": float(np.max(np.abs(batched[k] - want))),
                        "diff_single": float(np.max(np.abs(single[k] - want))),
                        "error": "",
                    }
                )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "rerank_parity.json"))
    parser.add_argument("--label", default="", help="free text stored with the table (e.g. before/after)")
    args = parser.parse_args()
    torch.manual_seed(0)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = build_tiny_qwen3vl(Path(tmp) / "model", seed=0)
        media = build_parity_media(Path(tmp) / "media")
        rerank = rerank_rows(model_dir, media)
        embed = embed_rows(model_dir, media)
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    out = {
        "benchmark": "rerank_parity",
        "label": args.label,
        "commit": commit,
        "dtype": "float32",
        "model": "tiny random Qwen3-VL (vlsearch.testing.tiny_qwen3vl, seed 0)",
        "video_reader": _video_reader(),
        "max_abs_diff_rerank": max(max(r["diff_batched"], r["diff_single"]) for r in rerank),
        "max_abs_diff_embed": max(max(r["diff_batched"], r["diff_single"]) for r in embed),
        "rerank": rerank,
        "embed": embed,
        "seconds": round(time.perf_counter() - started, 1),
        "versions": {
            "torch": torch.__version__,
            "transformers": __import__("transformers").__version__,
            "qwen-vl-utils": _version("qwen-vl-utils"),
        },
    }
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2, ensure_ascii=False, default=float) + "\n")
    print("| case | reference | ours (batched) | ours (one at a time) | max diff |")
    print("|---|---|---|---|---|")
    for r in rerank:
        diff = max(r["diff_batched"], r["diff_single"])
        note = f" ({r['error']})" if r["error"] else ""
        print(
            f"| {r['case']} | {r['reference']:.6f} | {r['ours_batched']:.6f} | {r['ours_single']:.6f} "
            f"| {diff:.2e}{note} |"
        )
    for r in embed:
        print(f"| {r['case']} | (vector) | dot {r['ours_batched_dot']:.6f} | | {r['diff_batched']:.2e} |")
    print(f"wrote {path}")


def _video_reader() -> str:
    try:
        from qwen_vl_utils.vision_process import get_video_reader_backend

        return str(get_video_reader_backend())
    except Exception as exc:
        return f"unavailable ({type(exc).__name__})"


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"


if __name__ == "__main__":
    main()
