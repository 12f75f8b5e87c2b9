"""The Store: a thin MilvusClient facade over the `chunks`, `images` and `frames` collections.

`uri` is either a Milvus Lite data path ending in `.db` (embedded; one process per data dir) or an
`http(s)://host:port` server URI (with `token` where the server needs one). An embedded store
answers searches from a MemoryIndex kept in step with its writes (see milvus.memory_index for
why); a server is searched through Milvus.
"""

from __future__ import annotations

from vlsearch.milvus.store_reads import StoreReads
from vlsearch.milvus.store_writes import StoreWrites


class Store(StoreWrites, StoreReads):
    """Rows of every modality, each in its own collection, searchable by dense vector and BM25.

    Composed of layers, one module each: store_base (state, checks, error translation), store_index
    (the in-process search index), store_setup (connect/close, retry, TLS, collection checks),
    store_writes, store_reads (and milvus.rrf for the hybrid search's fusion)."""
