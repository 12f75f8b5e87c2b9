"""The one place that decides device, dtype and attention implementation for torch models."""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass

import torch

log = logging.getLogger(__name__)

_DTYPES = {
    "bf16": torch.bfloat16,
    "bfloat16": torch.bfloat16,
    "fp16": torch.float16,
    "float16": torch.float16,
    "half": torch.float16,
    "fp32": torch.float32,
    "float32": torch.float32,
    "float": torch.float32,
}


@dataclass(frozen=True)
class DeviceChoice:
    device: str  # "cuda", "cuda:1", "cpu"
    dtype: torch.dtype
    attn_implementation: str  # "flash_attention_2" | "sdpa" | "eager"
    reason: str

    @property
    def dtype_name(self) -> str:
        return str(self.dtype).removeprefix("torch.")

    @property
    def is_cuda(self) -> bool:
        return self.device.startswith("cuda")


def parse_dtype(value: torch.dtype | str | None) -> torch.dtype | None:
    if value is None or isinstance(value, torch.dtype):
        return value
    if value in ("", "auto"):
        return None
    try:
        return _DTYPES[value.lower()]
    except KeyError:
        raise ValueError(f"unknown dtype {value!r}; use one of {sorted(_DTYPES)}") from None


def flash_attention_available() -> bool:
    return importlib.util.find_spec("flash_attn") is not None


def resolve_device(
    device: str | None = None,
    dtype: torch.dtype | str | None = None,
    attn_implementation: str | None = None,
) -> DeviceChoice:
    """CUDA when present (bf16, FlashAttention-2 when importable, SDPA otherwise); CPU float32 else.

    Explicit arguments win. FA2 needs CUDA and a half dtype, so it silently degrades to SDPA
    (logged) rather than failing: a missing kernel must never stop search.
    """
    reasons: list[str] = []
    if device:
        dev = device
        if dev.startswith("cuda") and not torch.cuda.is_available():
            raise ValueError(f"device {dev!r} requested but CUDA is not available; set device to 'cpu'")
        reasons.append(f"device {dev} requested")
    elif torch.cuda.is_available():
        dev = "cuda"
        reasons.append(f"CUDA present ({torch.cuda.get_device_name(0)})")
    else:
        dev = "cpu"
        reasons.append("no CUDA device")
    is_cuda = dev.startswith("cuda")

    chosen = parse_dtype(dtype)
    if chosen is None:
        chosen = torch.bfloat16 if is_cuda else torch.float32
        reasons.append(f"default dtype {chosen} for {'cuda' if is_cuda else 'cpu'}")

    if attn_implementation:
        attn = attn_implementation
        if attn == "flash_attention_2" and not (is_cuda and flash_attention_available()):
            log.warning("flash_attention_2 requested but unusable here (needs CUDA + flash_attn); using sdpa")
            attn = "sdpa"
    elif is_cuda and chosen in (torch.bfloat16, torch.float16) and flash_attention_available():
        attn = "flash_attention_2"
        reasons.append("flash_attn importable")
    else:
        attn = "sdpa"
        if is_cuda:
            reasons.append("flash_attn not importable or fp32: SDPA")
    choice = DeviceChoice(device=dev, dtype=chosen, attn_implementation=attn, reason="; ".join(reasons))
    log.info("device=%s dtype=%s attention=%s (%s)", choice.device, choice.dtype_name, attn, choice.reason)
    return choice


def free_gpu_bytes(device: int | str = 0) -> int:
    """Free memory on a CUDA device, 0 without CUDA."""
    if not torch.cuda.is_available():
        return 0
    free, _total = torch.cuda.mem_get_info(torch.device(device) if isinstance(device, str) else device)
    return int(free)


def release_cuda_memory() -> None:
    import gc

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
