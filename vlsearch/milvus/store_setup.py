"""The Store's life cycle: open the client (retrying a server that is not up yet, TLS), create
and check the collections (embedder, layout, migrations), close, ping."""

from __future__ import annotations

import time
from pathlib import Path

from pymilvus import MilvusClient, MilvusException

from vlsearch.errors import EmbedderMismatchError, StoreUnavailableError
from vlsearch.milvus import migrations, schema
from vlsearch.milvus.backends import MilvusBackend
from vlsearch.milvus.bm25 import read_definition
from vlsearch.milvus.connection import (
    BACKOFF_FIRST_S,
    BACKOFF_MAX_S,
    GRPC_OPTIONS,
    is_unavailable,
    lite_acquire,
    lite_open_failure,
    lite_release,
)
from vlsearch.milvus.group_bm25 import GroupBm25
from vlsearch.milvus.store_base import log
from vlsearch.milvus.store_index import StoreIndex
from vlsearch.types import COLLECTIONS


class StoreSetup(StoreIndex):
    """Connects, sets the collections up, closes."""

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

    def _close_client(self, client: MilvusClient) -> None:
        client.close()
        if self.is_lite:
            self._memory = None
            self._snapshots = None
            self._prefetch = None
            lite_release(self._uri)

    def ping(self) -> bool:
        client = self._client
        if client is None:
            return False
        try:
            client.list_collections()
        except MilvusException as exc:
            if is_unavailable(exc):
                return False
            raise
        return True

    def _open_with_retry(self) -> MilvusClient:
        """Open the client; a server that does not answer yet is retried until connect_timeout_s."""
        if self.is_lite or self._connect_timeout_s <= 0:
            return self._open_client()
        deadline = time.monotonic() + self._connect_timeout_s
        delay = BACKOFF_FIRST_S
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
                delay = min(delay * 2, BACKOFF_MAX_S)
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
                    uri=self._uri, token=self._token, grpc_options=GRPC_OPTIONS, dedicated=True
                )
                self._memory, self._snapshots = lite_acquire(self._uri, self._new_memory_index)
                return client
            return MilvusClient(
                uri=self._uri, token=self._token, grpc_options=GRPC_OPTIONS, dedicated=True, **self._tls
            )
        except MilvusException as exc:
            if self.is_lite:
                raise StoreUnavailableError(lite_open_failure(self._uri)) from exc
            raise StoreUnavailableError(
                f"cannot reach Milvus at {self._uri}: {exc.message}; "
                "start the server or fix VLSEARCH_MILVUS_URI"
            ) from exc

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
