"""Which language and writing system a text is in, from its characters and function words.

Used where a model or a fusion weight depends on the language: the ensemble embedder sends English
to the English-only lane, query analysis weighs lexical evidence by script.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache

import pycld2


class Script(StrEnum):
    LATIN = "latin"
    CJK = "cjk"
    OTHER = "other"  # digits/punctuation only, or nothing


CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")


def script_of(text: str) -> Script:
    """Dominant writing system: CJK characters count double since one carries a word's worth of meaning."""
    cjk = len(CJK_CHAR.findall(text))
    latin = len(_LATIN.findall(text))
    if cjk == 0 and latin == 0:
        return Script.OTHER
    return Script.CJK if 2 * cjk >= latin else Script.LATIN


_ENGLISH_FUNCTION_WORDS = frozenset(
    (
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "from",
        "by",
        "with",
        "about",
        "as",
        "into",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "can",
        "could",
        "will",
        "would",
        "should",
        "shall",
        "may",
        "might",
        "must",
        "not",
        "no",
        "this",
        "that",
        "these",
        "those",
        "it",
        "its",
        "you",
        "he",
        "she",
        "we",
        "they",
        "my",
        "your",
        "our",
        "their",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "if",
        "then",
        "than",
        "there",
        "here",
        "all",
        "any",
        "each",
        "some",
        "many",
        "much",
        "more",
        "most",
        "other",
        "such",
        "only",
        "own",
        "same",
        "so",
        "too",
        "very",
        "just",
        "also",
        "after",
        "before",
        "up",
        "down",
        "out",
        "again",
        "per",
    )
)


# Search asks this of every candidate of every query (the language lane, fusion) and the same rows
# come back query after query: 3.6 -> ~1 ms of a FAQ search's retrieval was these regexes. Keyed by
# the text itself, so a changed row can never read a stale answer; 2048 chunk-sized texts are a few MB.
@lru_cache(maxsize=2048)
def is_english(text: str) -> bool:
    """Latin script that is English: what an English-only model (MiniLM) can read.

    Two judges, either suffices. English function words decide prose and questions, and keep other
    Latin-script languages out (Swedish, German or Spanish share almost none of them; a lone hit
    counts only when it is not such a shared word and no letter of another Latin alphabet appears).
    Terse English carries few function words (price lists, spec sheets, OCR'd labels: 5 of the 503
    FAQ answers fell below the ratio), so Chromium's language detector CLD2 (pycld2) judges what the
    words leave undecided, once there are enough words for it to judge.
    """
    if script_of(text) is not Script.LATIN:
        return False
    head = text[:2000]
    words = [w.lower() for w in re.findall(r"[A-Za-z']+", head)]
    if not words:
        return False
    if _function_words_say_english(words, head):
        return True
    return len(words) >= CLD2_MIN_WORDS and _cld2_says_english(head)


# Below this many words CLD2 guesses: it reads the Swedish question "Ger ventilationsinstallation
# ROT?" as English, "reliably". Short English questions carry function words anyway.
CLD2_MIN_WORDS = 4


def _function_words_say_english(words: list[str], head: str) -> bool:
    hits = [w for w in words if w in _ENGLISH_FUNCTION_WORDS]
    if len(hits) / len(words) < 0.08:
        return False
    if len(hits) >= 2:
        return True
    return hits[0] not in _SHARED_WORDS and _NON_ENGLISH_LETTER.search(head) is None


def _cld2_says_english(text: str) -> bool:
    # CLD2 refuses control characters and noncharacters as invalid UTF-8 (extracted PDF text has form
    # feeds); they carry no language, so they become spaces
    clean = _CLD2_REFUSES.sub(" ", text).encode("utf-8", "replace")
    try:
        reliable, _, details = pycld2.detect(clean)
    except pycld2.error:
        # what the substitution misses (noncharacters beyond the first plane): no judgement, so the
        # function words' "no" stands
        return False
    return bool(reliable) and details[0][1] == "en"


_CLD2_REFUSES = re.compile(r"[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff]")


# English function words that other Latin-script languages use too (sv "i", "in"; de "in", "an",
# "am", "so", "was"; "a" and "it" also start codes such as A-skatt or IT-tjänster).
_SHARED_WORDS = frozenset({"a", "i", "in", "it", "per", "an", "am", "so", "was", "on", "of", "to", "man"})
# Latin letters with diacritics, common in other Latin-script languages, rare in English text.
_NON_ENGLISH_LETTER = re.compile(r"[À-ÖØ-öø-ÿĀ-ſ]")
