"""Cutting sequences into padded batches: shortest first, a new batch whenever one more row would
make the batch too big. Shared by the ONNX encoders and the Qwen3-VL models (no torch here)."""

from __future__ import annotations

from collections.abc import Callable, Sequence


def cut_sorted_batches(lengths: Sequence[int], too_big: Callable[[int, int], bool]) -> list[list[int]]:
    """Indices of `lengths` in batches, sorted by length. `too_big(rows, longest)` says whether a
    batch of `rows` rows padded to `longest` tokens is over budget; sorted ascending, the newcomer
    is the longest of its batch, so a batch is closed before the row that would break it."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        if current and too_big(len(current) + 1, lengths[i]):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches
