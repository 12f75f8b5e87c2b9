"""A store made by the previous layout (2) opens, is upgraded in place and searches like a new one."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from pymilvus import DataType, Function, FunctionType, MilvusClient

from tests.milvus.test_memory_index import FILTERS, WORDS, _items, _same_ranking, _vectors
from vlsearch.milvus import Store, schema
from vlsearch.milvus.rows import item_row
from vlsearch.types import COLLECTIONS

DIM = 32


def _layout_2(client: MilvusClient, name: str) -> None:
    """What vlsearch up to schema 2 created (copied from that release's milvus/schema.py)."""
    s = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    s.add_field("id", DataType.VARCHAR, is_primary=True, max_length=schema.ID_MAX)
    s.add_field("doc_id", DataType.VARCHAR, max_length=schema.ID_MAX)
    s.add_field("modality", DataType.VARCHAR, max_length=schema.MODALITY_MAX)
    s.add_field("doc_type", DataType.VARCHAR, max_length=schema.DOC_TYPE_MAX)
    s.add_field("name", DataType.VARCHAR, max_length=schema.NAME_MAX)
    s.add_field("source", DataType.VARCHAR, max_length=schema.SOURCE_MAX)
    s.add_field(
        "text",
        DataType.VARCHAR,
        max_length=schema.TEXT_MAX,
        enable_analyzer=True,
        analyzer_params={"tokenizer": "jieba"},
    )
    s.add_field("locator", DataType.JSON)
    s.add_field(
        "groups",
        DataType.ARRAY,
        element_type=DataType.VARCHAR,
        max_capacity=schema.GROUPS_MAX,
        max_length=schema.GROUP_MAX,
    )
    s.add_field("groups_key", DataType.VARCHAR, max_length=schema.GROUPS_KEY_MAX)
    s.add_field("media", DataType.VARCHAR, max_length=schema.MEDIA_MAX)
    s.add_field("thumbnail", DataType.VARCHAR, max_length=schema.MEDIA_MAX)
    s.add_field("dense", DataType.FLOAT_VECTOR, dim=DIM)
    s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    s.add_function(
        Function(
            name="text_bm25",
            function_type=FunctionType.BM25,
            input_field_names=["text"],
            output_field_names=["sparse"],
        )
    )
    params = client.prepare_index_params()
    params.add_index(
        field_name="dense", index_type="HNSW", metric_type="COSINE", params={"M": 16, "efConstruction": 200}
    )
    params.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    props = {
        schema.PROP_EMBEDDER: "t",
        schema.PROP_DIM: str(DIM),
        schema.PROP_ANALYZER: "jieba",
        schema.PROP_SCHEMA: "2",
    }
    client.create_collection(name, schema=s, index_params=params, properties=props)


def _write_layout_2(uri: str, prefix: str, items: list, vectors: np.ndarray) -> None:
    client = MilvusClient(uri=uri, dedicated=True)  # never the shared channel other tests use
    for name in COLLECTIONS:
        _layout_2(client, prefix + name)
    for name in COLLECTIONS:
        rows = [
            item_row(it, v.tolist()) for it, v in zip(items, vectors, strict=True) if it.collection == name
        ]
        client.upsert(prefix + name, rows)
        client.flush(prefix + name)
    client.close()


@pytest.fixture(params=["lite", pytest.param("server", marks=pytest.mark.server)])
def old_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[str, str, str, list, np.ndarray]]:
    """A layout-2 store holding rows, written with a bare MilvusClient as that release did, and an
    embedded layout-2 copy of the same rows to compare with."""
    items = _items(random.Random(21), 120)
    items = [it.__class__(**{**it.__dict__, "text": it.text.title()}) for it in items]  # mixed case
    vectors = _vectors(np.random.default_rng(21), len(items))
    if request.param == "lite":
        uri, prefix = str(tmp_path / "old.db"), ""
    else:
        uri, prefix = request.getfixturevalue("server_uri"), f"old{random.Random().randrange(10**9)}_"
    _write_layout_2(uri, prefix, items, vectors)
    reference = str(tmp_path / "reference.db")
    _write_layout_2(reference, "", items, vectors)
    yield uri, prefix, reference, items, vectors
    if request.param == "server":
        cleanup = Store(uri=uri, dim=DIM, embedder_id="t", collection_prefix=prefix)
        cleanup.connect()
        cleanup.drop_collections()
        cleanup.close()


def test_a_layout_2_store_is_upgraded_in_place_and_keeps_its_analyzer(
    old_store: tuple[str, str, str, list, np.ndarray],
) -> None:
    """Upgraded: k1/b stated, layout 3 recorded. The analyzer cannot change without rewriting the rows:
    the store keeps layout 2's, the index reads it back, and Milvus's engine and the in-process index
    (of an embedded copy) rank its rows alike, filters and groups included."""
    uri, prefix, reference, items, _ = old_store
    store = Store(uri=uri, dim=DIM, embedder_id="t", collection_prefix=prefix)
    store.connect()
    engine = Store(uri=uri, dim=DIM, embedder_id="t", collection_prefix=prefix, memory_index=False)
    engine.connect()
    index = Store(uri=reference, dim=DIM, embedder_id="t")
    index.connect()
    try:
        client = store._require()
        for name in COLLECTIONS:
            physical = store.physical(name)
            desc = client.describe_collection(physical)
            assert desc["properties"][schema.PROP_SCHEMA] == schema.SCHEMA_VERSION
            assert client.describe_index(physical, "sparse")["params"]["bm25_k1"] == schema.BM25_K1
            text = next(f for f in desc["fields"] if f["name"] == "text")
            assert text["params"]["analyzer_params"] == '{"tokenizer": "jieba"}'
        assert store.count() == engine.count() == len(items)
        assert index.searches_in_memory and not engine.searches_in_memory
        rng = random.Random(5)
        for _ in range(6):
            text = " ".join(rng.choices(WORDS, k=3)).upper()
            dense_q = _vectors(np.random.default_rng(rng.randrange(1000)), 1)[0]
            for flt in FILTERS:
                theirs = engine.search_bm25("chunks", text, limit=10, flt=flt)
                mine = index.search_bm25("chunks", text, limit=10, flt=flt)
                assert len(mine) == len(theirs), flt
                _same_ranking(mine, theirs, tol=1e-3)
                got = engine.search_dense("chunks", dense_q, limit=5, flt=flt)
                want = index.search_dense("chunks", dense_q, limit=5, flt=flt)
                assert [c.item.id for c in got] == [c.item.id for c in want]
    finally:
        index.close()
        engine.close()
        store.close()
    again = Store(uri=uri, dim=DIM, embedder_id="t", collection_prefix=prefix)
    again.connect()  # already at layout 3: nothing to do
    assert again.count() == len(items)
    again.close()


def test_an_unknown_layout_is_refused(tmp_path: Path) -> None:
    uri = str(tmp_path / "odd.db")
    client = MilvusClient(uri=uri)
    _layout_2(client, "chunks")
    client.alter_collection_properties("chunks", properties={schema.PROP_SCHEMA: "1"})
    client.close()
    from vlsearch.errors import EmbedderMismatchError

    store = Store(uri=uri, dim=DIM, embedder_id="t")
    with pytest.raises(EmbedderMismatchError, match="layout 1"):
        store.connect()
    store.close()
