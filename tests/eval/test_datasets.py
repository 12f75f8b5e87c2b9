from __future__ import annotations

from vlsearch.eval.beir import load_dir
from vlsearch.eval.datasets import SETS, lexical_set, write_eval_set


def test_every_set_is_consistent_and_round_trips(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for name, build in SETS.items():
        s = build()
        doc_ids = {d.id for d in s.corpus}
        assert len(doc_ids) == len(s.corpus), name
        assert {q.id for q in s.queries} == set(s.qrels), name
        assert all(did in doc_ids for rel in s.qrels.values() for did in rel), name
    back = load_dir(write_eval_set("zh", tmp_path / "zh"))
    assert len(back.corpus) == len(SETS["zh"]().corpus)


def test_faq_set_has_503_real_pairs() -> None:
    s = SETS["faq"]()
    assert len(s.corpus) == len(s.queries) == 503


def test_lexical_set_is_reproducible_and_confusable() -> None:
    a, b = lexical_set(), lexical_set()
    assert a == b
    assert len(a.corpus) == 300
    # entries share their symptom text: what sets them apart is the code, model and part number
    bodies = {d.text.split(":", 1)[1].split(".")[0] for d in a.corpus}
    assert len(bodies) <= 10
