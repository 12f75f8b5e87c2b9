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


def is_identifier(token: str) -> bool:
    """Codes, part numbers, model names: E-17, PN-4471-B, XR200, v2.3.1, ISO9001, CAN-bus IDs like 0x1F."""
    has_digit = any(c.isdigit() for c in token)
    has_alpha = any(c.isalpha() for c in token)
    if has_digit and has_alpha:
        return True
    if has_digit and any(c in "-_./:#" for c in token) and len(token) >= 3:
        return True  # 4471-220, 10.2.3
    if has_digit and len(token) >= 4:
        return True  # bare numbers long enough to be part numbers
    # ALL-CAPS acronyms/model names of 2+ letters (not a shouted sentence: checked by the caller's ratio)
    return token.isupper() and len(token) >= 2 and has_alpha


@dataclass(frozen=True)
class QueryProfile:
    script: Script
    words: int  # word count (CJK characters count as half a word each)
    identifiers: tuple[str, ...]  # lexical anchors found in the query
    quoted: bool

    @property
    def lexical_strength(self) -> float:
        """0 for a plain natural-language question, towards 1 as exact tokens dominate the query."""
        if self.quoted:
            return 1.0
        if not self.identifiers:
            return 0.0
        share = len(self.identifiers) / max(self.words, 1)
        # one identifier in a long question is still strong evidence: a code names one thing exactly
        return min(1.0, 0.6 + share)


def analyse(text: str) -> QueryProfile:
    tokens = _WORD.findall(text)
    upper_words = sum(1 for t in tokens if t.isupper() and len(t) >= 2)
    shouting = len(tokens) >= 4 and upper_words / len(tokens) > 0.6
    identifiers = tuple(t for t in tokens if is_identifier(t) and not (shouting and t.isalpha()))
    cjk_chars = len(_CJK.findall(text))
    words = len(tokens) + (cjk_chars + 1) // 2
    return QueryProfile(
        script=script_of(text),
        words=words,
        identifiers=identifiers,
        quoted=bool(_QUOTED.search(text)),
    )
