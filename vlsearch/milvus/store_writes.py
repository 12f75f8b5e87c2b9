"""The Store's writes: upserts and deletes, kept in step with the in-process index and the
per-group BM25 twins, and the flushes Lite needs after them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
from pymilvus import MilvusClient, MilvusException

from vlsearch.milvus.filters import doc_filter, ids_filter
from vlsearch.milvus.group_bm25 import GroupBm25
from vlsearch.milvus.memory_index import MemoryIndex
from vlsearch.milvus.rows import item_row, row_item
from vlsearch.milvus.store_base import GET_BATCH, UPSERT_BATCH, count_rows, writing
from vlsearch.milvus.store_setup import StoreSetup
from vlsearch.types import COLLECTIONS, Item


class StoreWrites(StoreSetup):
    """Writes rows and removes them."""

    def flush_pending(self) -> None:
        """Flush every collection holding rows written since its last flush (close() does too)."""
        client = self._require()
        memory = self._memory
        with writing(memory):
            try:
                for name, pending in list(self._unflushed.items()):
                    if pending:
                        client.flush(self.physical(name))
                        self._unflushed[name] = 0
            except MilvusException as exc:
                raise self._translate(exc) from exc

    def upsert(self, items: Sequence[Item], vectors: np.ndarray) -> int:
        """Insert or replace rows, routed to each item's modality collection. Returns rows written."""
        if len(items) == 0:
            return 0
        if vectors.ndim != 2 or vectors.shape != (len(items), self._dim):
            raise ValueError(
                f"vectors must have shape ({len(items)}, {self._dim}), got {tuple(vectors.shape)}"
            )
        self._require()
        vectors = np.asarray(vectors, dtype=np.float32)
        as_lists = vectors.tolist()
        by_collection: dict[str, list[tuple[dict[str, Any], int]]] = {}
        for k, (item, vec) in enumerate(zip(items, as_lists, strict=True)):
            by_collection.setdefault(item.collection, []).append((item_row(item, vec), k))
        written = 0
        with self._writes() as (client, memory, twins):
            for name, rows in by_collection.items():
                kept = twins if twins is not None and twins.maintained(name) else None
                for start in range(0, len(rows), UPSERT_BATCH):
                    batch = rows[start : start + UPSERT_BATCH]
                    plain = [row for row, _ in batch]
                    before = kept.groups_of(name, ids_filter(r["id"] for r in plain)) if kept else {}
                    client.upsert(self.physical(name), plain)
                    written += len(batch)
                    if kept is not None:
                        kept.write(name, plain, before)
                    if memory is not None:
                        # the Item as Milvus returns it (names and text cut to their limits)
                        stored = [row_item(row) for row in plain]
                        memory.upsert(name, stored, vectors[[k for _, k in batch]])
                self._after_write(client, name, len(rows))
        return written

    def delete_document(self, doc_id: str) -> int:
        """Remove every row of a document from all collections. Returns how many were removed."""
        expr = doc_filter(doc_id)
        removed = 0
        with self._writes() as (client, memory, twins):
            for name in COLLECTIONS:
                n, kept, held = self._delete_where(client, name, expr, twins)
                if n:
                    removed += n
                    if kept is not None:
                        kept.delete_document(name, doc_id, {g for gs in held.values() for g in gs})
                    if memory is not None:
                        memory.delete_doc(name, doc_id)
                    self._after_write(client, name, n)
        return removed

    def delete_ids(self, ids: Sequence[str]) -> int:
        """Remove rows by item id from every collection. Returns how many were removed."""
        wanted = list(dict.fromkeys(ids))
        removed = 0
        with self._writes() as (client, memory, twins):
            for name in COLLECTIONS:
                touched = False
                for start in range(0, len(wanted), GET_BATCH):
                    chunk = wanted[start : start + GET_BATCH]
                    n, kept, held = self._delete_where(client, name, ids_filter(chunk), twins)
                    if n:
                        removed += n
                        touched = True
                        if kept is not None:
                            by_group: dict[str, list[str]] = {}
                            for item_id, groups in held.items():
                                for g in groups:
                                    by_group.setdefault(g, []).append(item_id)
                            kept.delete(name, {g: ids_filter(v) for g, v in by_group.items()})
                        if memory is not None:
                            memory.delete_ids(name, chunk)
                if touched:
                    self._after_write(client, name, 1)
        return removed

    @contextmanager
    def _writes(self) -> Iterator[tuple[MilvusClient, MemoryIndex | None, GroupBm25 | None]]:
        """What every write holds: the index's write lock across the Milvus write and the index
        update, a new index token before it (_before_write), Milvus errors translated. Yields the
        client, the in-process index (or None) and the per-group twins to keep in step (or None)."""
        client = self._require()
        memory = self._memory
        twins = self._twins_to_maintain()
        with writing(memory):
            try:
                self._before_write(client)
                yield client, memory, twins
            except MilvusException as exc:
                raise self._translate(exc) from exc

    def _delete_where(
        self, client: MilvusClient, name: str, expr: str, twins: GroupBm25 | None
    ) -> tuple[int, GroupBm25 | None, dict[str, tuple[str, ...]]]:
        """Delete the rows of one collection matching `expr`. Returns how many, the twins to keep in
        step (None where this collection has none) and the groups they held for those rows."""
        # Counted first: delete's own count differs between Lite and server versions.
        n = count_rows(client, self.physical(name), expr)
        if not n:
            return 0, None, {}
        kept = twins if twins is not None and twins.maintained(name) else None
        held = kept.groups_of(name, expr) if kept else {}
        client.delete(self.physical(name), filter=expr)
        return n, kept, held
