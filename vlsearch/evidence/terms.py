"""The query's words as highlighting matches them, tokenised the way the BM25 side tokenises.

`analyzer_tokens` is the one place that says which tokenizer that is; point it elsewhere when
the BM25 analyzer changes, and highlighting follows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_WORDISH = re.compile(r"\w", re.UNICODE)
# Words that carry no evidence of where an answer is: question and function words. Matching them
# would box every line of a page.
_STOP_EN = """a an the and or but of to in on at for from by with about as into onto is are was were be
been being am do does did done have has had can could will would should shall may might must not no
this that these those it its you your he she we they them my our their what which who whom whose when
where why how if then than there here all any each some many much more most other such only own same
so too very just also after before up down out again per i me us please show find tell give get want
need know way ways use using used one s t"""
_STOP_ZH = """的 了 是 在 和 与 及 或 吗 呢 吧 啊 怎么 怎样 如何 什么 哪 哪个 哪些 为什么 请 把 被 对 为 中 上
下 从 到 就 都 也 还 要 会 能 可以 应该 有 没有 这 那 这个 那个 它 我 你 他 她 们 我们 你们 一个 个 么"""
STOPWORDS = frozenset(_STOP_EN.split()) | frozenset(_STOP_ZH.split())
# Latin word endings dropped before matching, so "replaced" finds "replace" and "replacement".
_SUFFIXES = ("ations", "ation", "ings", "ing", "ied", "ies", "ers", "er", "ed", "es", "ly", "s")
_MIN_STEM = 3


def analyzer_tokens(analyzer: str = "jieba") -> Callable[[str], list[str]]:
    """The BM25 field's analyzer as the collections state it (vlsearch.milvus.schema.analyzer_params:
    jieba in search mode, lower case, its stop list), run by Milvus Lite's own analyzer module, the
    code Lite's BM25 function calls; its tokens as text rather than term ids."""
    from milvus_lite.analyzer import create_analyzer

    from vlsearch.milvus.schema import analyzer_params

    built = create_analyzer(analyzer_params(analyzer))
    return built.tokenize  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Term:
    """A query token and how it is found in lower-cased text: `needle` anywhere (CJK), at a word
    start (a Latin word's stem: "replaced" finds "replacement"), or as a whole word (short words,
    numbers and codes: "m6", "17")."""

    text: str
    needle: str
    kind: str  # "sub" | "prefix" | "word"

    def positions(self, low: str) -> list[int]:
        """Where the term starts in `low`. str.find, not a regex: a search scans ten texts for
        every term, and a regex with look-behind costs several times more per character."""
        needle = self.needle
        at = low.find(needle)
        if at < 0:
            return []
        out: list[int] = []
        size = len(needle)
        kind = self.kind
        while at >= 0:
            if kind == "sub" or (
                (at == 0 or not low[at - 1].isalnum())
                and (kind == "prefix" or at + size >= len(low) or not low[at + size].isalnum())
            ):
                out.append(at)
            at = low.find(needle, at + 1)
        return out


@lru_cache(maxsize=4096)
def term_for(token: str) -> Term | None:
    """How one query token is matched, or None when it carries no evidence."""
    if token in STOPWORDS or not _WORDISH.search(token):
        return None
    if _CJK.search(token):
        return Term(token, token, "sub")
    if len(token) <= 2 or any(ch.isdigit() for ch in token):
        return Term(token, token, "word")
    return Term(token, stem_of(token), "prefix")


def stem_of(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM:
            return word[: -len(suffix)]
    return word


def query_terms(text: str, tokens: Callable[[str], list[str]]) -> tuple[Term, ...]:
    """Distinct evidence-bearing terms of the query, in order of appearance."""
    seen: set[str] = set()
    out: list[Term] = []
    for token in tokens(text):
        token = token.strip().lower()
        if not token or token in seen:
            continue
        seen.add(token)
        term = term_for(token)
        if term is not None:
            out.append(term)
    return tuple(out)
