"""The in-process index of an embedded Lite store against Milvus Lite's own search, same rows."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from vlsearch.milvus import Store
from vlsearch.types import Item, Locator, Modality, SearchFilter

DIM = 32
WORDS = [
    "pump",
    "valve",
    "coolant",
    "filter",
    "alarm",
    "node",
    "rack",
    "cabinet",
    "fan",
    "power",
    "supply",
    "module",
    "error",
    "code",
    "E-17",
    "E-42",
    "PX-900",
    "manual",
    "procedure",
    "replace",
    "inspect",
    "电源",
    "模块",
    "故障",
    "风扇",
    "机柜",
    "更换",
    "检查",
]
GROUPS = ("eng", "ops", "hr")
DOC_TYPES = ("pdf", "docx", "text")


def _items(rng: random.Random, n: int, *, prefix: str = "i", version: int = 0) -> list[Item]:
    out = []
    for k in range(n):
        modality = (Modality.TEXT, Modality.TEXT, Modality.IMAGE, Modality.FRAME)[k % 4]
        doc = f"d{k // 3}"
        out.append(
            Item(
                id=f"{prefix}{k}",
                doc_id=doc,
                modality=modality,
                text=" ".join(rng.choices(WORDS, k=rng.randint(3, 30))) + f" v{version}",
                locator=Locator(index=k),
                source=f"/docs/{doc}.pdf",
                name=f"{doc}.pdf",
                doc_type=DOC_TYPES[k % 3],
                groups=tuple(sorted(set(rng.sample(GROUPS, rng.randint(1, 2))))),
            )
        )
    return out


def _vectors(gen: np.random.Generator, n: int) -> np.ndarray:
    v = gen.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    """The same rows in two embedded stores: one searching its index, one asking Lite."""
    index = Store(uri=str(tmp_path / "index.db"), dim=DIM, embedder_id="t")
    engine = Store(uri=str(tmp_path / "engine.db"), dim=DIM, embedder_id="t", memory_index=False)
    index.connect()
    engine.connect()
    yield index, engine
    index.close()
    engine.close()


FILTERS = (
    SearchFilter(),
    SearchFilter(groups=("eng",)),
    SearchFilter(groups=("ops", "hr")),
    SearchFilter(doc_types=("pdf", "text"), groups=("eng",)),
    SearchFilter(doc_ids=("d1", "d4", "d7")),
    SearchFilter(modalities=(Modality.IMAGE,)),
    SearchFilter(groups=()),
    SearchFilter(groups=("nobody",)),
)


def _both(stores: tuple[Store, Store], fn_name: str, *args: object, **kwargs: object) -> tuple[list, list]:
    return tuple(getattr(s, fn_name)(*args, **kwargs) for s in stores)  # type: ignore[return-value]


def _same_ranking(mine: list, theirs: list, *, tol: float) -> None:
    """Same scores rank by rank and the same rows; rows tied with the last score may differ."""
    assert len(mine) == len(theirs)
    for a, b in zip(mine, theirs, strict=True):
        assert a.score == pytest.approx(b.score, abs=tol)
    ours = {c.item.id: c for c in mine}
    other = {c.item.id: c for c in theirs}
    for key in ours.keys() & other.keys():
        assert ours[key].score == pytest.approx(other[key].score, abs=tol)
        assert ours[key].item == other[key].item
    for key in ours.keys() ^ other.keys():
        c = ours.get(key) or other[key]
        assert c.score == pytest.approx(mine[-1].score, abs=tol), f"{key} differs off a tie"


def test_dense_and_bm25_match_lite(pair: tuple[Store, Store]) -> None:
    rng, gen = random.Random(1), np.random.default_rng(1)
    items = _items(rng, 240)
    vectors = _vectors(gen, len(items))
    for store in pair:
        store.upsert(items, vectors)  # one request per collection: one Lite segment, same BM25 stats
    for _ in range(12):
        query = _vectors(gen, 1)[0]
        text = " ".join(rng.choices(WORDS, k=4))
        for flt in FILTERS:
            for coll in ("chunks", "images", "frames"):
                mine, theirs = _both(pair, "search_dense", coll, query, limit=10, flt=flt)
                _same_ranking(mine, theirs, tol=1e-5)
                mine, theirs = _both(pair, "search_bm25", coll, text, limit=10, flt=flt)
                _same_ranking(mine, theirs, tol=1e-3)
        assert pair[0].count() == pair[1].count() == len(items)


def test_index_follows_upserts_and_deletes(pair: tuple[Store, Store]) -> None:
    rng, gen = random.Random(2), np.random.default_rng(2)
    items = _items(rng, 60)
    vectors = _vectors(gen, len(items))
    index, _ = pair
    for store in pair:
        store.upsert(items, vectors)
    query = _vectors(gen, 1)[0]
    index.search_dense("chunks", query, limit=5, flt=SearchFilter())  # builds the index

    changed = _items(random.Random(3), 30, version=1)  # same ids, new text and vectors
    changed_vectors = _vectors(gen, len(changed))
    for store in pair:
        store.upsert(changed, changed_vectors)
        store.delete_document("d2")
        store.delete_ids(["i40", "i41", "i-missing"])
    for text in ("v1", "v0", "pump coolant", "电源 故障"):
        for flt in FILTERS:
            mine, theirs = _both(pair, "search_bm25", "chunks", text, limit=100, flt=flt)
            assert {c.item.id for c in mine} == {c.item.id for c in theirs}
    assert {c.item.id for c in index.search_bm25("chunks", "v1", limit=100, flt=SearchFilter())} == {
        it.id for it in changed if it.collection == "chunks" and it.doc_id != "d2"
    }
    mine, theirs = _both(pair, "search_dense", "chunks", changed_vectors[0], limit=3, flt=SearchFilter())
    assert mine[0].item.id == theirs[0].item.id == changed[0].id
    assert mine[0].score == pytest.approx(1.0, abs=1e-5)
    for doc in ("d0", "d2", "d13"):
        assert index.count(doc_id=doc) == pair[1].count(doc_id=doc)
    assert index.count() == pair[1].count()


def test_reopened_store_rebuilds_its_index_from_lite(tmp_path: Path) -> None:
    rng, gen = random.Random(4), np.random.default_rng(4)
    items = _items(rng, 50)
    vectors = _vectors(gen, len(items))
    uri = str(tmp_path / "m.db")
    store = Store(uri=uri, dim=DIM, embedder_id="t")
    store.connect()
    store.upsert(items, vectors)
    before = store.search_dense("chunks", vectors[0], limit=10, flt=SearchFilter(groups=("eng",)))
    store.delete_document("d0")
    store.close()

    again = Store(uri=uri, dim=DIM, embedder_id="t")
    again.connect()
    assert again.warm_up() == len(items) - 3  # d0 held items 0-2
    after = again.search_dense("chunks", vectors[0], limit=10, flt=SearchFilter(groups=("eng",)))
    kept = [c.item.id for c in before if c.item.doc_id != "d0"]
    assert [c.item.id for c in after][: len(kept)] == kept
    assert again.warm_up() == len(items) - 3  # twice is fine
    again.close()


def test_two_stores_on_one_path_see_each_others_writes(tmp_path: Path) -> None:
    uri = str(tmp_path / "shared.db")
    reader = Store(uri=uri, dim=DIM, embedder_id="t")
    writer = Store(uri=uri, dim=DIM, embedder_id="t", memory_index=False)
    reader.connect()
    writer.connect()
    try:
        assert reader.warm_up() == 0
        items = _items(random.Random(5), 8)
        vectors = _vectors(np.random.default_rng(5), 8)
        writer.upsert(items, vectors)
        hits = reader.search_bm25("chunks", "v0", limit=20, flt=SearchFilter())
        assert {c.item.id for c in hits} == {it.id for it in items if it.collection == "chunks"}
        writer.delete_document("d0")
        left = reader.search_bm25("chunks", "v0", limit=20, flt=SearchFilter())
        assert left and all(c.item.doc_id != "d0" for c in left)
    finally:
        writer.close()
        reader.close()


def test_searches_during_writes_never_fail_and_end_consistent(pair: tuple[Store, Store]) -> None:
    index, engine = pair
    gen = np.random.default_rng(6)
    batches = [(_items(random.Random(k), 40, prefix=f"b{k}-"), _vectors(gen, 40)) for k in range(6)]
    errors: list[BaseException] = []
    stop = threading.Event()

    def search() -> None:
        q = _vectors(np.random.default_rng(7), 1)[0]
        try:
            while not stop.is_set():
                index.search_dense("chunks", q, limit=10, flt=SearchFilter(groups=("eng",)))
                index.search_bm25("chunks", "pump 电源", limit=10, flt=SearchFilter())
        except BaseException as exc:  # reported below
            errors.append(exc)

    readers = [threading.Thread(target=search) for _ in range(3)]
    for t in readers:
        t.start()
    for items, vectors in batches:
        index.upsert(items, vectors)
        engine.upsert(items, vectors)
    index.delete_document("d1")
    engine.delete_document("d1")
    stop.set()
    for t in readers:
        t.join()
    assert errors == []
    mine, theirs = _both(pair, "search_bm25", "chunks", "pump 电源 v0", limit=200, flt=SearchFilter())
    assert {c.item.id for c in mine} == {c.item.id for c in theirs}


def test_repacks_after_most_rows_are_replaced(tmp_path: Path) -> None:
    store = Store(uri=str(tmp_path / "r.db"), dim=DIM, embedder_id="t")
    store.connect()
    try:
        gen = np.random.default_rng(8)
        store.warm_up()
        items = [
            Item(
                id=f"r{k}",
                doc_id=f"r{k // 100}",
                modality=Modality.TEXT,
                text=f"row {k} pump",
                locator=Locator(index=k),
                source="/r",
                name="r",
                doc_type="text",
                groups=("eng",),
            )
            for k in range(1200)
        ]
        store.upsert(items, _vectors(gen, len(items)))
        for doc in range(10):
            store.delete_document(f"r{doc}")
        assert store.count() == 200
        target = _vectors(gen, 1)[0]
        store.upsert(items[1100:1101], target[None, :])
        hits = store.search_dense("chunks", target, limit=3, flt=SearchFilter(groups=("eng",)))
        assert hits[0].item.id == "r1100"
        assert hits[0].score == pytest.approx(1.0, abs=1e-5)
        assert len(store.search_bm25("chunks", "pump", limit=500, flt=SearchFilter())) == 200
    finally:
        store.close()


def test_term_counts_equal_the_sparse_vectors_lite_stores(tmp_path: Path) -> None:
    """The index is built from Lite's stored BM25 vectors and searched with terms counted here."""
    from vlsearch.milvus import schema
    from vlsearch.milvus.bm25 import term_counter

    store = Store(uri=str(tmp_path / "t.db"), dim=DIM, embedder_id="t")
    store.connect()
    try:
        items = _items(random.Random(9), 12)
        mixed = "Pump E-17: 电源模块故障, v2.3.1 isn't 100% OK — Ünïcode"
        items[0] = Item(**{**items[0].__dict__, "text": mixed})
        store.upsert(items, _vectors(np.random.default_rng(9), len(items)))
        terms = term_counter(schema.analyzer_params("jieba"))
        seen = 0
        for coll in ("chunks", "images", "frames"):
            for batch_items, _, stored in store._rows_for_index(coll):
                assert stored is not None
                for item, counts in zip(batch_items, stored, strict=True):
                    assert counts == terms(item.text), item.text
                    seen += 1
        assert seen == len(items)
    finally:
        store.close()
