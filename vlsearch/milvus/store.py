"""The Store: a thin MilvusClient facade over the `chunks`, `images` and `frames` collections.

`uri` is either a Milvus Lite data path ending in `.db` (embedded; one process per data dir) or an
`http(s)://host:port` server URI (with `token` where the server needs one). An embedded store
answers searches from a MemoryIndex kept in step with its writes (see milvus.memory_index for
why); a server is searched through Milvus.
"""

from __future__ import annotations

import fcntl
import functools
import importlib.metadata
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import grpc
import numpy as np
from pymilvus import MilvusClient, MilvusException

from vlsearch.errors import EmbedderMismatchError, StoreUnavailableError
from vlsearch.milvus import migrations, schema
from vlsearch.milvus.backends import IndexBackend, MilvusBackend, SearchBackend
from vlsearch.milvus.bm25 import AnalyzerDriftError, TermCounts, read_definition, term_counter
from vlsearch.milvus.filters import MATCH_NOTHING, build_filter, doc_filter, ids_filter
from vlsearch.milvus.group_bm25 import GroupBm25
from vlsearch.milvus.index_snapshot import (
    TOKEN_COLLECTION,
    TOKEN_PROPERTY,
    IndexSnapshots,
    SnapshotPrefetch,
    new_token,
    snapshot_path,
)
from vlsearch.milvus.memory_index import MemoryIndex
from vlsearch.milvus.rows import item_row, row_item, truncate_utf8
from vlsearch.milvus.uri import parse_milvus_uri
from vlsearch.types import COLLECTIONS, Candidate, Item, SearchFilter

log = logging.getLogger(__name__)

# pymilvus pings every 10 s even with no call in flight. A gRPC server with default settings
# (Milvus Lite, embedded or `milvus-lite server`) tolerates one ping per 5 min without calls and
# answers more with GOAWAY "too_many_pings", dropping idle clients after about a minute. Pinging only
# during calls, at most every 5 min, suits both Lite and a Milvus server (whose policy is looser).
_GRPC_OPTIONS = {
    "grpc.keepalive_time_ms": 300_000,
    "grpc.keepalive_timeout_ms": 20_000,
    "grpc.keepalive_permit_without_calls": False,
}
_BACKOFF_FIRST_S = 0.5
_BACKOFF_MAX_S = 8.0
_CONNECT_FAILED = 2  # pymilvus Status.CONNECT_FAILED
_UNAVAILABLE_GRPC = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
UPSERT_BATCH = 512
# An embedded store searched through its in-process index flushes Lite once this many rows of a
# collection were written (and at close and after an ingest batch), not after every write: each
# flush writes a segment and builds its HNSW index, and Lite holds every small segment in memory
# (~0.4 MB each: one per ingested file before) until compaction merges them.
FLUSH_ROWS = 2048
_GET_BATCH = 1000
# Milvus refuses a search or query whose limit (plus offset) exceeds 16384.
MAX_LIMIT = 16384
_PREFIX = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_FOUND_DENSE = ("dense",)
_FOUND_BM25 = ("bm25",)
_FOUND_BOTH = ("dense", "bm25")


def _is_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, grpc.RpcError):
        return exc.code() in _UNAVAILABLE_GRPC  # type: ignore[attr-defined]
    if isinstance(exc, MilvusException):
        if exc.code == _CONNECT_FAILED or exc.code in _UNAVAILABLE_GRPC:
            return True
        cause = exc.__cause__
        return cause is not None and cause is not exc and _is_unavailable(cause)
    return False


class Store:
    """Rows of every modality, each in its own collection, searchable by dense vector and BM25."""

    def __init__(
        self,
        *,
        uri: str,
        token: str = "",
        dim: int,
        embedder_id: str,
        analyzer: str = "jieba",
        connect_timeout_s: float = 0.0,
        secure: bool = False,
        server_pem_path: str = "",
        server_name: str = "",
        memory_index: bool = True,
        collection_prefix: str = "",
        index_snapshot: bool = True,
    ) -> None:
        """`connect_timeout_s` > 0: connect() retries a server that does not answer yet, with backoff.

        `secure`/`server_pem_path`/`server_name` are pymilvus's TLS options (https:// implies secure).
        `memory_index`: an embedded Lite store searches an in-process index (False: ask Lite).
        `index_snapshot`: that index is read from its snapshot at start when current and saved at
        close (see milvus.index_snapshot); False rebuilds it from Lite at every start.
        `collection_prefix`: put this store's collections under `<prefix>chunks` etc., so several
        stores share one Milvus (`vlsearch eval --milvus-uri` uses a fresh prefix and drops it)."""
        if collection_prefix and _PREFIX.fullmatch(collection_prefix) is None:
            raise ValueError(
                f"collection prefix {collection_prefix!r}: use 1-64 of A-Z a-z 0-9 _, "
                "not starting with a digit"
            )
        if dim <= 0:
            raise ValueError(f"dim must be positive, got {dim}")
        if not embedder_id:
            raise ValueError("embedder_id must name the embedder that makes the vectors")
        schema.analyzer_params(analyzer)  # fail early on an unknown analyzer
        self._uri = uri
        self._token = token
        self._dim = dim
        self._embedder_id = embedder_id
        self._analyzer = analyzer
        self._connect_timeout_s = connect_timeout_s
        self._tls: dict[str, Any] = {}
        if secure or server_pem_path or uri.startswith("https://"):
            self._tls["secure"] = True
        if server_pem_path:
            self._tls["server_pem_path"] = server_pem_path
        if server_name:
            self._tls["server_name"] = server_name
        self._prefix = collection_prefix
        self._client: MilvusClient | None = None
        self._flush_writes = False
        self._engine_lite = True  # Milvus Lite, embedded or `milvus-lite server` (set at connect)
        self._unflushed: dict[str, int] = {}  # rows written per collection since its last flush
        self._use_memory_index = memory_index
        self._use_snapshot = index_snapshot
        self._memory: MemoryIndex | None = None
        self._twins: GroupBm25 | None = None
        self._twins_marked_absent = False
        self._milvus: MilvusBackend | None = None
        self._snapshots: IndexSnapshots | None = None
        self._prefetch: SnapshotPrefetch | None = None
        self._lite_server = False  # a `milvus-lite server`: its data dir may be opened embedded later
        self._token_written = False  # for a Lite server: this Store changed the index token already
        self._lock = threading.Lock()

    @property
    def uri(self) -> str:
        return self._uri

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def embedder_id(self) -> str:
        return self._embedder_id

    @property
    def is_lite(self) -> bool:
        """A Milvus Lite file this process opens (vlsearch.milvus.uri decides; other schemes are refused)."""
        return parse_milvus_uri(self._uri).lite_file

    @property
    def searches_in_memory(self) -> bool:
        """True when searches are answered by the in-process index (embedded Lite)."""
        return self._memory is not None and self._use_memory_index

    @property
    def collection_prefix(self) -> str:
        return self._prefix

    def physical(self, collection: str) -> str:
        """The Milvus collection that holds a logical collection (`chunks`, `images`, `frames`)."""
        return self._prefix + collection

    def drop_collections(self) -> None:
        """Drop every collection of this store (its prefix), per-group BM25 twins included."""
        client = self._require()
        try:
            for name in client.list_collections():
                if any(
                    name == self.physical(c) or name.startswith(self.physical(c) + "__") for c in COLLECTIONS
                ):
                    client.drop_collection(name)
        except MilvusException as exc:
            raise self._translate(exc) from exc

    # -- lifecycle -------------------------------------------------------------------------

    def connect(self, *, wait: bool = True) -> None:
        """Open the client, create missing collections, refuse a store built by another embedder.

        `wait=False` makes one attempt even where a connect timeout is set (request-time reconnects
        must not hold a request for the whole start-up budget)."""
        with self._lock:
            if self._client is not None:
                return
            client = self._open_with_retry() if wait else self._open_client()
            try:
                # Milvus Lite (embedded or `milvus-lite server`) searches unflushed rows by brute
                # force in Python: 2000 rows cost ~130 ms per search unflushed, ~3 ms once flushed
                # and indexed. A Milvus server indexes growing segments itself and rate-limits flush.
                self._engine_lite = str(client.get_server_version()).startswith("milvus_lite")
                self._flush_writes = self._engine_lite
                self._lite_server = self._engine_lite and not self.is_lite
                self._twins = GroupBm25(
                    client=client,
                    physical=self.physical,
                    dim=self._dim,
                    analyzer=self._analyzer,
                    lite=self._engine_lite,
                )
                for name in COLLECTIONS:
                    self._ensure_collection(client, name)
                self._milvus = MilvusBackend(
                    client=client,
                    physical=self.physical,
                    groups_array=not self._engine_lite,
                    twins=self._twins,
                )
            except MilvusException as exc:
                self._close_client(client)
                raise self._translate(exc) from exc
            except BaseException:
                self._close_client(client)
                raise
            self._client = client

    def close(self) -> None:
        """Close the client, saving the in-process index's snapshot first where it changed; the last
        Store on an embedded Lite path also stops its Lite server."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            try:
                self._flush_at_close(client)
                self._save_snapshot(client)
            finally:
                self._close_client(client)

    def _flush_at_close(self, client: MilvusClient) -> None:
        """A start after a clean stop need not replay Lite's write-ahead log (the rows are safe in it
        either way: a failure here is logged, not raised)."""
        try:
            for name, pending in self._unflushed.items():
                if pending:
                    client.flush(self.physical(name))
        except MilvusException as exc:
            log.warning(
                "could not flush %s at close (its write-ahead log keeps the rows): %s", self._uri, exc
            )
        self._unflushed.clear()

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
            "milvus_lite": _milvus_lite_version(),
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

    def _index_token(self, client: MilvusClient) -> str:
        props = client.describe_collection(self.physical(TOKEN_COLLECTION)).get("properties") or {}
        return str(props.get(TOKEN_PROPERTY, ""))

    def _set_token(self, client: MilvusClient, token: str) -> None:
        client.alter_collection_properties(
            self.physical(TOKEN_COLLECTION), properties={TOKEN_PROPERTY: token}
        )

    def _after_write(self, client: MilvusClient, collection: str, rows: int) -> None:
        """Flush a Milvus Lite collection (embedded or server) when its unflushed rows would slow a
        search down: after every write where Lite itself is searched (Lite scans unflushed rows in
        Python: 2000 rows cost ~130 ms a search unflushed, ~3 ms flushed), else every FLUSH_ROWS.
        A Milvus server indexes growing segments itself and rate-limits flush: never."""
        if not self._flush_writes:
            return
        pending = self._unflushed.get(collection, 0) + rows
        if self._lite_server or not self.searches_in_memory or pending >= FLUSH_ROWS:
            client.flush(self.physical(collection))
            pending = 0
        self._unflushed[collection] = pending

    def flush_pending(self) -> None:
        """Flush every collection holding rows written since its last flush (close() does too)."""
        client = self._require()
        memory = self._memory
        with _writing(memory):
            try:
                for name, pending in list(self._unflushed.items()):
                    if pending:
                        client.flush(self.physical(name))
                        self._unflushed[name] = 0
            except MilvusException as exc:
                raise self._translate(exc) from exc

    def _before_write(self, client: MilvusClient) -> None:
        """Give Lite a new index token before this process's first write since the snapshot was
        saved or read, so no snapshot matches the data once the write begins (see index_snapshot)."""
        if self._snapshots is not None:
            self._snapshots.before_write(lambda t: self._set_token(client, t))
        elif self._lite_server and not self._token_written:
            self._set_token(client, new_token())
            self._token_written = True

    def _close_client(self, client: MilvusClient) -> None:
        client.close()
        if self.is_lite:
            self._memory = None
            self._snapshots = None
            self._prefetch = None
            _lite_release(self._uri)

    def _new_memory_index(self) -> MemoryIndex:
        return MemoryIndex(dim=self._dim, collections=COLLECTIONS)

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
            counts = lambda: {name: _count(client, self.physical(name), "") for name in COLLECTIONS}  # noqa: E731
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

    def ping(self) -> bool:
        client = self._client
        if client is None:
            return False
        try:
            client.list_collections()
        except MilvusException as exc:
            if _is_unavailable(exc):
                return False
            raise
        return True

    def _open_with_retry(self) -> MilvusClient:
        """Open the client; a server that does not answer yet is retried until connect_timeout_s."""
        if self.is_lite or self._connect_timeout_s <= 0:
            return self._open_client()
        deadline = time.monotonic() + self._connect_timeout_s
        delay = _BACKOFF_FIRST_S
        attempt = 1
        while True:
            try:
                return self._open_client()
            except StoreUnavailableError as exc:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise StoreUnavailableError(
                        f"{exc} (gave up after {self._connect_timeout_s:g} s, {attempt} attempts; "
                        "raise VLSEARCH_MILVUS_CONNECT_TIMEOUT_S if Milvus starts slowly)"
                    ) from exc
                wait = min(delay, left)
                log.warning(
                    "waiting for Milvus at %s (attempt %d, retrying in %.1f s, giving up in %.0f s): %s",
                    self._uri,
                    attempt,
                    wait,
                    left,
                    exc,
                )
                time.sleep(wait)
                delay = min(delay * 2, _BACKOFF_MAX_S)
                attempt += 1

    def _open_client(self) -> MilvusClient:
        if self.is_lite:
            if not self._uri.endswith(".db"):
                raise ValueError(
                    f"Milvus URI {self._uri!r} is neither a server URI (http://host:19530) nor a "
                    "Milvus Lite path ending in .db"
                )
            Path(self._uri).parent.mkdir(parents=True, exist_ok=True)
        try:
            # dedicated: pymilvus otherwise shares one channel per (address, token) across clients,
            # and the first client's channel options (keepalive, TLS) would silently win.
            if self.is_lite:
                client = MilvusClient(
                    uri=self._uri, token=self._token, grpc_options=_GRPC_OPTIONS, dedicated=True
                )
                self._memory, self._snapshots = _lite_acquire(self._uri, self._new_memory_index)
                return client
            return MilvusClient(
                uri=self._uri, token=self._token, grpc_options=_GRPC_OPTIONS, dedicated=True, **self._tls
            )
        except MilvusException as exc:
            if self.is_lite:
                raise StoreUnavailableError(self._lite_open_failure()) from exc
            raise StoreUnavailableError(
                f"cannot reach Milvus at {self._uri}: {exc.message}; "
                "start the server or fix VLSEARCH_MILVUS_URI"
            ) from exc

    def _lite_open_failure(self) -> str:
        lock = os.path.join(self._uri, "LOCK")
        if os.path.exists(lock):
            with open(lock, "a") as fh:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return (
                        f"Milvus Lite data dir {self._uri} is in use by another process (Lite allows one "
                        "process per data dir): go through that process's API (the CLI: add --api "
                        "http://127.0.0.1:8000), stop it, or serve the dir with `milvus-lite server` "
                        "and set VLSEARCH_MILVUS_URI to its http:// URI"
                    )
                fcntl.flock(fh, fcntl.LOCK_UN)
        return f"cannot open Milvus Lite data dir {self._uri}; check that the path is a writable directory"

    def _ensure_collection(self, client: MilvusClient, name: str) -> None:
        physical = self.physical(name)
        if not client.has_collection(physical):
            try:
                client.create_collection(
                    physical,
                    schema=schema.build_schema(self._dim, self._analyzer),
                    index_params=schema.build_index_params(client, lite=self._engine_lite),
                    properties=schema.collection_properties(
                        embedder_id=self._embedder_id,
                        dim=self._dim,
                        analyzer=self._analyzer,
                        group_bm25=not self.searches_in_memory,
                    ),
                )
            except MilvusException:
                # Another process may have created it between the two calls; check it below.
                if not client.has_collection(physical):
                    raise
        self._check_embedder(client, physical)
        # Lite reopens collections released; load is a no-op when already loaded.
        client.load_collection(physical)
        definition = read_definition(
            client.describe_collection(physical),
            client.describe_index(physical, "sparse"),
            lite=self._engine_lite,
        )
        if self._twins is not None:
            self._twins.define(name, definition)
        if self._memory is not None:
            self._memory.define(name, definition)

    def _check_embedder(self, client: MilvusClient, name: str) -> None:
        desc = client.describe_collection(name)
        props = desc.get("properties") or {}
        built_with = props.get(schema.PROP_EMBEDDER)
        built_dim = props.get(schema.PROP_DIM)
        if built_with is None or built_dim is None:
            raise EmbedderMismatchError(
                f"collection {name!r} at {self._uri} was not created by vlsearch (no embedder recorded); "
                "use a new data dir or drop that collection"
            )
        built_schema = props.get(schema.PROP_SCHEMA)
        if built_schema in migrations.MIGRATES_FROM:
            migrations.migrate(client, name, from_version=built_schema, lite=self._engine_lite)
            built_schema = schema.SCHEMA_VERSION
        if built_schema != schema.SCHEMA_VERSION:
            raise EmbedderMismatchError(
                f"store at {self._uri} has collection layout {built_schema}; this vlsearch needs "
                f"{schema.SCHEMA_VERSION}: use a new data dir or re-ingest"
            )
        if built_with != self._embedder_id or built_dim != str(self._dim):
            raise EmbedderMismatchError(
                f"store at {self._uri} was built with embedder {built_with} (dim {built_dim}); "
                f"you configured {self._embedder_id} (dim {self._dim}): use a new data dir or re-ingest"
            )

    def _require(self) -> MilvusClient:
        client = self._client
        if client is None:
            raise StoreUnavailableError(f"store at {self._uri} is not connected: call connect() first")
        return client

    def _translate(self, exc: MilvusException) -> Exception:
        if _is_unavailable(exc):
            return StoreUnavailableError(f"Milvus at {self._uri} is unavailable: {exc.message}")
        return exc

    # -- writes ----------------------------------------------------------------------------

    def upsert(self, items: Sequence[Item], vectors: np.ndarray) -> int:
        """Insert or replace rows, routed to each item's modality collection. Returns rows written."""
        if len(items) == 0:
            return 0
        if vectors.ndim != 2 or vectors.shape != (len(items), self._dim):
            raise ValueError(
                f"vectors must have shape ({len(items)}, {self._dim}), got {tuple(vectors.shape)}"
            )
        client = self._require()
        vectors = np.asarray(vectors, dtype=np.float32)
        as_lists = vectors.tolist()
        by_collection: dict[str, list[tuple[dict[str, Any], int]]] = {}
        for k, (item, vec) in enumerate(zip(items, as_lists, strict=True)):
            by_collection.setdefault(item.collection, []).append((item_row(item, vec), k))
        memory = self._memory
        twins = self._twins_to_maintain()
        written = 0
        with _writing(memory):
            try:
                self._before_write(client)
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
            except MilvusException as exc:
                raise self._translate(exc) from exc
        return written

    def delete_document(self, doc_id: str) -> int:
        """Remove every row of a document from all collections. Returns how many were removed."""
        expr = doc_filter(doc_id)
        client = self._require()
        memory = self._memory
        twins = self._twins_to_maintain()
        removed = 0
        with _writing(memory):
            try:
                self._before_write(client)
                for name in COLLECTIONS:
                    # Counted first: delete's own count differs between Lite and server versions.
                    n = _count(client, self.physical(name), expr)
                    if n:
                        kept = twins if twins is not None and twins.maintained(name) else None
                        held = kept.groups_of(name, expr) if kept else {}
                        client.delete(self.physical(name), filter=expr)
                        removed += n
                        if kept is not None:
                            kept.delete_document(name, doc_id, {g for gs in held.values() for g in gs})
                        if memory is not None:
                            memory.delete_doc(name, doc_id)
                        self._after_write(client, name, n)
            except MilvusException as exc:
                raise self._translate(exc) from exc
        return removed

    # -- reads -----------------------------------------------------------------------------

    def count(self, collection: str | None = None, *, doc_id: str | None = None) -> int:
        names = COLLECTIONS if collection is None else (_check_collection(collection),)
        expr = "" if doc_id is None else doc_filter(doc_id)
        client = self._require()
        memory = self._memory
        if memory is not None and memory.built:
            counts = [memory.count(name, doc_id) for name in names]
            if all(c is not None for c in counts):
                return sum(c for c in counts if c is not None)
        try:
            return sum(_count(client, self.physical(name), expr) for name in names)
        except MilvusException as exc:
            raise self._translate(exc) from exc

    def get(self, ids: Sequence[str]) -> list[Item]:
        """Items for `ids` in the order asked; unknown ids are skipped."""
        if not ids:
            return []
        wanted = list(dict.fromkeys(ids))
        client = self._require()
        found: dict[str, Item] = {}
        try:
            # Bounded batches: a query returns at most 16384 rows and long expressions parse slowly.
            for start in range(0, len(wanted), _GET_BATCH):
                expr = ids_filter(wanted[start : start + _GET_BATCH])
                for name in COLLECTIONS:
                    rows = client.query(
                        self.physical(name), filter=expr, output_fields=list(schema.OUTPUT_FIELDS)
                    )
                    for row in rows:
                        found[row["id"]] = row_item(row)
        except MilvusException as exc:
            raise self._translate(exc) from exc
        return [found[i] for i in wanted if i in found]

    def item_ids(self, doc_id: str) -> list[str]:
        expr = doc_filter(doc_id)
        client = self._require()
        out: list[str] = []
        try:
            for name in COLLECTIONS:
                it = client.query_iterator(
                    self.physical(name), batch_size=1000, filter=expr, output_fields=["id"]
                )
                try:
                    while batch := it.next():
                        out.extend(row["id"] for row in batch)
                finally:
                    it.close()
        except MilvusException as exc:
            raise self._translate(exc) from exc
        return sorted(out)

    # -- maintenance (vlsearch doctor, export / import) --------------------------------------

    def iter_items(
        self, collection: str, *, with_vectors: bool = False, batch_size: int = 1000
    ) -> Iterator[tuple[list[Item], np.ndarray | None]]:
        """Every row of one collection, in batches, as Items with their dense vectors when asked
        (float32, shape (len(batch), dim)). Rows written meanwhile may or may not appear."""
        _check_collection(collection)
        fields = [*schema.OUTPUT_FIELDS, "dense"] if with_vectors else list(schema.OUTPUT_FIELDS)
        client = self._require()
        try:
            it = client.query_iterator(
                self.physical(collection), batch_size=batch_size, filter="", output_fields=fields
            )
            try:
                while batch := it.next():
                    items = [row_item(row) for row in batch]
                    vectors = (
                        np.asarray([row["dense"] for row in batch], dtype=np.float32).reshape(
                            len(batch), self._dim
                        )
                        if with_vectors
                        else None
                    )
                    yield items, vectors
            finally:
                it.close()
        except MilvusException as exc:
            raise self._translate(exc) from exc

    def delete_ids(self, ids: Sequence[str]) -> int:
        """Remove rows by item id from every collection. Returns how many were removed."""
        wanted = list(dict.fromkeys(ids))
        client = self._require()
        memory = self._memory
        twins = self._twins_to_maintain()
        removed = 0
        with _writing(memory):
            try:
                self._before_write(client)
                for name in COLLECTIONS:
                    touched = False
                    for start in range(0, len(wanted), _GET_BATCH):
                        chunk = wanted[start : start + _GET_BATCH]
                        expr = ids_filter(chunk)
                        n = _count(client, self.physical(name), expr)
                        if n:
                            kept = twins if twins is not None and twins.maintained(name) else None
                            held = kept.groups_of(name, expr) if kept else {}
                            client.delete(self.physical(name), filter=expr)
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
            except MilvusException as exc:
                raise self._translate(exc) from exc
        return removed

    # -- search ----------------------------------------------------------------------------

    def search_dense(
        self, collection: str, vector: np.ndarray, *, limit: int, flt: SearchFilter
    ) -> list[Candidate]:
        """Nearest rows by cosine similarity (Candidate.score = similarity, higher is better)."""
        return self.search_dense_many(collection, np.asarray(vector).reshape(1, -1), limit=limit, flt=flt)[0]

    def search_dense_many(
        self, collection: str, vectors: np.ndarray, *, limit: int, flt: SearchFilter
    ) -> list[list[Candidate]]:
        """search_dense for each row of `vectors` (k, dim), in one request (one pass in the index)."""
        return [
            [
                Candidate(item=item, score=score, dense_score=score, found_by=_FOUND_DENSE)
                for item, score in hits
            ]
            for hits in self._search_dense(collection, vectors, limit, flt)
        ]

    def search_bm25(self, collection: str, text: str, *, limit: int, flt: SearchFilter) -> list[Candidate]:
        """Full-text BM25 rows (Candidate.score = positive BM25 score, higher is better)."""
        return [
            Candidate(item=item, score=score, bm25_score=score, found_by=_FOUND_BM25)
            for item, score in self._search_bm25(collection, text, limit, flt)
        ]

    def hybrid_search(
        self,
        collection: str,
        vector: np.ndarray,
        text: str,
        *,
        limit: int,
        flt: SearchFilter,
        rrf_k: int = 60,
    ) -> list[Candidate]:
        """Dense and BM25 lists fused by reciprocal rank (score = sum of 1/(rrf_k + rank)).

        Fused here rather than with Milvus's RRFRanker so each Candidate keeps both raw scores."""
        if rrf_k < 0:
            raise ValueError(f"rrf_k must be >= 0, got {rrf_k}")
        dense = self._search_dense(collection, np.asarray(vector).reshape(1, -1), limit, flt)[0]
        lexical = self._search_bm25(collection, text, limit, flt)
        fused: dict[str, list[Any]] = {}  # id -> [rrf, item, dense, bm25]
        for rank, (item, score) in enumerate(dense, start=1):
            fused[item.id] = [1.0 / (rrf_k + rank), item, score, None]
        for rank, (item, score) in enumerate(lexical, start=1):
            entry = fused.get(item.id)
            if entry is None:
                fused[item.id] = [1.0 / (rrf_k + rank), item, None, score]
            else:
                entry[0] += 1.0 / (rrf_k + rank)
                entry[3] = score
        ranked = sorted(fused.values(), key=lambda e: e[0], reverse=True)[:limit]
        return [
            Candidate(
                item=item,
                score=rrf,
                dense_score=d,
                bm25_score=b,
                found_by=_FOUND_BOTH
                if d is not None and b is not None
                else (_FOUND_DENSE if d is not None else _FOUND_BM25),
            )
            for rrf, item, d, b in ranked
        ]

    def _search_dense(
        self, collection: str, vectors: np.ndarray, limit: int, flt: SearchFilter
    ) -> list[list[tuple[Item, float]]]:
        _check_collection(collection)
        _check_limit(limit)
        queries = np.asarray(vectors, dtype=np.float32)
        if queries.ndim != 2 or queries.shape[1] != self._dim:
            raise ValueError(f"query vectors have shape {queries.shape}: the store expects dim {self._dim}")
        expr = build_filter(flt)  # also validates every value, whichever backend answers
        if expr == MATCH_NOTHING:
            return [[] for _ in range(queries.shape[0])]
        self._require()
        try:
            found = self._backend().dense(collection, queries, limit=limit, flt=flt)
        except MilvusException as exc:
            raise self._translate(exc) from exc
        return [_ordered(hits) for hits in found]

    def _search_bm25(
        self, collection: str, text: str, limit: int, flt: SearchFilter
    ) -> list[tuple[Item, float]]:
        _check_collection(collection)
        _check_limit(limit)
        expr = build_filter(flt)
        if expr == MATCH_NOTHING or not text.strip():
            return []
        self._require()
        text = truncate_utf8(text, schema.TEXT_MAX)
        try:
            return _ordered(self._backend().bm25(collection, text, limit=limit, flt=flt))
        except MilvusException as exc:
            raise self._translate(exc) from exc

    def _twins_to_maintain(self) -> GroupBm25 | None:
        """The per-group BM25 collections writes must keep in step, or None where this Store
        searches its in-process index, which then marks them stale once (milvus.group_bm25)."""
        twins = self._twins
        if twins is None:
            return None
        if not self.searches_in_memory:
            return twins
        if not self._twins_marked_absent:
            for name in COLLECTIONS:
                if twins.state(name) != schema.GROUP_BM25_ABSENT:
                    twins.mark(name, schema.GROUP_BM25_ABSENT)
            self._twins_marked_absent = True
        return None


# pymilvus keeps one in-process Lite server per path for the whole process (a module-level
# manager in milvus_lite); this counts the Stores using each path so the last close() stops it.
# Stores sharing a path also share its MemoryIndex: each must see the others' writes.
# Every Store on a path writes through its one index, also a Store that searches through Lite:
# the index is built from Lite once and must then see every write.
_lite_users: dict[str, tuple[int, MemoryIndex, IndexSnapshots]] = {}
_lite_users_lock = threading.Lock()


def _lite_acquire(uri: str, new_index: Callable[[], MemoryIndex]) -> tuple[MemoryIndex, IndexSnapshots]:
    """Count one more user of `uri`; returns the path's shared index and its snapshot (made by the
    first user)."""
    key = os.path.abspath(uri)
    with _lite_users_lock:
        entry = _lite_users.get(key)
        users, index, snapshots = entry if entry is not None else (0, new_index(), IndexSnapshots(key))
        _lite_users[key] = (users + 1, index, snapshots)
        return index, snapshots


def _lite_release(uri: str) -> None:
    key = os.path.abspath(uri)
    with _lite_users_lock:
        entry = _lite_users.get(key)
        if entry is not None and entry[0] > 1:
            _lite_users[key] = (entry[0] - 1, entry[1], entry[2])
            return
        _lite_users.pop(key, None)
    from milvus_lite.server_manager import server_manager_instance

    server_manager_instance.release_server(key)


def _term_counts(sparse: Any) -> TermCounts:
    """Lite's stored BM25 vector of a row (a dict, or a one-row scipy matrix) as term counts."""
    if isinstance(sparse, dict):
        return {int(k): float(v) for k, v in sparse.items()}
    coo = sparse.tocoo()
    return {int(k): float(v) for k, v in zip(coo.col, coo.data, strict=True)}


def _ordered(hits: list[tuple[Item, float]]) -> list[tuple[Item, float]]:
    """Best first, equal scores by item id: engines order ties differently, and rank-based fusion
    (RRF) would carry that into the results. Exact equality only: near-duplicate texts differ in
    the sixth decimal of their cosine, and that order is real."""
    return sorted(hits, key=lambda h: (-h[1], h[0].id))


def _writing(memory: MemoryIndex | None) -> AbstractContextManager[Any]:
    """Writers hold the index's write lock across the Milvus write and the index update."""
    return memory.writing if memory is not None else nullcontext()


def _count(client: MilvusClient, collection: str, expr: str) -> int:
    res = client.query(collection, filter=expr, output_fields=["count(*)"])
    return int(res[0]["count(*)"])


def _check_collection(name: str) -> str:
    if name not in COLLECTIONS:
        raise ValueError(f"unknown collection {name!r}: use one of {', '.join(COLLECTIONS)}")
    return name


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")


@functools.cache
def _milvus_lite_version() -> str:
    try:
        return importlib.metadata.version("milvus-lite")
    except importlib.metadata.PackageNotFoundError:
        return ""
