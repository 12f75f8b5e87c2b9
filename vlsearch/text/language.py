"""Which language and writing system a text is in, from its characters and function words.

Used where a model or a fusion weight depends on the language: the ensemble embedder sends English
to the English-only lane, query analysis weighs lexical evidence by script.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache


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
    """Latin script with English function words: what an English-only model (MiniLM) can judge.

    Swedish, German or Spanish text is Latin script too but shares almost none of these words;
    the few it does share ("in", "a" of "A-skatt") make one hit, so a lone hit counts only when it
    is not such a word and no letter of another Latin alphabet appears (faq-sv-en: 5 of 503
    Swedish questions passed as English before).
    """
    if script_of(text) is not Script.LATIN:
        return False
    head = text[:2000]
    words = [w.lower() for w in re.findall(r"[A-Za-z']+", head)]
    if not words:
        return False
    hits = [w for w in words if w in _ENGLISH_FUNCTION_WORDS]
    if len(hits) / len(words) < 0.08:
        return False
    if len(hits) >= 2:
        return True
    return bool(hits) and hits[0] not in _SHARED_WORDS and _NON_ENGLISH_LETTER.search(head) is None


# English function words that other Latin-script languages use too (sv "i", "in"; de "in", "an",
# "am", "so", "was"; "a" and "it" also start codes such as A-skatt or IT-tjänster).
_SHARED_WORDS = frozenset({"a", "i", "in", "it", "per", "an", "am", "so", "was", "on", "of", "to", "man"})
# Latin letters with diacritics, common in other Latin-script languages, rare in English text.
_NON_ENGLISH_LETTER = re.compile(r"[À-ÖØ-öø-ÿĀ-ſ]")
