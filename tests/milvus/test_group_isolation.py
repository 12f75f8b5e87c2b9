"""BM25 statistics never count rows the caller cannot see (issue 15, item 2).

Group B's results for a query, ranking and every score, must not move when group A uploads or
deletes a document full of the query's words. Run on the in-process index, on Lite's own engine
and on a `milvus-lite server` (per-group BM25 collections)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from vlsearch.milvus import Store
from vlsearch.types import Candidate, Item, Locator, Modality, SearchFilter

DIM = 16
QUERY = "power supply module fault"


def _item(k: int, text: str, groups: tuple[str, ...], modality: Modality = Modality.TEXT) -> Item:
    return Item(
        id=f"i{k}",
        doc_id=f"d{k}",
        modality=modality,
        text=text,
        locator=Locator(index=k),
        source=f"/docs/{k}",
        name=f"{k}.md",
        doc_type="markdown",
        groups=groups,
    )


VISIBLE = [
    _item(1, "Replace the power supply module when the fault light is amber.", ("beta",)),
    _item(2, "The power cord plugs into the rear panel.", ("beta",)),
    _item(3, "Module fault codes are listed in the appendix; supply chain contacts too.", ("beta", "alpha")),
    _item(4, "Cafeteria hours and the supply of coffee.", ("beta",)),
    _item(5, "Fault tree analysis of the module.", ("gamma",)),
    _item(6, "warehouse photo: pallets of power supply units", ("beta",), Modality.IMAGE),
]
HIDDEN = [
    _item(90, "power supply " * 40 + "module fault " * 10, ("alpha",)),
    _item(91, "power supply photo: the secret prototype power supply", ("alpha",), Modality.IMAGE),
]
CALLERS = (SearchFilter(groups=("beta",)), SearchFilter(groups=("beta", "gamma")))


def _vectors(n: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.fixture(params=["index", "lite-engine", pytest.param("server", marks=pytest.mark.server)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "server":
        prefix = f"iso{random.Random().randrange(10**9)}_"
        s = Store(
            uri=request.getfixturevalue("server_uri"), dim=DIM, embedder_id="t", collection_prefix=prefix
        )
    else:
        s = Store(uri=str(tmp_path / "m.db"), dim=DIM, embedder_id="t", memory_index=request.param == "index")
    s.connect()
    s.upsert(VISIBLE, _vectors(len(VISIBLE), 1))
    yield s
    if request.param == "server":
        s.drop_collections()
    s.close()


def _seen(store: Store, flt: SearchFilter) -> list[list[tuple[str, float]]]:
    out = []
    for coll in ("chunks", "images"):
        hits: list[Candidate] = store.search_bm25(coll, QUERY, limit=10, flt=flt)
        out.append([(c.item.id, c.score) for c in hits])
    return out


def test_hidden_uploads_and_deletes_move_no_score_of_another_group(store: Store) -> None:
    before = {flt: _seen(store, flt) for flt in CALLERS}
    everyone_before = _seen(store, SearchFilter())
    assert all(ids for ids in before[CALLERS[0]])  # beta finds rows in both collections

    store.upsert(HIDDEN, _vectors(len(HIDDEN), 2))
    for flt in CALLERS:
        assert _seen(store, flt) == before[flt], f"{flt.groups} saw the hidden upload"
    # the hidden rows do change what a caller who sees everything gets: the comparison is sensitive
    everyone = _seen(store, SearchFilter())
    assert everyone != everyone_before
    assert {"i90", "i91"} <= {i for lst in everyone for i, _ in lst}

    for doc in ("d90", "d91"):
        store.delete_document(doc)
    for flt in CALLERS:
        assert _seen(store, flt) == before[flt], f"{flt.groups} saw the hidden delete"


def test_a_row_in_two_of_the_callers_groups_keeps_its_best_score(store: Store) -> None:
    both = _seen(store, SearchFilter(groups=("beta", "alpha")))
    beta = dict(_seen(store, SearchFilter(groups=("beta",)))[0])
    alpha = dict(_seen(store, SearchFilter(groups=("alpha",)))[0])
    assert set(alpha) == {"i3"}
    assert dict(both[0])["i3"] == pytest.approx(max(beta["i3"], alpha["i3"]), rel=1e-6)


def test_a_row_moved_to_another_group_leaves_the_old_groups_statistics(store: Store) -> None:
    moved = _item(1, VISIBLE[0].text, ("gamma",))
    store.upsert([moved], _vectors(1, 3))
    beta = {i for i, _ in _seen(store, SearchFilter(groups=("beta",)))[0]}
    gamma = {i for i, _ in _seen(store, SearchFilter(groups=("gamma",)))[0]}
    assert "i1" not in beta and "i1" in gamma
