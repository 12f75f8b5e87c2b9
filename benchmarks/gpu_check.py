"""One-command GPU check of the Qwen3-VL reranker, for a lent H100/H200 with no network.

  python3 benchmarks/gpu_check.py --out $OUT/gpu_check.json     # on the GPU host (carry build/wheels)
  python benchmarks/gpu_check.py --tiny --out /tmp/gpu_check.json  # CPU smoke run (the test suite)

For an 8B-shaped and a 2B-shaped Qwen3-VL backbone with random weights, built directly on the GPU
in bf16 (no download, no CPU copy of the weights), it reranks

  * 50 text candidates of ~400 tokens, and
  * a mixed set of 40 text candidates and 10 images (448x448),

batched (vlsearch) and one pair per forward pass (the official method) in the same run, and records
wall time (median of --repeats), peak GPU memory, the attention implementation that actually ran,
and the largest score difference between the two methods. Targets (issue 13): 8B, 50 text
candidates in <= 1.0 s and >= 10x the one-pair-at-a-time path.

The GPU image has torch and transformers but not pydantic-settings or qwen-vl-utils: `make
gpu-wheels` (here, with network) downloads them into build/wheels, which the run carries; this
script installs them into a temporary folder when they are missing. Out-of-memory in one section
is recorded and the next section runs.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing is downloaded; the host has no network
ROOT = Path(__file__).resolve().parents[1]
WHEELS = ROOT / "build" / "wheels"
NEEDED = ("pydantic", "pydantic_settings", "qwen_vl_utils")


def bootstrap_wheels() -> str:
    """Install the carried wheels when a needed package is missing; say what was done."""
    missing = [name for name in NEEDED if importlib.util.find_spec(name) is None]
    if not missing:
        return "all present"
    wheels = sorted(WHEELS.glob("*.whl"))
    if not wheels:
        return f"missing {missing} and no wheels in {WHEELS} (run `make gpu-wheels` and carry build/wheels)"
    target = Path(tempfile.gettempdir()) / "vlsearch-gpu-site"
    cmd = [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-compile"]
    done = subprocess.run([*cmd, "--upgrade", "--target", str(target), *map(str, wheels)], check=False)
    if done.returncode:
        # e.g. wheels made for another Python than this one (make gpu-wheels targets 3.12)
        return f"missing {missing}; installing {WHEELS} failed (pip exit {done.returncode}), see above"
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    return f"installed {len(wheels)} carried wheels for {missing}"


BOOTSTRAP = bootstrap_wheels()
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from rerank_speed import build_config, build_random_backbone, make_image, make_text, run_method  # noqa: E402

from vlsearch.models.device import resolve_device  # noqa: E402
from vlsearch.models.qwen3vl.inputs import SideContent, parse_side  # noqa: E402
from vlsearch.rerank import Qwen3VLReranker  # noqa: E402
from vlsearch.testing.tiny_qwen3vl import build_processor, build_tokenizer  # noqa: E402

QUERY = "How do I replace the power supply module when the red alarm light is on?"
TARGET_SECONDS = 1.0
TARGET_SPEEDUP = 10.0


def _free(device: str) -> None:
    gc.collect()
    if device.startswith("cuda"):
        torch.cuda.empty_cache()


def _sets(tokenizer: Any, args: argparse.Namespace) -> dict[str, list[SideContent]]:
    rng = np.random.default_rng(0)
    text = [parse_side({"text": make_text(tokenizer, args.tokens, rng)}) for _ in range(args.n_text)]
    mixed = [parse_side({"text": make_text(tokenizer, args.tokens, rng)}) for _ in range(args.mixed_text)]
    mixed += [
        parse_side(
            {"image": make_image(rng, args.image_size), "text": make_text(tokenizer, args.tokens // 8, rng)}
        )
        for _ in range(args.mixed_images)
    ]
    # interleave so that batching has to sort image and text rows by length
    order = np.random.default_rng(1).permutation(len(mixed))
    return {"text": text, "mixed": [mixed[i] for i in order]}


def _measure(reranker: Qwen3VLReranker, docs: list[SideContent], device: str, repeats: int) -> dict[str, Any]:
    query = parse_side({"text": QUERY})
    runs: dict[str, list[dict[str, Any]]] = {"one_pair": [], "batched": []}
    scores: dict[str, list[float]] = {}
    for _ in range(repeats):
        for name, batched in (("one_pair", False), ("batched", True)):
            result, got = run_method(reranker, query, docs, batched=batched, device=device)
            runs[name].append(result)
            scores[name] = got
    out: dict[str, Any] = {"candidates": len(docs)}
    for name, results in runs.items():
        seconds = [r["seconds"] for r in results]
        best = min(results, key=lambda r: r["seconds"])
        out[name] = {
            "seconds_median": round(statistics.median(seconds), 4),
            "seconds_all": seconds,
            "forward_passes": best["forward_passes"],
            "tokens": best["tokens"],
            "peak_memory_gib": max(r["peak_memory_gib"] for r in results),
            "achieved_tflops": best["achieved_tflops"],
        }
    out["speedup"] = round(out["one_pair"]["seconds_median"] / out["batched"]["seconds_median"], 2)
    out["max_abs_score_diff"] = float(
        np.max(np.abs(np.array(scores["one_pair"]) - np.array(scores["batched"])))
    )
    return out


def check_shape(shape: str, args: argparse.Namespace, deadline: float) -> dict[str, Any]:
    choice = resolve_device(args.device, args.dtype)
    tokenizer = build_tokenizer()
    processor = build_processor(tokenizer)
    config = build_config(shape, tokenizer)
    entry: dict[str, Any] = {
        "shape": shape,
        "dtype": choice.dtype_name,
        "attention_chosen": choice.attn_implementation,
    }
    entry["attention_reason"] = choice.reason
    model = reranker = None
    try:
        started = time.perf_counter()
        model = build_random_backbone(config, choice.device, choice.dtype, choice.attn_implementation)
        if choice.is_cuda:
            torch.cuda.synchronize()
            entry["weights_gib"] = round(torch.cuda.memory_allocated() / 1024**3, 3)
        entry["build_seconds"] = round(time.perf_counter() - started, 2)
        entry["params_billion"] = round(sum(p.numel() for p in model.parameters()) / 1e9, 3)
        rows = (
            torch.randn(2, config.text_config.hidden_size, generator=torch.Generator().manual_seed(1)) * 0.02
        )
        reranker = Qwen3VLReranker.from_loaded(
            processor=processor,
            model=model,
            yes_no_rows=rows,
            model_id=f"random-qwen3-vl-{shape}",
            token_budget=args.token_budget,
        )
        sets = _sets(tokenizer, args)
        # warm-up: kernels, cuBLAS handles, allocator; includes the FA2 first-forward check
        warm = sets["text"][:4] + sets["mixed"][-2:]
        reranker.score_encoded(reranker.encode_pairs(parse_side({"text": QUERY}), warm))
        reranker.score_encoded(reranker.encode_pairs(parse_side({"text": QUERY}), warm[:1]), batched=False)
        for name, docs in sets.items():
            if time.monotonic() > deadline:
                entry[name] = {"skipped": "time budget reached"}
                continue
            try:
                entry[name] = _measure(reranker, docs, choice.device, args.repeats)
            except torch.OutOfMemoryError as exc:
                entry[name] = {"error": f"out of memory: {str(exc).splitlines()[0]}"}
                _free(choice.device)
        entry["attention_ran"] = reranker.attn_implementation
        entry["attention_fallback"] = reranker._guard.fallback if reranker._guard else ""
    except torch.OutOfMemoryError as exc:
        entry["error"] = f"out of memory: {str(exc).splitlines()[0]}"
    finally:
        del model, reranker
        _free(choice.device)
    text = entry.get("text", {})
    if shape == "8b" and "batched" in text:
        entry["targets"] = {
            "batched_seconds_le_1": text["batched"]["seconds_median"] <= TARGET_SECONDS,
            "speedup_ge_10": text["speedup"] >= TARGET_SPEEDUP,
        }
    return entry


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "gpu_check.json"))
    parser.add_argument("--tiny", action="store_true", help="toy shape on the CPU, small sets (smoke test)")
    parser.add_argument("--shapes", default="8b,2b")
    parser.add_argument("--device", default=None, help="default: cuda when present")
    parser.add_argument("--dtype", default="bf16")
    parser.add_argument("--n-text", type=int, default=50)
    parser.add_argument("--tokens", type=int, default=400)
    parser.add_argument("--mixed-text", type=int, default=40)
    parser.add_argument("--mixed-images", type=int, default=10)
    parser.add_argument("--image-size", type=int, default=448)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--token-budget", type=int, default=16384)
    parser.add_argument("--budget-s", type=float, default=480.0, help="stop starting new sections after this")
    args = parser.parse_args()
    if args.tiny:
        args.shapes, args.device, args.dtype = "tiny", args.device or "cpu", "float32"
        args.n_text, args.tokens, args.mixed_text, args.mixed_images = 3, 40, 2, 1
        args.image_size, args.repeats = 64, 1
    started = time.monotonic()
    deadline = started + args.budget_s
    torch.manual_seed(0)
    cuda = torch.cuda.is_available() and (args.device or "cuda").startswith("cuda")
    result: dict[str, Any] = {
        "benchmark": "gpu_check",
        "device_name": torch.cuda.get_device_name(0) if cuda else platform.processor() or platform.machine(),
        "capability": list(torch.cuda.get_device_capability(0)) if cuda else None,
        "wheels": BOOTSTRAP,
        "flash_attn_installed": importlib.util.find_spec("flash_attn") is not None,
        "sets": {
            "text": f"{args.n_text} x ~{args.tokens} tokens",
            "mixed": f"{args.mixed_text} text + {args.mixed_images} images {args.image_size}px",
        },
        "targets": f"8b text batched <= {TARGET_SECONDS} s and >= {TARGET_SPEEDUP}x one pair per forward",
        "shapes": [],
    }
    for shape in [s.strip() for s in args.shapes.split(",") if s.strip()]:
        if time.monotonic() > deadline:
            result["shapes"].append({"shape": shape, "skipped": "time budget reached"})
            continue
        entry = check_shape(shape, args, deadline)
        result["shapes"].append(entry)
        print(json.dumps(entry, indent=None)[:2000], flush=True)
    result["seconds"] = round(time.monotonic() - started, 1)
    result["versions"] = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": __import__("transformers").__version__,
    }
    result["command"] = " ".join([Path(sys.executable).name, *sys.argv])
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path} in {result['seconds']} s")


if __name__ == "__main__":
    main()
