"""The Store's state and the small pieces every part of it uses: configuration checks, the
connected client, error translation, the index token and when Lite flushes after a write.

The Store is composed in layers, each a module of its own: this base; store_index (the in-process
search index: snapshot, warm-up, which backend answers); store_setup (connect/close, retry, TLS,
collection creation and checks); store_writes and store_reads; store.Store puts them together.
"""

from __future__ import annotations

import logging
import re
import threading
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from pymilvus import MilvusClient, MilvusException

from vlsearch.errors import StoreUnavailableError
from vlsearch.milvus import schema
from vlsearch.milvus.backends import MilvusBackend
from vlsearch.milvus.connection import is_unavailable
from vlsearch.milvus.group_bm25 import GroupBm25
from vlsearch.milvus.index_snapshot import (
    TOKEN_COLLECTION,
    TOKEN_PROPERTY,
    IndexSnapshots,
    SnapshotPrefetch,
    new_token,
)
from vlsearch.milvus.memory_index import MemoryIndex
from vlsearch.milvus.uri import parse_milvus_uri
from vlsearch.types import COLLECTIONS

# one logger for every part of the Store, named for the facade operators configure
log = logging.getLogger("vlsearch.milvus.store")

UPSERT_BATCH = 512
# An embedded store searched through its in-process index flushes Lite once this many rows of a
# collection were written (and at close and after an ingest batch), not after every write: each
# flush writes a segment and builds its HNSW index, and Lite holds every small segment in memory
# (~0.4 MB each: one per ingested file before) until compaction merges them.
FLUSH_ROWS = 2048
GET_BATCH = 1000
# Milvus refuses a search or query whose limit (plus offset) exceeds 16384.
MAX_LIMIT = 16384
_PREFIX = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


class StoreBase:
    """Configuration and connection state shared by the Store's layers."""

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

    def _require(self) -> MilvusClient:
        client = self._client
        if client is None:
            raise StoreUnavailableError(f"store at {self._uri} is not connected: call connect() first")
        return client

    def _translate(self, exc: MilvusException) -> Exception:
        if is_unavailable(exc):
            return StoreUnavailableError(f"Milvus at {self._uri} is unavailable: {exc.message}")
        return exc

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

    def _before_write(self, client: MilvusClient) -> None:
        """Give Lite a new index token before this process's first write since the snapshot was
        saved or read, so no snapshot matches the data once the write begins (see index_snapshot)."""
        if self._snapshots is not None:
            self._snapshots.before_write(lambda t: self._set_token(client, t))
        elif self._lite_server and not self._token_written:
            self._set_token(client, new_token())
            self._token_written = True

    def _new_memory_index(self) -> MemoryIndex:
        return MemoryIndex(dim=self._dim, collections=COLLECTIONS)

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


def writing(memory: MemoryIndex | None) -> AbstractContextManager[Any]:
    """Writers hold the index's write lock across the Milvus write and the index update."""
    return memory.writing if memory is not None else nullcontext()


def count_rows(client: MilvusClient, collection: str, expr: str) -> int:
    res = client.query(collection, filter=expr, output_fields=["count(*)"])
    return int(res[0]["count(*)"])


def check_collection(name: str) -> str:
    if name not in COLLECTIONS:
        raise ValueError(f"unknown collection {name!r}: use one of {', '.join(COLLECTIONS)}")
    return name


def check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
