from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pytest

from tests.milvus.conftest import CORPUS, DIM, Loaded, _item
from vlsearch.errors import InputRejectedError
from vlsearch.milvus.schema import TEXT_MAX
from vlsearch.types import Locator, Modality, SearchFilter

ALL = SearchFilter()
BY_ID = {it.id: it for it in CORPUS}


def _ids(cands: list) -> list[str]:
    return [c.item.id for c in cands]


def test_upsert_get_round_trip(loaded: Loaded) -> None:
    wanted = ["i-frame", "i-zh-psu", "missing-id", "i-photo", "i-e17"]
    got = loaded.store.get(wanted)
    assert [it.id for it in got] == ["i-frame", "i-zh-psu", "i-photo", "i-e17"]
    for item in got:
        assert item == BY_ID[item.id]  # every field, locator JSON and groups tuple included
    frame = got[0]
    assert frame.modality is Modality.FRAME
    assert frame.locator.t_start == 12.0 and frame.locator.label() == "00:12-00:13"
    assert got[1].locator.heading == ("维护", "电源")


def test_long_text_is_cut_to_the_byte_limit(loaded: Loaded) -> None:
    (item,) = loaded.store.get(["i-long"])
    assert len(item.text.encode("utf-8")) <= TEXT_MAX
    assert item.text == BY_ID["i-long"].text[: len(item.text)]
    assert len(item.text) == 1 + (TEXT_MAX - 1) // 3


def test_counts_and_item_ids(loaded: Loaded) -> None:
    store = loaded.store
    assert store.count("images") == 1
    assert store.count("frames") == 1
    assert store.count() == len(CORPUS)
    assert store.count(doc_id="d-e17") == 0
    assert store.count(doc_id="d-codes") == 1
    assert store.count("images", doc_id="d-codes") == 0
    assert store.item_ids("d-zh") == ["i-zh-psu"]
    assert store.item_ids("nope") == []


def test_upsert_is_idempotent(loaded: Loaded) -> None:
    store = loaded.store
    before = store.count()
    vecs = np.stack([loaded.vectors[it.id] for it in CORPUS[:3]])
    assert store.upsert(CORPUS[:3], vecs) == 3
    assert store.count() == before


@pytest.mark.parametrize(
    ("query", "expected"),
    [("电源模块", {"i-zh-psu"}), ("power supply", {"i-en-psu", "i-secret"}), ("E-17", {"i-e17"})],
)
def test_bm25_finds_chinese_english_and_codes(loaded: Loaded, query: str, expected: set[str]) -> None:
    hits = loaded.store.search_bm25("chunks", query, limit=5, flt=ALL)
    assert set(_ids(hits)[: len(expected)]) == expected
    scores = [h.score for h in hits]
    assert all(s > 0 for s in scores)
    assert scores == sorted(scores, reverse=True)
    assert all(h.bm25_score == h.score and h.found_by == ("bm25",) for h in hits)


def test_bm25_blank_query_returns_nothing(loaded: Loaded) -> None:
    assert loaded.store.search_bm25("chunks", "   ", limit=5, flt=ALL) == []


def test_dense_order_matches_brute_force_cosine(loaded: Loaded) -> None:
    query = loaded.e5.query(["How do I fix a blocked coolant pump?"])[0]
    hits = loaded.store.search_dense("chunks", query, limit=10, flt=ALL)
    chunk_ids = [it.id for it in CORPUS if it.modality is Modality.TEXT]
    sims = {i: float(np.dot(query, loaded.vectors[i]) / np.linalg.norm(loaded.vectors[i])) for i in chunk_ids}
    assert _ids(hits) == sorted(chunk_ids, key=lambda i: -sims[i])
    assert hits[0].item.id == "i-e17"
    for h in hits:
        assert h.score == pytest.approx(sims[h.item.id], abs=1e-4)
        assert h.dense_score == h.score and h.found_by == ("dense",)


def test_dense_search_of_a_stored_vector_finds_itself(loaded: Loaded) -> None:
    hits = loaded.store.search_dense("frames", loaded.vectors["i-frame"], limit=3, flt=ALL)
    assert _ids(hits) == ["i-frame"]
    assert hits[0].score == pytest.approx(1.0, abs=1e-4)


def test_hybrid_keeps_both_scores(loaded: Loaded) -> None:
    vec = loaded.e5.query(["coolant pump blocked"])[0]
    hits = loaded.store.hybrid_search("chunks", vec, "E-17", limit=4, flt=ALL, rrf_k=60)
    assert len(hits) == 4
    top = hits[0]
    assert top.item.id == "i-e17"
    assert top.found_by == ("dense", "bm25")
    assert top.dense_score is not None and top.bm25_score is not None and top.bm25_score > 0
    assert top.score == pytest.approx(2 / 61)
    assert all(h.found_by == ("dense",) and h.bm25_score is None for h in hits[1:])
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_filters_restrict_results(loaded: Loaded) -> None:
    store = loaded.store
    vec = loaded.vectors["i-en-psu"]

    def dense(flt: SearchFilter, collection: str = "chunks") -> set[str]:
        return set(_ids(store.search_dense(collection, vec, limit=20, flt=flt)))

    assert dense(SearchFilter(groups=("ops",))) == {"i-en-psu", "i-e17"}
    assert dense(SearchFilter(groups=("ops", "hr"))) == {"i-en-psu", "i-e17", "i-cafe"}
    assert dense(SearchFilter(groups=("nobody",))) == set()
    assert dense(SearchFilter(doc_types=("docx", "text"))) == {"i-en-psu", "i-cafe", "i-long"}
    assert dense(SearchFilter(doc_ids=("d-zh", "d-hr"))) == {"i-zh-psu", "i-cafe"}
    assert dense(SearchFilter(doc_types=("pdf",), groups=("eng",))) == {"i-zh-psu"}
    assert dense(SearchFilter(modalities=(Modality.IMAGE,))) == set()
    assert dense(SearchFilter(modalities=(Modality.IMAGE,)), "images") == {"i-photo"}
    bm25 = store.search_bm25("chunks", "power supply", limit=20, flt=SearchFilter(groups=("ops",)))
    assert "i-secret" not in _ids(bm25) and "i-en-psu" in _ids(bm25)


def test_empty_groups_see_nothing(loaded: Loaded) -> None:
    store = loaded.store
    none = SearchFilter(groups=())
    assert store.search_dense("chunks", loaded.vectors["i-cafe"], limit=5, flt=none) == []
    assert store.search_bm25("chunks", "power supply", limit=5, flt=none) == []
    assert store.hybrid_search("chunks", loaded.vectors["i-cafe"], "coffee", limit=5, flt=none) == []


def test_delete_document_removes_rows_in_every_collection(loaded: Loaded) -> None:
    store = loaded.store
    items = [
        _item("del-text", "d-del", "temporary manual text", groups=("eng",)),
        _item("del-img", "d-del", "temporary figure", groups=("eng",), modality=Modality.IMAGE),
        _item(
            "del-frame",
            "d-del",
            "temporary frame",
            groups=("eng",),
            modality=Modality.FRAME,
            locator=Locator(t_start=1.0),
        ),
    ]
    vecs = np.random.default_rng(0).standard_normal((3, DIM)).astype(np.float32)
    before = store.count()
    assert store.upsert(items, vecs) == 3
    assert store.item_ids("d-del") == ["del-frame", "del-img", "del-text"]
    assert store.delete_document("d-del") == 3
    assert store.count(doc_id="d-del") == 0
    assert store.get(["del-text", "del-img", "del-frame"]) == []
    assert store.count() == before
    assert store.delete_document("d-del") == 0


def test_upsert_batches_beyond_one_request(loaded: Loaded) -> None:
    store = loaded.store
    n = 1100  # three batches of at most 512
    items = [
        _item(f"bulk-{i}", "d-bulk", f"bulk row {i}", groups=("eng",), doc_type="text") for i in range(n)
    ]
    vecs = np.random.default_rng(1).standard_normal((n, DIM)).astype(np.float32)
    try:
        assert store.upsert(items, vecs) == n
        assert store.count(doc_id="d-bulk") == n
        assert len(store.item_ids("d-bulk")) == n
        got = store.get([f"bulk-{i}" for i in reversed(range(n))])  # more ids than one get batch
        assert [it.id for it in got] == [f"bulk-{i}" for i in reversed(range(n))]
    finally:
        assert store.delete_document("d-bulk") == n


def test_upsert_rejects_bad_input(loaded: Loaded) -> None:
    store = loaded.store
    good = _item("ok-id", "d-ok", "text", groups=("eng",))
    with pytest.raises(ValueError, match="shape"):
        store.upsert([good], np.zeros((1, DIM + 1), dtype=np.float32))
    for bad in (
        dataclasses.replace(good, id='x" or 1==1'),
        dataclasses.replace(good, doc_id="d/../x"),
        dataclasses.replace(good, groups=("eng", "bad group")),
        dataclasses.replace(good, doc_type="pdf'"),
    ):
        with pytest.raises(InputRejectedError):
            store.upsert([bad], np.zeros((1, DIM), dtype=np.float32))
    assert store.count(doc_id="d-ok") == 0


def test_search_argument_checks(loaded: Loaded) -> None:
    store = loaded.store
    with pytest.raises(ValueError, match="unknown collection"):
        store.search_bm25("documents", "x", limit=5, flt=ALL)
    with pytest.raises(ValueError, match="limit"):
        store.search_bm25("chunks", "x", limit=0, flt=ALL)
    with pytest.raises(ValueError, match="dim"):
        store.search_dense("chunks", np.zeros(DIM - 1, dtype=np.float32), limit=5, flt=ALL)


def test_concurrent_searches_from_threads(loaded: Loaded) -> None:
    """The API serves requests from a thread pool while ingest writes from a worker thread."""
    store = loaded.store
    vec = loaded.vectors["i-e17"]
    expected = _ids(store.search_dense("chunks", vec, limit=5, flt=ALL))
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(10):
                results.append(_ids(store.search_dense("chunks", vec, limit=5, flt=ALL)))
                store.search_bm25("chunks", "E-17", limit=5, flt=SearchFilter(groups=("eng",)))
        except BaseException as exc:  # surfaced by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(results) == 40 and all(r == expected for r in results)
