"""One BM25 collection per group, so Milvus itself scores a group's rows with that group's statistics.

Milvus keeps BM25 statistics (document frequencies, average length) per collection shard; a filter
or a partition does not narrow them. Searched in one shared collection, a row's score for group B
therefore depends on words in group A's rows that B cannot see: A uploading or deleting a file
moved B's scores (1.41 -> 0.68 -> 1.41 in the attack of issue 15). Here each collection (`chunks`,
`images`, `frames`) has, for every group, a twin `<name>__bm25_<hash(group)>` holding the rows of
that group without their vectors. A caller restricted to groups is BM25-searched in the twins of
their groups: every row there is visible to them, so no statistic counts a hidden row. A row in
several of the caller's groups is found in each and keeps its best score; the in-process index
(milvus.memory_index) computes exactly this.

Costs (measured in docs/scale.md): each row is stored once more per group (text and scalar fields,
no vector), a write goes to the shared collection and to the row's groups' twins, a filtered BM25
search is one Milvus search per caller group. Dense search stays in the shared collection (a cosine
does not depend on other rows).

An embedded store that searches its in-process index does not keep the twins (it needs none) and
marks its collections `absent`. A Store that searches through Milvus keeps the twins in step with
its writes while they are `maintained`, and rebuilds them from the shared rows on the first search
that needs them while they are `absent` (the first process that serves an embedded data dir through
`milvus-lite server` pays this once; a one-shot CLI search, which has no groups filter, never does).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pymilvus import MilvusClient

from vlsearch.milvus import schema
from vlsearch.milvus.bm25 import Bm25Definition
from vlsearch.milvus.filters import check_value, doc_filter, ids_filter

log = logging.getLogger(__name__)

_INFIX = "__bm25_"
_LIST_TTL_S = 5.0
_STATE_TTL_S = 2.0  # other processes flip the state (an embedded writer, a rebuild elsewhere)
_BATCH = 512
_ID_BATCH = 1000


def twin_suffix(group: str) -> str:
    """Collection names allow [A-Za-z0-9_] only; a group allows more, and up to 128 characters."""
    return _INFIX + hashlib.sha256(check_value(group, "group").encode("ascii")).hexdigest()[:24]


class GroupBm25:
    """The per-group BM25 twins of a Store's collections (all calls on one MilvusClient)."""

    def __init__(
        self,
        *,
        client: MilvusClient,
        physical: Callable[[str], str],
        dim: int,
        analyzer: str,
        lite: bool,
    ) -> None:
        self._client = client
        self._physical = physical
        self._dim = dim
        self._analyzer = analyzer
        self._lite = lite  # Lite searches unflushed rows by brute force: flush after writes
        self._definitions: dict[str, Bm25Definition] = {}
        self._known: set[str] = set()
        self._listed_at = 0.0
        self._states: dict[str, tuple[float, str | None]] = {}
        self._lock = threading.Lock()
        self._rebuilding = threading.Lock()

    def define(self, collection: str, definition: Bm25Definition) -> None:
        """The BM25 definition of a collection, which its twins copy (analyzer, k1, b): a collection
        made by an earlier layout keeps its own analyzer, and so must its twins."""
        self._definitions[collection] = definition

    def name(self, collection: str, group: str) -> str:
        return self._physical(collection) + twin_suffix(group)

    # -- existence ------------------------------------------------------------------------

    def _existing(self, *, refresh: bool = False) -> set[str]:
        """Twin names that exist (other processes create twins too: re-listed every few seconds)."""
        with self._lock:
            if refresh or time.monotonic() - self._listed_at > _LIST_TTL_S:
                self._known = {n for n in self._client.list_collections() if _INFIX in n}
                self._listed_at = time.monotonic()
            return set(self._known)

    def _ensure(self, collection: str, name: str) -> None:
        if name in self._existing():
            return
        if not self._client.has_collection(name):
            definition = self._definitions[collection]
            params = self._client.prepare_index_params()
            schema.add_sparse_index(params, k1=definition.k1, b=definition.b)
            try:
                self._client.create_collection(
                    name,
                    schema=schema.build_schema(
                        self._dim, self._analyzer, dense=False, analyzer_config=definition.analyzer
                    ),
                    index_params=params,
                )
            except Exception:
                if not self._client.has_collection(name):  # another process made it meanwhile
                    raise
        self._client.load_collection(name)
        with self._lock:
            self._known.add(name)

    # -- state ----------------------------------------------------------------------------

    def mark(self, collection: str, state: str) -> None:
        self._client.alter_collection_properties(
            self._physical(collection), properties={schema.PROP_GROUP_BM25: state}
        )
        with self._lock:
            self._states[collection] = (time.monotonic() + _STATE_TTL_S, state)

    def state(self, collection: str) -> str | None:
        with self._lock:
            cached = self._states.get(collection)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        props = self._client.describe_collection(self._physical(collection)).get("properties") or {}
        state = props.get(schema.PROP_GROUP_BM25)
        with self._lock:
            self._states[collection] = (time.monotonic() + _STATE_TTL_S, state)
        return state

    def maintained(self, collection: str) -> bool:
        return self.state(collection) == schema.GROUP_BM25_MAINTAINED

    def ensure_ready(self, collection: str) -> None:
        """Rebuild a collection's twins from its rows unless they are maintained (logged: at 100k
        rows on Lite this takes minutes)."""
        if self.maintained(collection):
            return
        with self._rebuilding:
            if self.maintained(collection):
                return
            log.warning(
                "per-group BM25 collections of %s are not maintained (an embedded store wrote it): "
                "rebuilding them from its rows before the first search that needs them",
                self._physical(collection),
            )
            self.rebuild(collection, lambda: self._shared_rows(collection))

    def _shared_rows(self, collection: str) -> Iterable[list[dict[str, Any]]]:
        fields = [*schema.OUTPUT_FIELDS, "groups_key"]
        it = self._client.query_iterator(
            self._physical(collection), batch_size=_ID_BATCH, filter="", output_fields=fields
        )
        try:
            while batch := it.next():
                yield [dict(row) for row in batch]
        finally:
            it.close()

    def rebuild(self, collection: str, rows: Callable[[], Iterable[Sequence[Mapping[str, Any]]]]) -> int:
        """Drop the collection's twins and fill them again from `rows` (the shared rows in batches,
        without vectors). Returns the rows written (a row counts once per group)."""
        prefix = self._physical(collection) + _INFIX
        for name in self._existing(refresh=True):
            if name.startswith(prefix):
                self._client.drop_collection(name)
        with self._lock:
            self._known = {n for n in self._known if not n.startswith(prefix)}
        written = 0
        started = time.perf_counter()
        for batch in rows():
            written += self._upsert(collection, batch)
        self._flush(collection)
        self.mark(collection, schema.GROUP_BM25_MAINTAINED)
        log.info(
            "per-group BM25 collections of %s rebuilt: %d rows in %.1f s",
            self._physical(collection),
            written,
            time.perf_counter() - started,
        )
        return written

    # -- writes ---------------------------------------------------------------------------

    def groups_of(self, collection: str, expr: str) -> dict[str, tuple[str, ...]]:
        """id -> groups of the shared rows matching `expr` (read before a write replaces them)."""
        out: dict[str, tuple[str, ...]] = {}
        it = self._client.query_iterator(
            self._physical(collection), batch_size=_ID_BATCH, filter=expr, output_fields=["id", "groups"]
        )
        try:
            while batch := it.next():
                out.update((row["id"], tuple(row.get("groups") or ())) for row in batch)
        finally:
            it.close()
        return out

    def write(
        self, collection: str, rows: Sequence[Mapping[str, Any]], before: Mapping[str, Sequence[str]]
    ) -> None:
        """After the shared upsert of `rows`: upsert them into their groups' twins and take them out
        of the twins of groups they no longer hold (`before`: their groups until now)."""
        left: dict[str, list[str]] = {}
        for row in rows:
            now = set(row["groups"])
            for g in set(before.get(row["id"], ())) - now:
                left.setdefault(g, []).append(row["id"])
        for g, ids in left.items():
            self._delete(self.name(collection, g), ids_filter(ids))
        self._upsert(collection, rows)
        self._flush(collection, groups={g for row in rows for g in row["groups"]} | set(left))

    def delete(self, collection: str, by_group: Mapping[str, str]) -> None:
        """Delete by expression from each named group's twin."""
        for g, expr in by_group.items():
            self._delete(self.name(collection, g), expr)
        self._flush(collection, groups=set(by_group))

    def delete_document(self, collection: str, doc_id: str, groups: Iterable[str]) -> None:
        self.delete(collection, dict.fromkeys(groups, doc_filter(doc_id)))

    def _upsert(self, collection: str, rows: Sequence[Mapping[str, Any]]) -> int:
        per_group: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            lexical = {k: v for k, v in row.items() if k != "dense"}
            for g in row["groups"]:
                per_group.setdefault(g, []).append(lexical)
        written = 0
        for g, group_rows in per_group.items():
            name = self.name(collection, g)
            self._ensure(collection, name)
            for start in range(0, len(group_rows), _BATCH):
                self._client.upsert(name, group_rows[start : start + _BATCH])
            written += len(group_rows)
        return written

    def _delete(self, name: str, expr: str) -> None:
        if name in self._existing() or self._client.has_collection(name):
            self._client.delete(name, filter=expr)

    def _flush(self, collection: str, groups: Iterable[str] | None = None) -> None:
        if not self._lite:
            return
        existing = self._existing()
        names = (
            [n for n in existing if n.startswith(self._physical(collection) + _INFIX)]
            if groups is None
            else [self.name(collection, g) for g in groups]
        )
        for name in names:
            if name in existing:
                self._client.flush(name)

    # -- search ---------------------------------------------------------------------------

    def search(
        self,
        collection: str,
        text: str,
        groups: Sequence[str],
        *,
        expr: str,
        limit: int,
        output_fields: list[str],
    ) -> list[tuple[Mapping[str, Any], float]]:
        """BM25 over the caller's groups' twins: (entity, positive score), best first, a row once
        with its best score. `expr` must not restrict groups (each twin holds one group only)."""
        self.ensure_ready(collection)
        existing = self._existing()
        best: dict[str, tuple[Mapping[str, Any], float]] = {}
        wanted = set(groups)
        for g in dict.fromkeys(groups):
            name = self.name(collection, g)
            if name not in existing:
                continue  # no row of this group in this collection
            res = self._client.search(
                name,
                data=[text],
                anns_field="sparse",
                limit=limit,
                filter=expr,
                output_fields=output_fields,
                search_params={"metric_type": "BM25"},
            )
            for hit in res[0]:
                entity = hit["entity"]
                # a twin row always carries its group; checked anyway so a stale twin row can never
                # show a row to a caller outside its current groups
                if not wanted.intersection(entity.get("groups") or ()):
                    continue
                score = abs(float(hit["distance"]))  # Lite negates BM25 scores, a server does not
                key = entity["id"]
                if key not in best or score > best[key][1]:
                    best[key] = (entity, score)
        ranked = sorted(best.values(), key=lambda e: (-e[1], e[0]["id"]))
        return ranked[:limit]
