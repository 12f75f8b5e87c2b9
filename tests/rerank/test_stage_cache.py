"""RerankStage ordering and inputs per modality; the score cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from vlsearch.models.base import RerankInput
from vlsearch.models.qwen3vl.inputs import parse_side
from vlsearch.rerank import Qwen3VLReranker, RerankStage, ScoreCache
from vlsearch.types import Candidate, Item, Locator, Modality, Query


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, media: dict[str, Path]) -> Path:
    root = tmp_path_factory.mktemp("data")
    (root / "media" / "doc-img").mkdir(parents=True)
    (root / "media" / "doc-vid").mkdir(parents=True)
    shutil.copy(media["img_a"], root / "media" / "doc-img" / "fig1.png")
    for i in range(4):
        shutil.copy(media[f"frame{i}"], root / "media" / "doc-vid" / f"kf{i}.png")
    return root


def _item(
    i: str, modality: Modality, text: str, *, doc: str = "doc", media: str = "", t: float | None = None
):
    return Item(
        id=i,
        doc_id=doc,
        modality=modality,
        text=text,
        locator=Locator(t_start=t),
        source=f"/src/{doc}",
        name=doc,
        doc_type="video" if modality is Modality.FRAME else "pdf",
        groups=(),
        media=media,
    )


def _candidates() -> list[Candidate]:
    items = [
        _item("t1", Modality.TEXT, "The power supply module is replaced from the rear."),
        _item("i1", Modality.IMAGE, "figure: server rack", doc="doc-img", media="media/doc-img/fig1.png"),
        _item("f1", Modality.FRAME, "frame one", doc="doc-vid", media="media/doc-vid/kf1.png", t=2.0),
        _item("t2", Modality.TEXT, "Unrelated cafeteria menu for Tuesday."),
        _item("f0", Modality.FRAME, "frame zero", doc="doc-vid", media="media/doc-vid/kf0.png", t=0.0),
        _item("f2", Modality.FRAME, "frame two", doc="doc-vid", media="media/doc-vid/kf2.png", t=4.0),
        _item("t3", Modality.TEXT, "tail text"),
    ]
    return [
        Candidate(item=it, score=1.0 - k * 0.1, dense_score=0.9 - k * 0.1, found_by=("dense",))
        for k, it in enumerate(items)
    ]


def test_document_inputs_per_modality(reranker: Qwen3VLReranker, data_dir: Path) -> None:
    stage = RerankStage(reranker=reranker, media_root=data_dir, top_n=5)
    cands = _candidates()
    text_in = stage.document_input(cands[0], cands)
    assert text_in == RerankInput(text=cands[0].item.text)
    image_in = stage.document_input(cands[1], cands)
    assert image_in.image == str((data_dir / "media/doc-img/fig1.png").resolve())
    assert image_in.text == "figure: server rack"
    frame_in = stage.document_input(cands[2], cands)  # f1 sits between f0 and f2
    assert frame_in.video == [str((data_dir / f"media/doc-vid/kf{i}.png").resolve()) for i in (0, 1, 2)]
    alone = stage.document_input(cands[2], [cands[2]])
    assert alone.image == str((data_dir / "media/doc-vid/kf1.png").resolve()) and alone.video is None
    escaped = Candidate(item=_item("x", Modality.IMAGE, "x", media="../../etc/passwd"), score=0.0)
    assert stage.document_input(escaped).image is None


def test_stage_orders_top_n_by_rerank_score_then_rest(reranker: Qwen3VLReranker, data_dir: Path) -> None:
    stage = RerankStage(reranker=reranker, media_root=data_dir, top_n=5)
    cands = _candidates()
    query = Query(text="how to replace the power supply")
    hits = stage.apply(query, cands, top_k=None)
    docs = [stage.document_input(c, cands) for c in cands[:5]]
    expected = reranker.score(stage.query_input(query), docs, instruction=stage.instruction)
    head = hits[:5]
    assert [h.rerank_score for h in head] == pytest.approx(sorted(expected, reverse=True), abs=1e-6)
    assert {h.item.id for h in head} == {c.item.id for c in cands[:5]}
    assert [h.item.id for h in hits[5:]] == ["f2", "t3"] and all(h.rerank_score is None for h in hits[5:])
    assert [h.rank for h in hits] == list(range(1, 8))
    by_id = {c.item.id: c for c in cands}
    for h in hits:  # retrieval evidence travels unchanged
        assert h.candidate is by_id[h.item.id]
    assert len(stage.apply(query, cands, top_k=3)) == 3


def test_stage_without_query_content_keeps_retrieval_order(reranker: Qwen3VLReranker, data_dir: Path) -> None:
    stage = RerankStage(reranker=reranker, media_root=data_dir, top_n=5)
    calls = reranker.forward_calls
    hits = stage.apply(Query(text=""), _candidates(), top_k=10)
    assert [h.item.id for h in hits] == [c.item.id for c in _candidates()]
    assert reranker.forward_calls == calls
    assert stage.apply(Query(text="x"), [], top_k=5) == []


def test_cache_hit_avoids_forward_pass(reranker: Qwen3VLReranker, data_dir: Path) -> None:
    cache = ScoreCache(max_entries=100)
    stage = RerankStage(reranker=reranker, media_root=data_dir, top_n=5, cache=cache)
    query = Query(text="rack figure", image_paths=(str(data_dir / "media/doc-img/fig1.png"),))
    first = stage.apply(query, _candidates(), top_k=None)
    calls = reranker.forward_calls
    second = stage.apply(query, _candidates(), top_k=None)
    assert reranker.forward_calls == calls and cache.hits >= 5
    assert [(h.item.id, h.rerank_score) for h in first] == [(h.item.id, h.rerank_score) for h in second]
    other = stage.apply(Query(text="rack figure", instruction="Another task."), _candidates(), top_k=None)
    assert reranker.forward_calls > calls  # the instruction is part of the key
    assert len(other) == 7


def test_cache_keys_follow_content_and_lru_bound(tmp_path: Path, media: dict[str, Path]) -> None:
    cache = ScoreCache(max_entries=2)
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    shutil.copy(media["img_a"], a)
    shutil.copy(media["img_a"], b)
    ha = cache.content_hash(parse_side({"image": str(a), "text": "t"}))
    assert ha == cache.content_hash(parse_side({"image": str(b), "text": "t"}))  # same bytes, other path
    assert ha != cache.content_hash(parse_side({"image": str(a), "text": "u"}))
    shutil.copy(media["img_b"], a)
    assert ha != cache.content_hash(parse_side({"image": str(a), "text": "t"}))  # file changed in place
    v = {"video": str(media["video"])}
    assert cache.content_hash(parse_side(v), fps=1.0) != cache.content_hash(parse_side(v), fps=2.0)
    k1, k2, k3 = (cache.key("m", "i", "q", d) for d in "123")
    cache.put(k1, 0.1)
    cache.put(k2, 0.2)
    assert cache.get(k1) == 0.1  # k1 becomes most recent
    cache.put(k3, 0.3)
    assert len(cache) == 2 and cache.get(k2) is None and cache.get(k1) == 0.1 and cache.get(k3) == 0.3
