"""In-place upgrades of collections made by earlier vlsearch versions (the `vlsearch.schema_version`
property), run by Store.connect before a collection is used.

2 -> 3: the sparse index is rebuilt stating bm25_k1 / bm25_b (an index that named none ranked with
the engine's default: k1 1.5 on Lite, 1.2 on a Milvus server); a server gets the INVERTED index on
`groups` that array_contains_any uses; the per-group BM25 collections are marked absent, so a
Store that searches through Milvus builds them. The text field's analyzer cannot change without
rewriting every row: a layout-2 collection keeps `{"tokenizer": "jieba"}`, which the in-process
index reads back like any other definition. On Lite that analyzer lowercases (Lite always does);
on a Milvus server it does not, so such a store matches terms case-sensitively until it is
re-ingested into a new store (logged).
"""

from __future__ import annotations

import logging

from pymilvus import MilvusClient, MilvusException

from vlsearch.milvus import schema

log = logging.getLogger(__name__)

MIGRATES_FROM = ("2",)


def migrate(client: MilvusClient, collection: str, *, from_version: str, lite: bool) -> None:
    if from_version != "2":
        raise ValueError(f"no migration from collection layout {from_version}")
    log.warning("upgrading collection %s from layout 2 to %s", collection, schema.SCHEMA_VERSION)
    client.release_collection(collection)
    try:
        if not _states_bm25(client, collection):
            client.drop_index(collection, "sparse")
            params = client.prepare_index_params()
            schema.add_sparse_index(params)
            client.create_index(collection, params)
        if not lite and "groups" not in client.list_indexes(collection):
            params = client.prepare_index_params()
            schema.add_groups_index(params)
            client.create_index(collection, params)
    except MilvusException:
        # another process may be upgrading the same collection: fine if it got there
        if not _states_bm25(client, collection):
            raise
    finally:
        client.load_collection(collection)
    if not lite and not _lowercases(client, collection):
        log.warning(
            "collection %s keeps its layout-2 analyzer without a lowercase filter: on a Milvus server "
            "BM25 matches case-sensitively until the documents are ingested into a new store",
            collection,
        )
    client.alter_collection_properties(
        collection,
        properties={
            schema.PROP_SCHEMA: schema.SCHEMA_VERSION,
            schema.PROP_GROUP_BM25: schema.GROUP_BM25_ABSENT,
        },
    )


def _states_bm25(client: MilvusClient, collection: str) -> bool:
    desc = client.describe_index(collection, "sparse") or {}
    params = {**desc, **(desc.get("params") or {})}
    return "bm25_k1" in params and "bm25_b" in params


def _lowercases(client: MilvusClient, collection: str) -> bool:
    for f in client.describe_collection(collection).get("fields", ()):
        if f.get("name") == "text":
            return "lowercase" in str((f.get("params") or {}).get("analyzer_params", ""))
    return False
