"""Hostile filter values against a real collection: each is refused, or matches nothing extra."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import pytest
from pymilvus import MilvusClient

from tests.milvus.conftest import DIM, Loaded, _item
from tests.milvus.test_filters import EVIL
from vlsearch.errors import InputRejectedError
from vlsearch.milvus.filters import MATCH_NOTHING
from vlsearch.types import SearchFilter

# Values that would break out of a naively quoted literal (no validation, no escaping).
BREAKOUTS = (
    'x"] or doc_id != "" or doc_id in ["',
    'x", "" ] or 1 == 1 or doc_id in ["',
    'x"] or id like "%" or doc_id in ["',
)


@pytest.fixture(scope="module")
def raw(loaded: Loaded) -> Iterator[MilvusClient]:
    # A second client on the same store (in-process Lite shares its server), bypassing vlsearch.
    client = MilvusClient(uri=loaded.uri, dedicated=True)  # a shared channel may have been GOAWAYed idle
    yield client
    client.close()


def test_naive_quoting_would_leak_rows(raw: MilvusClient) -> None:
    """Shows the attack is real: without validation these values widen the query to every row."""
    leaked = 0
    for value in BREAKOUTS:
        try:
            rows = raw.query("chunks", filter=f'doc_id in ["{value}"]', output_fields=["id"])
        except Exception:  # some are syntax errors, which is also what validation prevents
            continue
        leaked = max(leaked, len(rows))
    assert leaked >= 5  # the whole corpus


@pytest.mark.parametrize("value", EVIL + BREAKOUTS)
def test_store_refuses_hostile_values(loaded: Loaded, value: str) -> None:
    store = loaded.store
    vec = loaded.vectors["i-secret"]
    for flt in (
        SearchFilter(doc_ids=(value,)),
        SearchFilter(doc_types=(value,)),
        SearchFilter(groups=("hr", value)),
    ):
        with pytest.raises(InputRejectedError):
            store.search_dense("chunks", vec, limit=10, flt=flt)
        with pytest.raises(InputRejectedError):
            store.search_bm25("chunks", "power supply", limit=10, flt=flt)
    with pytest.raises(InputRejectedError):
        store.get(["i-cafe", value])
    with pytest.raises(InputRejectedError):
        store.delete_document(value)
    with pytest.raises(InputRejectedError):
        store.count(doc_id=value)
    with pytest.raises(InputRejectedError):
        store.item_ids(value)


@pytest.mark.parametrize("value", ["d-hr.x", "d-hr:x", "d-hr@x", "D-HR", "d_hr", "-", "..", "x" * 128])
def test_odd_but_valid_values_match_only_themselves(loaded: Loaded, value: str) -> None:
    store = loaded.store
    vec = loaded.vectors["i-secret"]
    assert store.search_dense("chunks", vec, limit=10, flt=SearchFilter(doc_ids=(value,))) == []
    hits = store.search_dense("chunks", vec, limit=10, flt=SearchFilter(groups=("hr", value)))
    assert [h.item.id for h in hits] == ["i-cafe"]


def test_match_nothing_expression_matches_nothing(raw: MilvusClient) -> None:
    """The Store short-circuits it, so check on the collection that it is really empty."""
    assert raw.query("chunks", filter="", output_fields=["count(*)"])[0]["count(*)"] > 0
    assert raw.query("chunks", filter=MATCH_NOTHING, output_fields=["id"]) == []


def test_group_match_is_exact_on_a_real_collection(loaded: Loaded, raw: MilvusClient) -> None:
    """LIKE wildcards, prefixes and neighbours must not widen a group match."""
    store = loaded.store
    items = [
        _item("g-under", "d-gtest", "group probe", groups=("team_a",)),
        _item("g-x", "d-gtest", "group probe", groups=("teamXa",)),
        _item("g-long", "d-gtest", "group probe", groups=("engineering", "eng.x")),
        _item("g-none", "d-gtest", "group probe", groups=()),
    ]
    store.upsert(items, np.ones((len(items), DIM), dtype=np.float32))
    only = SearchFilter(doc_ids=("d-gtest",))
    try:
        cases = {
            ("team_a",): {"g-under"},
            ("teamXa",): {"g-x"},
            ("team",): set(),
            ("eng",): set(),
            ("engineering",): {"g-long"},
            ("eng.x", "team_a"): {"g-long", "g-under"},
        }
        for groups, expected in cases.items():
            flt = dataclasses.replace(only, groups=groups)
            hits = store.search_dense("chunks", np.ones(DIM, dtype=np.float32), limit=10, flt=flt)
            assert {h.item.id for h in hits} == expected, groups
            # Same answer as Milvus's own array predicate on the stored `groups` array.
            names = ", ".join(f'"{g}"' for g in groups)
            rows = raw.query(
                "chunks",
                filter=f'doc_id == "d-gtest" and array_contains_any(groups, [{names}])',
                output_fields=["id"],
            )
            assert {r["id"] for r in rows} == expected, groups
    finally:
        store.delete_document("d-gtest")
