"""In-process search over an embedded Milvus Lite store, kept in step with every write.

Milvus Lite 3.x runs its engine in Python inside our process: every search walks all rows of the
collection twice in Python (dedup and tombstone masks) and rebuilds each hit's whole row. On the
503-row FAQ store one search costs 8-15 ms, at 100k rows over a second. An embedded Lite data dir
belongs to one process (Lite locks it) and every write in that process goes through the Store, so
the Store can keep its own exact index of the same rows and answer searches from it: exact cosine
over a float32 matrix and BM25 over posting arrays. Lite stays the store of record; this index is
rebuilt from it on first use, or read back from its snapshot while that is current
(milvus.index_snapshot). A Milvus server (or `milvus-lite server`, which other processes may
write to) is always searched through Milvus.

BM25 is the collection's own definition (vlsearch.milvus.bm25: the analyzer parameters, k1 and b
read from Milvus's description of the collection, text tokenised by Lite's own analyzer), with two
differences from Lite's search, both on purpose:

- statistics are exact over the rows they describe, where Lite keeps them per segment (its scores
  drift with how rows happened to be flushed);
- a caller restricted to groups gets statistics of those groups only: each row is scored with the
  statistics of each of the caller's groups it carries (every row of such a group is visible to the
  caller) and keeps its best score, so no score depends on a row the caller cannot see (a word's
  document frequency in another group's hidden files moved scores before). A caller who sees
  everything (no groups filter) gets collection-wide statistics, as Milvus computes them. A Milvus
  server gets the same per-group statistics from one BM25 collection per group (milvus.group_bm25).
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from vlsearch.milvus.bm25 import Bm25Definition, TermCounts, check_terms, idf, term_counter, term_score
from vlsearch.types import Item, SearchFilter

_GROW = 1.5
_MASK_CACHE = 8
_GROUP_CACHE = 64
_CHECK_ROWS = 32  # stored sparse vectors compared with the analyzer at every build
# tokenised into a persisted index's definition key: mixed scripts, codes, stop words, punctuation
_PROBE = "Node-07 E-17 电源模块更换步骤 Überprüfung firmware_v2.1 don't The AND of"


@dataclass(frozen=True)
class IndexHit:
    item: Item
    score: float  # cosine similarity, or positive BM25 score


@dataclass(frozen=True)
class _Stats:
    rows: np.ndarray | None  # bool per slot; None: every live row
    docs: int
    avgdl: float


@dataclass(frozen=True)
class CollectionState:
    """One collection's live rows as plain arrays (what milvus.index_snapshot persists): unit
    vectors, BM25 lengths, and postings in CSR form (term ids[t], rows/tfs[offsets[t]:offsets[t+1]]).
    Per-group BM25 statistics are not stored: they are sums over `lengths` and the `group` postings
    of `values`, computed on first use as after a build."""

    items: list[Item]
    vectors: np.ndarray  # float32 [n, dim]
    lengths: np.ndarray  # float32 [n]
    terms: np.ndarray  # uint32 [T]
    offsets: np.ndarray  # int64 [T + 1]
    rows: np.ndarray  # int32 [P]
    tfs: np.ndarray  # float32 [P]
    # filter attribute -> value -> sorted row positions (None: derive from the items)
    values: dict[str, dict[str, np.ndarray]] | None = None


class _Postings:
    """Rows containing one term and the term's count in each, as compact arrays (4 bytes a value:
    a dict per term cost ~100 bytes an entry). Rows deleted later stay until the index is re-packed;
    searches mask them out with the live-row mask."""

    __slots__ = ("_arrays", "rows", "tfs")

    def __init__(self) -> None:
        self.rows = array("i")
        self.tfs = array("f")
        self._arrays: tuple[np.ndarray, np.ndarray] | None = None

    def add(self, pos: int, tf: float) -> None:
        self.rows.append(pos)
        self.tfs.append(tf)
        self._arrays = None

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        if self._arrays is None:
            self._arrays = (np.array(self.rows, dtype=np.int64), np.array(self.tfs, dtype=np.float32))
        return self._arrays


class CollectionIndex:
    """One collection's rows: unit vectors, BM25 postings and the attributes filters look at.

    Not thread-safe on its own: MemoryIndex serialises access."""

    def __init__(
        self, *, dim: int, definition: Bm25Definition, terms: Callable[[str], TermCounts] | None = None
    ) -> None:
        self._dim = dim
        self.definition = definition
        self._terms = terms or term_counter(definition.analyzer)
        self._items: list[Item | None] = []
        self._pos: dict[str, int] = {}
        self._vectors = np.zeros((0, dim), dtype=np.float32)
        self._alive = np.zeros(0, dtype=bool)
        self._lengths = np.zeros(0, dtype=np.float32)
        self._postings: dict[int, _Postings] = {}
        self._total_length = 0.0
        # filter attribute -> value -> positions; doc ids stay sets (many values, few rows each)
        self._values: dict[str, dict[str, set[int]]] = {
            "doc_type": {},
            "modality": {},
            "doc_id": {},
            "group": {},
        }
        self._version = 0
        self._masks: dict[tuple[int, SearchFilter], np.ndarray] = {}
        self._group_stats: dict[tuple[int, str | None], _Stats] = {}

    def __len__(self) -> int:
        return len(self._pos)

    def count_doc(self, doc_id: str) -> int:
        return len(self._values["doc_id"].get(doc_id, ()))

    # -- writes ---------------------------------------------------------------------------

    def upsert(
        self, items: Sequence[Item], vectors: np.ndarray, terms: Sequence[TermCounts] | None = None
    ) -> None:
        """Add or replace rows. `terms`: their BM25 term counts when known (Lite's stored sparse
        vectors, which spare re-tokenizing a whole store at build), else counted here."""
        unit = _unit_rows(np.asarray(vectors, dtype=np.float32).reshape(len(items), self._dim))
        for k, (item, vec) in enumerate(zip(items, unit, strict=True)):
            self.delete(item.id)
            self._append(item, vec, self._terms(item.text) if terms is None else terms[k])
        self._changed()

    def delete(self, item_id: str) -> bool:
        pos = self._pos.pop(item_id, None)
        if pos is None:
            return False
        item = self._items[pos]
        assert item is not None
        self._items[pos] = None
        self._alive[pos] = False
        for attr, value in self._attributes(item):
            rows = self._values[attr].get(value)
            if rows is not None:
                rows.discard(pos)
                if not rows:
                    del self._values[attr][value]
        self._total_length -= float(self._lengths[pos])
        self._lengths[pos] = 0.0
        self._changed()
        return True

    def delete_doc(self, doc_id: str) -> int:
        ids = [it.id for pos in sorted(self._values["doc_id"].get(doc_id, ())) if (it := self._items[pos])]
        for item_id in ids:
            self.delete(item_id)
        return len(ids)

    def _append(self, item: Item, vec: np.ndarray, counts: TermCounts) -> None:
        pos = len(self._items)
        if pos >= self._vectors.shape[0]:
            self._grow(max(64, int(pos * _GROW)))
        item.lines.data  # noqa: B018 - packs line boxes read from a row (24 B a line, not a JSON list)
        self._items.append(item)
        self._pos[item.id] = pos
        self._vectors[pos] = vec
        self._alive[pos] = True
        length = float(sum(counts.values()))
        self._lengths[pos] = length
        self._total_length += length
        for term, tf in counts.items():
            postings = self._postings.get(term)
            if postings is None:
                postings = self._postings[term] = _Postings()
            postings.add(pos, tf)
        for attr, value in self._attributes(item):
            self._values[attr].setdefault(value, set()).add(pos)

    def _grow(self, capacity: int) -> None:
        vectors = np.zeros((capacity, self._dim), dtype=np.float32)
        vectors[: self._vectors.shape[0]] = self._vectors
        alive = np.zeros(capacity, dtype=bool)
        alive[: self._alive.shape[0]] = self._alive
        lengths = np.zeros(capacity, dtype=np.float32)
        lengths[: self._lengths.shape[0]] = self._lengths
        self._vectors, self._alive, self._lengths = vectors, alive, lengths

    @property
    def sparse(self) -> bool:
        """Most slots dead (re-ingesting a document leaves its old slots): worth re-packing."""
        used = len(self._items)
        return used >= 1024 and len(self._pos) * 2 <= used

    def repacked(self) -> CollectionIndex:
        """The live rows only, postings carried over (no re-tokenizing)."""
        n = len(self._items)
        alive = self._alive[:n]
        live = np.flatnonzero(alive)
        new_pos = np.cumsum(alive) - 1
        fresh = CollectionIndex(dim=self._dim, definition=self.definition, terms=self._terms)
        for term, postings in self._postings.items():
            rows, tfs = postings.arrays()
            keep = alive[rows]
            if keep.any():
                moved = _Postings()
                moved.rows.extend(new_pos[rows[keep]].astype(np.int32).tolist())
                moved.tfs.extend(tfs[keep].tolist())
                fresh._postings[term] = moved
        fresh._grow(max(64, live.size))
        fresh._vectors[: live.size] = self._vectors[live]
        fresh._alive[: live.size] = True
        fresh._lengths[: live.size] = self._lengths[live]
        fresh._total_length = float(self._lengths[live].sum())
        for pos, old in enumerate(live.tolist()):
            item = self._items[old]
            assert item is not None
            fresh._items.append(item)
            fresh._pos[item.id] = pos
            for attr, value in self._attributes(item):
                fresh._values[attr].setdefault(value, set()).add(pos)
        fresh._changed()
        return fresh

    def state(self) -> CollectionState:
        """The live rows, re-packed (export hook for milvus.index_snapshot)."""
        packed = self.repacked() if len(self._pos) != len(self._items) else self
        n = len(packed._items)
        terms = sorted(packed._postings)
        parts = [packed._postings[t].arrays() for t in terms]
        offsets = np.zeros(len(terms) + 1, dtype=np.int64)
        np.cumsum([len(r) for r, _ in parts], out=offsets[1:])
        rows = np.concatenate([r for r, _ in parts]) if parts else np.zeros(0, np.int64)
        tfs = np.concatenate([f for _, f in parts]) if parts else np.zeros(0, np.float32)
        return CollectionState(
            items=[item for item in packed._items if item is not None],
            vectors=packed._vectors[:n].copy(),
            lengths=packed._lengths[:n].copy(),
            terms=np.asarray(terms, dtype=np.uint32),
            offsets=offsets,
            rows=rows.astype(np.int32),
            tfs=tfs.astype(np.float32),
            values={
                attr: {v: np.array(sorted(pos), dtype=np.int32) for v, pos in by_value.items()}
                for attr, by_value in packed._values.items()
            },
        )

    @classmethod
    def from_state(
        cls,
        state: CollectionState,
        *,
        dim: int,
        definition: Bm25Definition,
        terms: Callable[[str], TermCounts],
    ) -> CollectionIndex:
        """An index holding exactly `state`'s rows (import hook for milvus.index_snapshot). A writable
        float32 `state.vectors` is adopted, not copied (the next append grows a new matrix)."""
        index = cls(dim=dim, definition=definition, terms=terms)
        n = len(state.items)
        vectors = state.vectors
        if not (vectors.flags.writeable and vectors.flags.c_contiguous and vectors.dtype == np.float32):
            vectors = np.array(vectors, dtype=np.float32)
        index._vectors = vectors.reshape(n, dim)
        index._alive = np.ones(n, dtype=bool)
        index._lengths = np.array(state.lengths, dtype=np.float32)
        index._total_length = float(np.sum(state.lengths, dtype=np.float64))
        rows32 = np.ascontiguousarray(state.rows, dtype=np.int32)
        rows64, tfs32 = rows32.astype(np.int64), np.ascontiguousarray(state.tfs, dtype=np.float32)
        offsets = state.offsets.tolist()
        for k, term in enumerate(state.terms.tolist()):
            lo, hi = offsets[k], offsets[k + 1]
            postings = _Postings()
            postings.rows.frombytes(rows32[lo:hi].tobytes())
            postings.tfs.frombytes(tfs32[lo:hi].tobytes())
            postings._arrays = (rows64[lo:hi], tfs32[lo:hi])
            index._postings[term] = postings
        index._items = list(state.items)
        index._pos = {item.id: pos for pos, item in enumerate(state.items)}
        values = index._values
        if state.values is not None and set(state.values) == set(values):
            for attr, by_value in state.values.items():
                values[attr] = {value: set(positions.tolist()) for value, positions in by_value.items()}
        else:
            for pos, item in enumerate(state.items):
                for attr, value in cls._attributes(item):
                    values[attr].setdefault(value, set()).add(pos)
        index._changed()
        return index

    def _changed(self) -> None:
        self._version += 1
        self._masks.clear()
        self._group_stats.clear()

    @staticmethod
    def _attributes(item: Item) -> Iterable[tuple[str, str]]:
        yield "doc_type", item.doc_type
        yield "modality", item.modality.value
        yield "doc_id", item.doc_id
        for g in item.groups:
            yield "group", g

    # -- reads ----------------------------------------------------------------------------

    def mask(self, flt: SearchFilter) -> np.ndarray:
        """Rows the filter admits (same meaning as milvus.filters.build_filter)."""
        key = (self._version, flt)
        cached = self._masks.get(key)
        if cached is not None:
            return cached
        n = len(self._items)
        mask = self._alive[:n].copy()
        clauses = (
            ("doc_type", flt.doc_types),
            ("modality", tuple(str(getattr(m, "value", m)) for m in flt.modalities)),
            ("doc_id", flt.doc_ids),
            ("group", () if flt.groups is None else flt.groups),
        )
        for attr, wanted in clauses:
            if not wanted and not (attr == "group" and flt.groups is not None):
                continue
            admitted = np.zeros(n, dtype=bool)
            for value in dict.fromkeys(wanted):
                rows = self._values[attr].get(value)
                if rows:
                    admitted[np.fromiter(rows, dtype=np.int64, count=len(rows))] = True
            mask &= admitted
        if len(self._masks) >= _MASK_CACHE:
            self._masks.clear()
        self._masks[key] = mask
        return mask

    def search_dense(self, queries: np.ndarray, *, limit: int, flt: SearchFilter) -> list[list[IndexHit]]:
        """Nearest rows for each query row of `queries` (k, dim): one pass over the vectors for all
        k (the matrix product costs about what one query does: it is bound by memory reads)."""
        q = np.asarray(queries, dtype=np.float32).reshape(-1, self._dim)
        n = len(self._items)
        if n == 0:
            return [[] for _ in range(q.shape[0])]
        norms = np.linalg.norm(q, axis=1)
        scores = self._vectors[:n] @ (q / np.maximum(norms, 1e-30)[:, None]).T
        mask = self.mask(flt)
        return [self._top(scores[:, j], mask, limit) if norms[j] > 0 else [] for j in range(q.shape[0])]

    def search_bm25(self, text: str, *, limit: int, flt: SearchFilter) -> list[IndexHit]:
        """BM25 with the statistics of the caller's groups (collection-wide when flt.groups is None):
        see the module docstring."""
        n = len(self._items)
        if not self._pos:
            return []
        query_terms = self._terms(text)
        scopes: Iterable[str | None] = (None,) if flt.groups is None else dict.fromkeys(flt.groups)
        scores: np.ndarray | None = None
        for scope in scopes:
            scored = self._score(query_terms, self._stats(scope), n)
            if scored is not None:
                scores = scored if scores is None else np.maximum(scores, scored)
        if scores is None:
            return []
        return self._top(scores, self.mask(flt) & (scores > 0), limit)

    def _stats(self, group: str | None) -> _Stats:
        """Rows a scope holds (the live rows of one group, or every live row) and their statistics."""
        key = (self._version, group)
        cached = self._group_stats.get(key)
        if cached is not None:
            return cached
        n = len(self._items)
        if group is None:
            rows = None
            docs, total = len(self._pos), self._total_length
        else:
            members = self._values["group"].get(group, ())
            rows = np.zeros(n, dtype=bool)
            if members:
                rows[np.fromiter(members, dtype=np.int64, count=len(members))] = True
            docs, total = len(members), float(self._lengths[:n][rows].sum())
        stats = _Stats(rows=rows, docs=docs, avgdl=total / docs if docs and total > 0 else 1.0)
        if len(self._group_stats) >= _GROUP_CACHE:
            self._group_stats.clear()
        self._group_stats[key] = stats
        return stats

    def _score(self, query_terms: TermCounts, stats: _Stats, n: int) -> np.ndarray | None:
        if stats.docs == 0:
            return None
        k1, b = self.definition.k1, self.definition.b
        scores: np.ndarray | None = None
        for term, weight in query_terms.items():
            postings = self._postings.get(term)
            if postings is None:
                continue
            rows, tfs = postings.arrays()
            keep = self._alive[rows] if stats.rows is None else stats.rows[rows]
            if not keep.all():
                rows, tfs = rows[keep], tfs[keep]
            df = len(rows)
            if df == 0:
                continue
            part = idf(stats.docs, df) * term_score(tfs, self._lengths[rows], avgdl=stats.avgdl, k1=k1, b=b)
            if scores is None:
                scores = np.zeros(n, dtype=np.float32)
            scores[rows] += part * weight
        return scores

    def _top(self, scores: np.ndarray, mask: np.ndarray, limit: int) -> list[IndexHit]:
        rows = np.flatnonzero(mask)
        if rows.size == 0:
            return []
        picked = scores[rows]
        if rows.size > limit:
            part = np.argpartition(-picked, limit - 1)[:limit]
            rows, picked = rows[part], picked[part]
        order = np.lexsort((rows, -picked))  # best first; ties by insertion order, deterministic
        out = []
        for k in order:
            item = self._items[int(rows[k])]
            assert item is not None
            out.append(IndexHit(item=item, score=float(picked[k])))
        return out


class MemoryIndex:
    """Every collection of one embedded Lite store. Writers hold `writing` across the Milvus write
    and the matching apply, so the index sees writes in the order Milvus did."""

    def __init__(self, *, dim: int, collections: Sequence[str]) -> None:
        self._dim = dim
        self._collections = tuple(collections)
        self._definitions: dict[str, Bm25Definition] = {}
        self._terms: dict[str, Callable[[str], TermCounts]] = {}
        self._data: dict[str, CollectionIndex] | None = None
        self._lock = threading.Lock()  # guards _data and its contents
        self.writing = threading.RLock()

    @property
    def built(self) -> bool:
        return self._data is not None

    def define(self, collection: str, definition: Bm25Definition) -> None:
        """The BM25 definition a collection states (read from Milvus at connect). Every Store on
        one path reads the same collections, so a second, different definition is a bug."""
        with self._lock:
            known = self._definitions.get(collection)
            if known is not None and known != definition:
                raise ValueError(f"collection {collection!r} defined twice: {known} and {definition}")
            if known is None:
                self._definitions[collection] = definition
                self._terms[collection] = term_counter(definition.analyzer)

    def warm_analyzer(self) -> None:
        """Tokenize once: jieba reads its dictionary on first use (about 1 s), which a first
        search would otherwise pay after a build from stored term counts."""
        for terms in self._terms.values():
            terms("warm-up 预热")

    def build(
        self, load: Callable[[str], Iterable[tuple[Sequence[Item], np.ndarray, Sequence[TermCounts] | None]]]
    ) -> int:
        """Fill from the store (called with `writing` held, so no write lands half-seen).
        Safe to call twice: a built index is kept. Returns the rows indexed.

        Raises AnalyzerDriftError when the analyzer here does not reproduce the term counts Lite
        stored for the first rows of a collection (bm25.check_terms)."""
        with self._lock:
            if self._data is not None:
                return sum(len(c) for c in self._data.values())
            missing = [c for c in self._collections if c not in self._definitions]
        if missing:
            raise RuntimeError(f"no BM25 definition for {missing}: define() each collection before build()")
        data = {}
        for name in self._collections:
            index = CollectionIndex(
                dim=self._dim, definition=self._definitions[name], terms=self._terms[name]
            )
            checked = False
            for items, vectors, terms in load(name):
                if not checked and terms is not None and items:
                    texts = [it.text for it in items[:_CHECK_ROWS]]
                    check_terms(self._terms[name], texts, terms[:_CHECK_ROWS], where=f"collection {name}")
                    checked = True
                index.upsert(items, vectors, terms)
            data[name] = index
        with self._lock:
            self._data = data
        return sum(len(c) for c in data.values())

    def definition(self) -> dict[str, object]:
        """What decides this index's contents besides the rows: a persisted index made under another
        definition must not be loaded. Per collection, the BM25 definition the collection states
        (analyzer parameters with their stop list, k1, b) and the terms the analyzer gives a probe
        text (catches a tokenizer or dictionary that changed under the same parameters)."""
        with self._lock:
            missing = [c for c in self._collections if c not in self._definitions]
            if missing:
                raise RuntimeError(f"no BM25 definition for {missing}: define() each collection first")
            definitions = {c: (self._definitions[c], self._terms[c]) for c in self._collections}
        return {
            "dim": self._dim,
            "collections": {
                name: {
                    "analyzer": definition.analyzer_json,
                    "bm25_k1": definition.k1,
                    "bm25_b": definition.b,
                    "probe_terms": sorted(terms(_PROBE).items()),
                }
                for name, (definition, terms) in definitions.items()
            },
        }

    def export_state(self) -> dict[str, CollectionState] | None:
        """Every collection's live rows, or None when not built (call with `writing` held)."""
        with self._lock:
            if self._data is None:
                return None
            return {name: index.state() for name, index in self._data.items()}

    def restore(self, states: Mapping[str, CollectionState]) -> int:
        """Become the index of `states` (a snapshot); returns the rows. Call with `writing` held,
        after define() (the definitions were part of the snapshot's key)."""
        with self._lock:
            missing = [c for c in self._collections if c not in self._definitions]
            if missing:
                raise RuntimeError(f"no BM25 definition for {missing}: define() each collection first")
            definitions, counters = dict(self._definitions), dict(self._terms)
        data = {
            name: CollectionIndex.from_state(
                states[name], dim=self._dim, definition=definitions[name], terms=counters[name]
            )
            for name in self._collections
        }
        with self._lock:
            self._data = data
        return sum(len(c) for c in data.values())

    def upsert(self, collection: str, items: Sequence[Item], vectors: np.ndarray) -> None:
        with self._lock:
            if self._data is not None:
                self._data[collection].upsert(items, vectors)

    def delete_ids(self, collection: str, ids: Iterable[str]) -> None:
        with self._lock:
            if self._data is None:
                return
            index = self._data[collection]
            for item_id in ids:
                index.delete(item_id)
            self._repack_if_sparse(collection)

    def delete_doc(self, collection: str, doc_id: str) -> None:
        with self._lock:
            if self._data is None:
                return
            self._data[collection].delete_doc(doc_id)
            self._repack_if_sparse(collection)

    def _repack_if_sparse(self, name: str) -> None:
        assert self._data is not None
        if self._data[name].sparse:
            self._data[name] = self._data[name].repacked()

    def count(self, collection: str, doc_id: str | None) -> int | None:
        """Rows in a collection (of one document), or None when not built."""
        with self._lock:
            if self._data is None:
                return None
            index = self._data[collection]
            return len(index) if doc_id is None else index.count_doc(doc_id)

    def search_dense(
        self, collection: str, queries: np.ndarray, *, limit: int, flt: SearchFilter
    ) -> list[list[IndexHit]]:
        """One hit list per query row."""
        with self._lock:
            assert self._data is not None, "build() the index before searching it"
            return self._data[collection].search_dense(queries, limit=limit, flt=flt)

    def search_bm25(self, collection: str, text: str, *, limit: int, flt: SearchFilter) -> list[IndexHit]:
        with self._lock:
            assert self._data is not None, "build() the index before searching it"
            return self._data[collection].search_bm25(text, limit=limit, flt=flt)


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
