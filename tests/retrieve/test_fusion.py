from __future__ import annotations

import pytest

from vlsearch.retrieve.fusion import FusionConfig, FusionMode, fuse
from vlsearch.retrieve.lexical import analyse
from vlsearch.text.language import Script, script_of
from vlsearch.types import Candidate, Item, Locator, Modality


def _c(key: str, score: float, text: str = "plain english text", doc: str | None = None) -> Candidate:
    item = Item(
        id=key,
        doc_id=doc or key,
        modality=Modality.TEXT,
        text=text,
        locator=Locator(),
        source=key,
        name=key,
        doc_type="text",
        groups=(),
    )
    return Candidate(item=item, score=score)


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("How do I reset my password?", Script.LATIN),
        ("电源模块怎么更换？", Script.CJK),
        ("HP M479打印机没墨了", Script.CJK),
        ("4471-220", Script.OTHER),
    ],
)
def test_script_of(text: str, script: Script) -> None:
    assert script_of(text) is script


def test_query_analysis_finds_codes_part_numbers_and_model_names() -> None:
    assert analyse("What does fault E-17 mean on the XR-200?").identifiers == ("E-17", "XR-200")
    assert analyse("order PN-4471-B").lexical_strength >= 0.6
    assert analyse("How long does a building permit take?").lexical_strength == 0.0
    assert analyse('manual section "torque limits"').lexical_strength == 1.0
    # a shouted sentence is not a list of acronyms
    assert analyse("WHY IS THE PRINTER NOT WORKING").identifiers == ()


def test_bm25_weight_rises_with_lexical_evidence() -> None:
    cfg = FusionConfig(bm25_weight_plain=0.1, bm25_weight_lexical=0.6)
    plain = cfg.bm25_weight(analyse("how long does a permit take"))
    code = cfg.bm25_weight(analyse("XR-200 shows E-17"))
    assert plain == pytest.approx(0.1)
    assert 0.4 < code <= 0.6


# dense confuses the two fault entries (cosine 0.90 vs 0.89); BM25 sees the exact code in b
DENSE = [_c("a", 0.90), _c("b", 0.89), _c("c", 0.70)]
BM25 = [_c("b", 12.0), _c("a", 4.0)]


def test_code_query_lets_bm25_decide() -> None:
    fused = fuse("XR-200 fault E-17", [DENSE], [BM25], FusionConfig())
    assert [c.item.id for c in fused][:2] == ["b", "a"]
    top = fused[0]
    assert top.found_by == ("dense", "bm25")
    assert top.dense_score == pytest.approx(0.89)
    assert top.bm25_score == pytest.approx(12.0)


def test_plain_question_leans_on_dense() -> None:
    dense = [_c("a", 0.90), _c("b", 0.80), _c("c", 0.70)]
    fused = fuse("what happens when the pump pressure drops", [dense], [BM25], FusionConfig())
    assert fused[0].item.id == "a"


def test_cross_script_candidates_get_no_bm25_weight() -> None:
    zh = "打印机型号为HP M479，经常缺墨粉"
    dense = [_c("en", 0.90, "The HP M479 printer is on floor 3"), _c("zh", 0.89, zh)]
    bm25 = [_c("zh", 20.0, zh), _c("en", 1.0, "The HP M479 printer is on floor 3")]
    same_script = fuse("HP M479 toner", [dense], [bm25], FusionConfig(cross_script_factor=1.0))
    assert same_script[0].item.id == "zh"
    cut = fuse("HP M479 toner", [dense], [bm25], FusionConfig(cross_script_factor=0.0))
    assert cut[0].item.id == "en"


def test_modes_and_union() -> None:
    only_dense = fuse("x", [DENSE], [BM25], FusionConfig(mode=FusionMode.DENSE))
    assert [c.item.id for c in only_dense] == ["a", "b", "c"]
    assert all(c.found_by == ("dense",) for c in only_dense)
    only_bm25 = fuse("x", [DENSE], [BM25], FusionConfig(mode=FusionMode.BM25))
    assert [c.item.id for c in only_bm25] == ["b", "a"]
    rrf = fuse("x", [DENSE], [BM25], FusionConfig(mode=FusionMode.RRF, rrf_k=60))
    assert rrf[0].item.id in ("a", "b")
    assert rrf[0].score == pytest.approx(1 / 61 + 1 / 62)
    # two collections: the union keeps each id once, with its best evidence
    other = [_c("img", 0.95)]
    fused = fuse("plain words", [DENSE, other], [BM25], FusionConfig())
    assert [c.item.id for c in fused].count("a") == 1
    assert fused[0].item.id == "img"
    assert fuse("x", [], [], FusionConfig()) == []


def test_english_detection_separates_english_from_other_latin_text() -> None:
    from vlsearch.text.language import is_english

    assert is_english("How many vacation days can I move to next year?")
    assert is_english("What does fault E-17 mean on the XR-200?")
    assert not is_english("Hur lång tid tar det att få bygglov?")
    assert not is_english("没休完的年假能留到明年吗？")
    assert not is_english("XR-200 E-17")
    # Swedish questions that share one English function word
    assert not is_english("Vad är A-skatt vs F-skatt?")
    assert not is_english("Kan F-skatt dras in?")
    assert not is_english("Ger IT-tjänster i hemmet RUT-avdrag?")
    assert is_english("reset the pump")
