"""is_english: what the English-only lane (MiniLM) may read, judged on real text."""

from __future__ import annotations

import pytest

from vlsearch.eval.datasets import faq_set, faq_sv_en_set
from vlsearch.text.language import is_english

TERSE_ENGLISH = (
    "Rendered facade 600-1,200 SEK/m2, wooden panel 500-1,100 SEK/m2, brick 1,200-2,200 SEK/m2 (2026).",
    "Combi boiler: heating + hot water in one unit, compact, cheaper.",
    "Unbox Rails Mount Cable",  # the labels OCR reads off a racking workflow figure
    "Install rails, mount server, connect cables, power on",
)


@pytest.mark.parametrize("text", TERSE_ENGLISH)
def test_terse_english_without_function_words_is_english(text: str) -> None:
    assert is_english(text)


@pytest.mark.parametrize(
    "text",
    (
        "Fehlercode E42 Pumpe Druck zu niedrig",
        "Combien coûte une façade enduite?",
        "Ger ventilationsinstallation ROT?",  # CLD2 says English: too few words for it to judge
        "机架安装 四步骤 拆箱 导轨",
        "XR-200 E-17",
    ),
)
def test_other_languages_and_codes_are_not_english(text: str) -> None:
    assert not is_english(text)


def test_every_faq_text_is_english_and_every_swedish_question_is_not() -> None:
    faq = faq_set()
    assert [d.id for d in faq.corpus if not is_english(d.text)] == []
    assert [q.id for q in faq.queries if not is_english(q.text)] == []
    swedish = faq_sv_en_set()
    assert [q.text for q in swedish.queries if is_english(q.text)] == []


def test_control_characters_in_extracted_text_do_not_stop_the_judgement() -> None:
    # pdfium text carries form feeds; CLD2 rejects them as invalid UTF-8
    text = "Rendered facade\x0c 600-1,200 SEK/m2,\x00 wooden panel 500-1,100 SEK/m2\x7f, brick"
    assert is_english(text)
    assert not is_english("Fehlercode\x0c E42 Pumpe\x00 Druck zu niedrig")
