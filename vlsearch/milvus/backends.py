"""Who answers a Store's searches: Milvus (the reference) or the in-process index (an accelerator).

Both take the same validated arguments and return the same (Item, score) lists with the same
meaning: cosine similarity for dense, a positive BM25 score with the collection's definition and
per-group statistics for a caller restricted to groups (vlsearch.milvus.group_bm25). The index is
only a faster way to get Milvus's answer on an embedded store; turning it off
(VLSEARCH_MILVUS_LITE_MEMORY_INDEX=false) changes no ranking beyond float noise
(tests/milvus/test_backends.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

import numpy as np
from pymilvus import MilvusClient

from vlsearch.milvus import schema
from vlsearch.milvus.filters import build_filter
from vlsearch.milvus.group_bm25 import GroupBm25
from vlsearch.milvus.memory_index import MemoryIndex
from vlsearch.milvus.rows import row_item
from vlsearch.types import Item, SearchFilter

_HNSW_EF_MIN = 64


class SearchBackend(Protocol):
    def dense(
        self, collection: str, queries: np.ndarray, *, limit: int, flt: SearchFilter
    ) -> list[list[tuple[Item, float]]]:
        """Nearest rows by cosine similarity, best first, for each row of `queries` (k, dim)."""
        ...

    def bm25(self, collection: str, text: str, *, limit: int, flt: SearchFilter) -> list[tuple[Item, float]]:
        """Rows by positive BM25 score, best first."""
        ...


class MilvusBackend:
    """Searches through Milvus (a server, `milvus-lite server` or an embedded Lite file)."""

    def __init__(
        self,
        *,
        client: MilvusClient,
        physical: Callable[[str], str],
        groups_array: bool,
        twins: GroupBm25,
    ) -> None:
        self._client = client
        self._physical = physical
        self._groups_array = groups_array
        self._twins = twins

    def dense(
        self, collection: str, queries: np.ndarray, *, limit: int, flt: SearchFilter
    ) -> list[list[tuple[Item, float]]]:
        res = self._client.search(
            self._physical(collection),
            data=queries.tolist(),
            anns_field="dense",
            limit=limit,
            filter=build_filter(flt, groups_array=self._groups_array),
            output_fields=list(schema.OUTPUT_FIELDS),
            search_params={"metric_type": "COSINE", "params": {"ef": max(limit, _HNSW_EF_MIN)}},
        )
        return [[(row_item(h["entity"]), float(h["distance"])) for h in hits] for hits in res]

    def bm25(self, collection: str, text: str, *, limit: int, flt: SearchFilter) -> list[tuple[Item, float]]:
        if flt.groups is not None:
            rest = build_filter(replace(flt, groups=None), groups_array=self._groups_array)
            found = self._twins.search(
                collection, text, flt.groups, expr=rest, limit=limit, output_fields=list(schema.OUTPUT_FIELDS)
            )
            return [(row_item(entity), score) for entity, score in found]
        res = self._client.search(
            self._physical(collection),
            data=[text],
            anns_field="sparse",
            limit=limit,
            filter=build_filter(flt, groups_array=self._groups_array),
            output_fields=list(schema.OUTPUT_FIELDS),
            search_params={"metric_type": "BM25"},
        )
        # Lite 3.x returns BM25 scores negated, a server positive; true BM25 is never negative.
        return [(row_item(h["entity"]), abs(float(h["distance"]))) for h in res[0]]


class IndexBackend:
    """Searches the in-process index of an embedded store (built on first use)."""

    def __init__(self, memory: MemoryIndex) -> None:
        self._memory = memory

    def dense(
        self, collection: str, queries: np.ndarray, *, limit: int, flt: SearchFilter
    ) -> list[list[tuple[Item, float]]]:
        found = self._memory.search_dense(collection, queries, limit=limit, flt=flt)
        return [[(h.item, h.score) for h in hits] for hits in found]

    def bm25(self, collection: str, text: str, *, limit: int, flt: SearchFilter) -> list[tuple[Item, float]]:
        return [(h.item, h.score) for h in self._memory.search_bm25(collection, text, limit=limit, flt=flt)]
