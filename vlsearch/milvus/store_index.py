"""The Store's in-process search index (embedded Lite): its snapshot, its warm-up, and which
backend answers a search (that index or Milvus)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import numpy as np
from pymilvus import MilvusClient, MilvusException

from vlsearch.errors import StoreUnavailableError
from vlsearch.milvus import schema
from vlsearch.milvus.backends import IndexBackend, SearchBackend
from vlsearch.milvus.bm25 import AnalyzerDriftError, TermCounts, term_counter
from vlsearch.milvus.connection import milvus_lite_version
from vlsearch.milvus.index_snapshot import SnapshotPrefetch, snapshot_path
from vlsearch.milvus.memory_index import MemoryIndex
from vlsearch.milvus.rows import row_item
from vlsearch.milvus.store_base import StoreBase, count_rows, log
from vlsearch.types import COLLECTIONS, Item


class StoreIndex(StoreBase):
    """Keeps the in-process index of an embedded store built, current and saved."""

    def save_index_snapshot(self) -> bool:
        """Persist the in-process index now if it changed since it was last saved or read (also
        done by close()). Returns whether a snapshot was written."""
        return self._save_snapshot(self._require())

    def _save_snapshot(self, client: MilvusClient) -> bool:
        memory, snapshots = self._memory, self._snapshots
        if memory is None or snapshots is None or not self._use_snapshot or not memory.built:
            return False
        try:
            with memory.writing:
                return snapshots.save(
                    memory, key=self._index_key(memory), set_token=lambda t: self._set_token(client, t)
                )
        except (OSError, MilvusException) as exc:
            # the index stays correct in memory; the next start rebuilds it from Lite
            log.warning("could not save the search index snapshot %s: %s", snapshots.path, exc)
            return False

    def _index_key(self, memory: MemoryIndex) -> dict[str, Any]:
        """The snapshot's definition key: schema layout, embedder, the analyzer's package version,
        and per collection the BM25 definition Lite states (MemoryIndex.definition), so a snapshot
        made under another definition is rebuilt, never served."""
        return {
            "schema": schema.SCHEMA_VERSION,
            "embedder_id": self._embedder_id,
            "milvus_lite": milvus_lite_version(),
            **memory.definition(),
        }

    def prefetch_index_snapshot(self) -> None:
        """Start reading the in-process index's snapshot on a background thread, before connect():
        Lite opening a large data dir and the snapshot read then overlap (a server's start-up).
        A no-op where there is no such index or snapshot; warm_up() uses what was read."""
        if not (self.is_lite and self._use_memory_index and self._use_snapshot) or self._prefetch:
            return
        path = snapshot_path(self._uri)
        if path.is_file():
            analyzer = schema.analyzer_params(self._analyzer)
            # then jieba reads its dictionary on that thread too (the collections' definitions,
            # read at connect, decide the key; this is the analyzer a new collection would state)
            self._prefetch = SnapshotPrefetch(path, then=lambda: term_counter(analyzer)("warm-up 预热"))

    def warm_up(self) -> int:
        """Build the in-process search index now rather than on the first search (a no-op for a
        server or when built). Returns the rows it holds (0 when there is no such index)."""
        memory = self._memory
        if memory is None or not self._use_memory_index:
            return 0
        if not memory.built:
            with memory.writing:
                try:
                    self._load_or_build(memory)
                except AnalyzerDriftError as exc:
                    log.error("in-memory search index disabled: %s", exc)
                    self._use_memory_index = False  # Milvus answers (its twins rebuilt on demand)
                    return 0
                memory.warm_analyzer()
        return sum(memory.count(name, None) or 0 for name in COLLECTIONS)

    def _load_or_build(self, memory: MemoryIndex) -> None:
        """Read the index's snapshot when it is current, else build from Lite and save a snapshot
        (so a start after a crash that wrote nothing is fast too). `writing` is held."""
        client = self._require()
        snapshots = self._snapshots if self._use_snapshot else None
        if snapshots is not None:
            try:
                token = self._index_token(client)
            except MilvusException as exc:
                raise self._translate(exc) from exc
            counts = lambda: {name: count_rows(client, self.physical(name), "") for name in COLLECTIONS}  # noqa: E731
            prefetch, self._prefetch = self._prefetch, None
            loaded = snapshots.load(
                memory, key=self._index_key(memory), token=token, counts=counts, prefetch=prefetch
            )
            if loaded is not None:
                return
        started = time.perf_counter()
        rows = memory.build(self._rows_for_index)
        log.info(
            "in-memory search index for %s: %d rows built from Lite in %.2f s",
            self._uri,
            rows,
            time.perf_counter() - started,
        )
        self._save_snapshot(client)

    def _rows_for_index(
        self, collection: str
    ) -> Iterator[tuple[list[Item], np.ndarray, list[TermCounts] | None]]:
        """Every row with its vector and, where Lite hands them out, its BM25 term counts."""
        fields = [*schema.OUTPUT_FIELDS, "dense", "sparse"]
        client = self._require()
        try:
            it = client.query_iterator(
                self.physical(collection), batch_size=2000, filter="", output_fields=fields
            )
            try:
                while batch := it.next():
                    vectors = np.asarray([row["dense"] for row in batch], dtype=np.float32)
                    sparse = [row.get("sparse") for row in batch]
                    terms = None if any(s is None for s in sparse) else [_term_counts(s) for s in sparse]
                    yield [row_item(row) for row in batch], vectors.reshape(len(batch), self._dim), terms
            finally:
                it.close()
        except MilvusException as exc:
            raise self._translate(exc) from exc

    def _backend(self) -> SearchBackend:
        """Who answers searches: the in-process index (built on first use) or Milvus."""
        memory = self._memory
        if self.searches_in_memory and memory is not None:
            if not memory.built:
                self.warm_up()
            if self.searches_in_memory:  # warm_up turns the index off when its analyzer drifted
                return IndexBackend(memory)
        milvus = self._milvus
        if milvus is None:
            raise StoreUnavailableError(f"store at {self._uri} is not connected: call connect() first")
        return milvus


def _term_counts(sparse: Any) -> TermCounts:
    """Lite's stored BM25 vector of a row (a dict, or a one-row scipy matrix) as term counts."""
    if isinstance(sparse, dict):
        return {int(k): float(v) for k, v in sparse.items()}
    coo = sparse.tocoo()
    return {int(k): float(v) for k, v in zip(coo.col, coo.data, strict=True)}
