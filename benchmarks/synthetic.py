"""Synthetic rows for the retrieval benchmarks: random-word text for BM25 (embedding 100k texts on a
CPU is not the point) and random unit vectors.

Scripts import it as a sibling (`from synthetic import ...`: a script's own folder is first on its
path). vlsearch is imported inside the functions, from whichever tree is on the path when they run,
so a worker that runs against a baseline tree (server_groups.py) builds that tree's Item.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import numpy as np


def vocabulary(rng: random.Random, size: int = 5000) -> list[str]:
    """Pronounceable unique words (consonant, vowel, consonant, number), drawn from `rng`."""
    return [
        f"{rng.choice('bcdfghklmnprstvz')}{rng.choice('aeiou')}{rng.choice('lmnrst')}{k}" for k in range(size)
    ]


def _bench_group(i: int) -> tuple[str, ...]:
    return ("bench",)


def text_items(
    start: int,
    n: int,
    rng: random.Random,
    vocab: list[str],
    *,
    groups: Callable[[int], tuple[str, ...]] = _bench_group,
) -> list[Any]:
    """Rows s<start>..s<start+n-1> of 40 random words each, four rows to a document
    (doc<i // 4>, /synthetic/doc<i // 4>.txt), shared with `groups(i)`."""
    from vlsearch.types import Item, Locator, Modality

    return [
        Item(
            id=f"s{i}",
            doc_id=f"doc{i // 4}",
            modality=Modality.TEXT,
            text=" ".join(rng.choices(vocab, k=40)),
            locator=Locator(index=i % 4),
            source=f"/synthetic/doc{i // 4}.txt",
            name=f"doc{i // 4}.txt",
            doc_type="text",
            groups=groups(i),
        )
        for i in range(start, start + n)
    ]


def unit_vectors(rows: int, dim: int, gen: np.random.Generator) -> np.ndarray:
    """(rows, dim) float32, each of length 1."""
    v = gen.standard_normal((rows, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)
