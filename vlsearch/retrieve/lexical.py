"""Query analysis for fusion: how much lexical evidence a query carries and which script it is in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Script(StrEnum):
    LATIN = "latin"
    CJK = "cjk"
    OTHER = "other"  # digits/punctuation only, or nothing


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_WORD = re.compile(r"[A-Za-z0-9\u00c0-\u024f]+(?:[-_./:#][A-Za-z0-9\u00c0-\u024f]+)*")
_QUOTED = re.compile(r"\"[^\"]{2,}\"|“[^”]{2,}”|「[^」]{2,}」")


def script_of(text: str) -> Script:
    """Dominant writing system: CJK characters count double since one carries a word's worth of meaning."""
    cjk = len(_CJK.findall(text))
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


def is_code(token: str) -> bool:
    """Codes, part numbers, versions: E-17, PN-4471-B, XR200, v2.3.1, 4471-220, ISO9001."""
    has_digit = any(c.isdigit() for c in token)
    if not has_digit:
        return False
    if any(c.isalpha() for c in token):
        return True
    if any(c in "-_./:#" for c in token) and len(token) >= 3:
        return True  # 4471-220, 10.2.3
    return len(token) >= 5  # bare numbers long enough to be part numbers (not years or counts)


def is_acronym(token: str) -> bool:
    """ALL-CAPS names such as BBR or PBL: often domain vocabulary shared by many documents."""
    return token.isalpha() and token.isupper() and len(token) >= 2


@dataclass(frozen=True)
class QueryProfile:
    script: Script
    words: int  # word count (CJK characters count as half a word each)
    codes: tuple[str, ...]  # codes, part numbers, versions
    acronyms: tuple[str, ...]  # ALL-CAPS names
    quoted: bool

    @property
    def identifiers(self) -> tuple[str, ...]:
        return self.codes + self.acronyms

    @property
    def lexical_strength(self) -> float:
        """0 for a plain natural-language question, towards 1 as exact tokens dominate the query.

        A code names one thing exactly, so even one in a long question is full evidence; an
        acronym is weaker (on the FAQ set "ROT", "BBR" recur in dozens of answers).
        """
        if self.quoted:
            return 1.0
        if self.codes:
            return 1.0
        if self.acronyms:
            return ACRONYM_STRENGTH
        return 0.0


ACRONYM_STRENGTH = 0.25


def analyse(text: str) -> QueryProfile:
    tokens = _WORD.findall(text)
    upper_words = sum(1 for t in tokens if t.isupper() and len(t) >= 2)
    shouting = len(tokens) >= 4 and upper_words / len(tokens) > 0.6
    cjk_chars = len(_CJK.findall(text))
    return QueryProfile(
        script=script_of(text),
        words=len(tokens) + (cjk_chars + 1) // 2,
        codes=tuple(t for t in tokens if is_code(t)),
        acronyms=() if shouting else tuple(t for t in tokens if is_acronym(t)),
        quoted=bool(_QUOTED.search(text)),
    )
