"""Rerank speed: batched Qwen3VLReranker vs the official one-pair-per-forward method, same run.

Builds a Qwen3-VL backbone of the real 2B or 8B shape with random weights on the chosen device (no
download), reranks N text candidates (and a mixed set with images), and writes
benchmarks/results/rerank_speed_<device>_<shape>.json.

  python benchmarks/rerank_speed.py                       # auto: cuda -> 8B, 50 x ~400 tokens, bf16
  python benchmarks/rerank_speed.py --device cpu --shape 2b --n 8 --tokens 200 --mixed 4

Token counts come from the tiny test tokenizer (ids are valid in the real vocabulary); weights are
random, so scores are meaningless but the compute is the real model's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vlsearch.models.device import resolve_device
from vlsearch.models.qwen3vl.backbone import EncodedInput
from vlsearch.models.qwen3vl.inputs import SideContent, parse_side
from vlsearch.rerank import Qwen3VLReranker
from vlsearch.testing.tiny_qwen3vl import SPECIAL_TOKENS, build_processor, build_tokenizer

SHAPES: dict[str, dict[str, Any]] = {
    # A toy shape for smoke-testing this script in seconds; not a real model.
    "tiny": {
        "text": {
            "hidden_size": 128,
            "intermediate_size": 256,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "num_key_value_heads": 1,
        },
        "vision": {
            "depth": 2,
            "hidden_size": 64,
            "intermediate_size": 128,
            "num_heads": 2,
            "out_hidden_size": 128,
            "deepstack_visual_indexes": [0],
        },
        "tie": True,
    },
    "8b": {
        "text": {
            "hidden_size": 4096,
            "intermediate_size": 12288,
            "num_hidden_layers": 36,
            "num_attention_heads": 32,
            "num_key_value_heads": 8,
        },
        "vision": {
            "depth": 27,
            "hidden_size": 1152,
            "intermediate_size": 4304,
            "num_heads": 16,
            "out_hidden_size": 4096,
            "deepstack_visual_indexes": [8, 16, 24],
        },
        "tie": False,
    },
    "2b": {
        "text": {
            "hidden_size": 2048,
            "intermediate_size": 6144,
            "num_hidden_layers": 28,
            "num_attention_heads": 16,
            "num_key_value_heads": 8,
        },
        "vision": {
            "depth": 24,
            "hidden_size": 1024,
            "intermediate_size": 4096,
            "num_heads": 16,
            "out_hidden_size": 2048,
            "deepstack_visual_indexes": [5, 11, 17],
        },
        "tie": True,
    },
}

_WORD_TEXT = (
    "server power supply module replace rear panel alarm light red green fan cooling rack node cable "
    "the a of to and in is on for with that this by from at as be are was it or an not which maintenance "
    "procedure step check voltage current battery firmware update log error code manual section figure"
)
WORDS = _WORD_TEXT.split()


def build_config(shape: str, tokenizer: Any) -> Any:
    from transformers import Qwen3VLConfig

    spec = SHAPES[shape]
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    text = dict(
        spec["text"],
        head_dim=128,
        vocab_size=151936,
        max_position_embeddings=262144,
        rope_parameters={
            "rope_type": "default",
            "rope_theta": 5_000_000.0,
            "mrope_section": [24, 20, 20],
            "mrope_interleaved": True,
        },
        pad_token_id=ids["<|endoftext|>"],
        rms_norm_eps=1e-6,
    )
    vision = dict(
        spec["vision"],
        patch_size=16,
        spatial_merge_size=2,
        temporal_patch_size=2,
        num_position_embeddings=2304,
    )
    return Qwen3VLConfig(
        text_config=text,
        vision_config=vision,
        tie_word_embeddings=spec["tie"],
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
    )


def build_random_backbone(config: Any, device: str, dtype: torch.dtype, attn: str) -> Any:
    """Allocate straight on the device in the target dtype, then fill cheaply (no HF init pass)."""
    from transformers import Qwen3VLModel
    from transformers.initialization import no_init_weights

    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device), no_init_weights():
            model = Qwen3VLModel._from_config(config, attn_implementation=attn, dtype=dtype)
    finally:
        torch.set_default_dtype(previous)
    gen = torch.Generator(device=device).manual_seed(0)
    bound = 0.02 * 3**0.5
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith("bias"):
                param.zero_()
            elif param.ndim == 1:
                param.fill_(1.0)
            else:
                param.uniform_(-bound, bound, generator=gen)
    return model.eval()


def make_text(tokenizer: Any, n_tokens: int, rng: np.random.Generator) -> str:
    words: list[str] = []
    while len(tokenizer.encode(" ".join(words), add_special_tokens=False)) < n_tokens:
        words.extend(rng.choice(WORDS, size=max(1, n_tokens // 8)).tolist())
    ids = tokenizer.encode(" ".join(words), add_special_tokens=False)[:n_tokens]
    return str(tokenizer.decode(ids))


def make_image(rng: np.random.Generator, size: int) -> Image.Image:
    base = rng.integers(0, 255, size=(size // 16, size // 16, 3), dtype=np.uint8)
    return Image.fromarray(base).resize((size, size), Image.Resampling.BILINEAR)


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def estimate_flops(model: Any, encoded: list[EncodedInput]) -> float:
    """Useful forward FLOPs: 2·params·tokens for the matmuls plus causal attention (padding excluded)."""
    tc, vc = model.config.text_config, model.config.vision_config
    layer_params = sum(p.numel() for p in model.language_model.layers.parameters())
    attn_width = tc.num_attention_heads * tc.head_dim
    flops = 0.0
    for enc in encoded:
        n = len(enc)
        flops += 2.0 * layer_params * n + 2.0 * tc.num_hidden_layers * attn_width * n * n
    vis_params = sum(p.numel() for p in model.visual.blocks.parameters())
    for grid_thw in [e.image_grid_thw for e in encoded] + [e.video_grid_thw for e in encoded]:
        if grid_thw is None:
            continue
        for t, h, w in grid_thw.tolist():
            patches = t * h * w
            flops += 2.0 * vis_params * patches + 4.0 * vc.depth * vc.hidden_size * patches * h * w
    return flops


def peak_memory_gib(device: str) -> float:
    if device.startswith("cuda"):
        return torch.cuda.max_memory_allocated() / 1024**3
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB -> GiB, process peak RSS


def run_method(
    reranker: Qwen3VLReranker, query: SideContent, docs: list[SideContent], *, batched: bool, device: str
) -> tuple[dict[str, Any], list[float]]:
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    calls = reranker.forward_calls
    sync(device)
    start = time.perf_counter()
    if batched:
        encoded = reranker.encode_pairs(query, docs)
        encode_s = time.perf_counter() - start
        scores = reranker.score_encoded(encoded)
    else:
        # The official code: build, tokenize and run one (query, document) pair per forward pass.
        encoded, scores, encode_s = [], [], 0.0
        for doc in docs:
            t0 = time.perf_counter()
            enc = reranker.encode_pairs(query, [doc])
            encode_s += time.perf_counter() - t0
            encoded.extend(enc)
            scores.extend(reranker.score_encoded(enc, batched=False))
    sync(device)
    total = time.perf_counter() - start
    flops = estimate_flops(reranker._model, encoded)
    result = {
        "seconds": round(total, 4),
        "encode_seconds": round(encode_s, 4),
        "candidates_per_s": round(len(docs) / total, 3),
        "latency_per_query_s": round(total, 4),
        "ms_per_candidate": round(1000 * total / len(docs), 2),
        "forward_passes": reranker.forward_calls - calls,
        "tokens": int(sum(len(e) for e in encoded)),
        "peak_memory_gib": round(peak_memory_gib(device), 3),
        "achieved_tflops": round(flops / (total - encode_s) / 1e12, 3),
        "model_flops_t": round(flops / 1e12, 3),
    }
    return result, scores


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    parser.add_argument("--shape", choices=sorted(SHAPES), help="default: 8b on cuda, 2b on cpu")
    parser.add_argument("--dtype", help="default: bfloat16 on cuda, float32 on cpu")
    parser.add_argument("--n", type=int, help="text candidates (default 50 cuda / 8 cpu)")
    parser.add_argument("--tokens", type=int, help="tokens per text chunk (default 400 cuda / 200 cpu)")
    parser.add_argument(
        "--mixed", type=int, help="candidates in the image+text set (default 20 / 4; 0 = skip)"
    )
    parser.add_argument("--image-size", type=int, default=448, help="square image side in pixels")
    parser.add_argument("--token-budget", type=int, default=16384)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    args = parser.parse_args()

    torch.manual_seed(0)
    load_start = os.getloadavg()[0]
    choice = resolve_device(None if args.device == "auto" else args.device, args.dtype)
    cuda = choice.is_cuda
    shape = args.shape or ("8b" if cuda else "2b")
    n = args.n or (50 if cuda else 8)
    n_tokens = args.tokens or (400 if cuda else 200)
    n_mixed = args.mixed if args.mixed is not None else (20 if cuda else 4)

    tokenizer = build_tokenizer()
    processor = build_processor(tokenizer)
    config = build_config(shape, tokenizer)
    t0 = time.perf_counter()
    model = build_random_backbone(config, choice.device, choice.dtype, choice.attn_implementation)
    sync(choice.device)
    build_s = time.perf_counter() - t0
    hidden = config.text_config.hidden_size
    rows = torch.randn(2, hidden, generator=torch.Generator().manual_seed(1)) * 0.02
    reranker = Qwen3VLReranker.from_loaded(
        processor=processor,
        model=model,
        yes_no_rows=rows,
        model_id=f"random-qwen3-vl-{shape}",
        token_budget=args.token_budget,
    )
    n_params = sum(p.numel() for p in model.parameters())
    print(
        f"built {shape} ({n_params / 1e9:.2f}B params) on {choice.device} {choice.dtype_name} "
        f"attn={choice.attn_implementation} in {build_s:.1f}s",
        flush=True,
    )

    rng = np.random.default_rng(0)
    query = parse_side({"text": "How do I replace the power supply module when the red alarm light is on?"})
    sets: dict[str, list[SideContent]] = {
        "text": [parse_side({"text": make_text(tokenizer, n_tokens, rng)}) for _ in range(n)]
    }
    if n_mixed:
        sets["mixed"] = [
            parse_side(
                {"image": make_image(rng, args.image_size), "text": make_text(tokenizer, n_tokens // 4, rng)}
                if i % 2 == 0
                else {"text": make_text(tokenizer, n_tokens, rng)}
            )
            for i in range(n_mixed)
        ]
    # Warm-up (allocator, kernels, thread pools), excluded from timings.
    reranker.score_encoded(reranker.encode_pairs(query, sets["text"][:2]))

    results: dict[str, Any] = {}
    for name, docs in sets.items():
        official, s_off = run_method(reranker, query, docs, batched=False, device=choice.device)
        print(f"[{name}] official one-pair-per-forward: {official}", flush=True)
        batched, s_bat = run_method(reranker, query, docs, batched=True, device=choice.device)
        print(f"[{name}] batched: {batched}", flush=True)
        results[name] = {
            "candidates": len(docs),
            "official": official,
            "batched": batched,
            "speedup": round(official["seconds"] / batched["seconds"], 3),
            "max_abs_score_diff": float(np.max(np.abs(np.array(s_off) - np.array(s_bat)))),
        }

    device_name = torch.cuda.get_device_name(0) if cuda else (platform.processor() or platform.machine())
    out = {
        "benchmark": "rerank_speed",
        "device": choice.device,
        "device_name": device_name,
        "cpu_threads": torch.get_num_threads(),
        # Other work on the host skews CPU timings; a 1-min load above the core count means contention.
        "load_average_1min": {"start": round(load_start, 2), "end": round(os.getloadavg()[0], 2)},
        "host_cores": os.cpu_count(),
        "shape": shape,
        "params_billion": round(n_params / 1e9, 3),
        "dtype": choice.dtype_name,
        "attn_implementation": choice.attn_implementation,
        "token_budget": args.token_budget,
        "tokens_per_text_chunk": n_tokens,
        "image_size": args.image_size,
        "build_seconds": round(build_s, 2),
        "weights": "random (real shape); scores are not meaningful, compute is",
        "peak_memory_note": "CUDA: max allocated; CPU: process peak RSS (includes weights)",
        "sets": results,
        "versions": {"torch": torch.__version__, "transformers": __import__("transformers").__version__},
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }
    path = Path(args.out) / f"rerank_speed_{'cuda' if cuda else 'cpu'}_{shape}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
