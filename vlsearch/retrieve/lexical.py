"""Query analysis for fusion: how much lexical evidence a query carries and which script it is in."""

from __future__ import annotations

import re
from dataclasses import dataclass

from vlsearch.text.language import CJK_CHAR, Script, script_of

_WORD = re.compile(r"[A-Za-z0-9\u00c0-\u024f]+(?:[-_./:#][A-Za-z0-9\u00c0-\u024f]+)*")
_QUOTED = re.compile(r"\"[^\"]{2,}\"|“[^”]{2,}”|「[^」]{2,}」")


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
    cjk_chars = len(CJK_CHAR.findall(text))
    return QueryProfile(
        script=script_of(text),
        words=len(tokens) + (cjk_chars + 1) // 2,
        codes=tuple(t for t in tokens if is_code(t)),
        acronyms=() if shouting else tuple(t for t in tokens if is_acronym(t)),
        quoted=bool(_QUOTED.search(text)),
    )
