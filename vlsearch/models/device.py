"""The one place that decides device, dtype and attention implementation for torch models.

torch is imported inside the functions, never at module import: a CPU search node or a node that
only talks to a remote reranker imports this module's callers without paying for torch.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

_DTYPE_NAMES = {
    "bf16": "bfloat16",
    "bfloat16": "bfloat16",
    "fp16": "float16",
    "float16": "float16",
    "half": "float16",
    "fp32": "float32",
    "float32": "float32",
    "float": "float32",
}
# FlashAttention-2 kernels exist for Ampere (sm_80) and newer only.
FA2_MIN_CAPABILITY = (8, 0)
FA2 = "flash_attention_2"
SDPA = "sdpa"


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


def parse_dtype(value: Any) -> torch.dtype | None:
    """A torch dtype from a dtype, a name ("bf16", "float32", …) or None/"auto" (= choose)."""
    if value is None or (isinstance(value, str) and value in ("", "auto")):
        return None
    import torch

    if isinstance(value, torch.dtype):
        return value
    name = _DTYPE_NAMES.get(str(value).lower().removeprefix("torch."))
    if name is None:
        raise ValueError(f"unknown dtype {value!r}; use one of {sorted(_DTYPE_NAMES)}")
    dtype: torch.dtype = getattr(torch, name)
    return dtype


def dtype_label(value: Any) -> str:
    """A dtype's short name without importing torch ("bfloat16", "auto")."""
    if value is None or value == "":
        return "auto"
    text = str(value).removeprefix("torch.")
    return _DTYPE_NAMES.get(text.lower(), text)


def placement_labels(
    choice: DeviceChoice | None, *, device: str | None, device_map: object, dtype: object
) -> tuple[str, str]:
    """(device, dtype) as ModelInfo shows them: what the load resolved, else what was asked for."""
    shown = str(device_map or (choice.device if choice else (device or "auto")))
    return shown, choice.dtype_name if choice else dtype_label(dtype)


def flash_attention_available() -> bool:
    return importlib.util.find_spec("flash_attn") is not None


def cuda_capability(device: str) -> tuple[int, int]:
    import torch

    index = torch.device(device).index
    major, minor = torch.cuda.get_device_capability(0 if index is None else index)
    return int(major), int(minor)


def _fa2_blocker(device: str, dtype: torch.dtype) -> str:
    """Why FlashAttention-2 cannot run here ("" when it can)."""
    import torch

    if not device.startswith("cuda"):
        return "not a CUDA device"
    if dtype not in (torch.bfloat16, torch.float16):
        return f"dtype {str(dtype).removeprefix('torch.')} (FA2 needs bf16/fp16)"
    capability = cuda_capability(device)
    if capability < FA2_MIN_CAPABILITY:
        return f"compute capability {capability[0]}.{capability[1]} < 8.0"
    if not flash_attention_available():
        return "flash_attn is not installed"
    return ""


def resolve_device(
    device: str | None = None,
    dtype: Any = None,
    attn_implementation: str | None = None,
) -> DeviceChoice:
    """CUDA when present (bf16; FlashAttention-2 on capability ≥ 8.0 with flash_attn, else SDPA);
    CPU float32 otherwise.

    Explicit arguments win, except that FA2 asked for where it cannot run degrades to SDPA (logged)
    rather than failing: a missing kernel must never stop search.
    """
    import torch

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

    if attn_implementation and attn_implementation != FA2:
        attn = attn_implementation
    else:
        blocker = _fa2_blocker(dev, chosen)
        attn = SDPA if blocker else FA2
        if blocker and (attn_implementation == FA2 or is_cuda):
            log.warning("FlashAttention-2 not used: %s; using SDPA", blocker)
        reasons.append(f"SDPA ({blocker})" if blocker else "FlashAttention-2 (capability ≥ 8.0, flash_attn)")
    choice = DeviceChoice(device=dev, dtype=chosen, attn_implementation=attn, reason="; ".join(reasons))
    log.info("device=%s dtype=%s attention=%s (%s)", choice.device, choice.dtype_name, attn, choice.reason)
    return choice


def free_gpu_bytes(device: int | str = 0) -> int:
    """Free memory on a CUDA device, 0 without CUDA."""
    import torch

    if not torch.cuda.is_available():
        return 0
    free, _total = torch.cuda.mem_get_info(torch.device(device) if isinstance(device, str) else device)
    return int(free)


def release_cuda_memory() -> None:
    import gc
    import sys

    gc.collect()
    if "torch" not in sys.modules:  # nothing was ever put on a GPU
        return
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()
