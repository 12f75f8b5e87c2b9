"""Exact in-memory retrieval (numpy cosine + a BM25 of our own) for tuning fusion without Milvus.

Used by benchmarks/fusion_eval.py to sweep fusion weights quickly; the reported figures come from
run_eval, which goes through the real Store.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

from vlsearch.types import Candidate, Item, Locator, Modality

_WORD = re.compile(r"\w+", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens; CJK runs cut by jieba, like Milvus' jieba analyzer."""
    tokens: list[str] = []
    for word in _WORD.findall(text.lower()):
        if _CJK.search(word):
            import jieba

            tokens.extend(t for t in jieba.lcut(word) if t.strip())
        else:
            tokens.append(word)
    return tokens


class BM25:
    def __init__(self, texts: Sequence[str], *, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.docs = [Counter(tokenize(t)) for t in texts]
        self.lengths = np.array([sum(d.values()) for d in self.docs], dtype=np.float64)
        self.avg = float(self.lengths.mean()) if len(self.docs) else 0.0
        df: Counter[str] = Counter()
        for d in self.docs:
            df.update(d.keys())
        n = len(self.docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self.postings: dict[str, list[tuple[int, int]]] = {}
        for i, d in enumerate(self.docs):
            for t, tf in d.items():
                self.postings.setdefault(t, []).append((i, tf))

    def scores(self, query: str) -> np.ndarray:
        out = np.zeros(len(self.docs), dtype=np.float64)
        for t in set(tokenize(query)):
            idf = self.idf.get(t)
            if idf is None:
                continue
            for i, tf in self.postings[t]:
                norm = self.k1 * (1 - self.b + self.b * self.lengths[i] / self.avg)
                out[i] += idf * tf * (self.k1 + 1) / (tf + norm)
        return out


class ExactIndex:
    """One text collection held in memory: ids, texts, unit vectors."""

    def __init__(self, ids: Sequence[str], texts: Sequence[str], vectors: np.ndarray) -> None:
        self.ids = list(ids)
        self.items = [
            Item(
                id=i,
                doc_id=i,
                modality=Modality.TEXT,
                text=t,
                locator=Locator(),
                source=i,
                name=i,
                doc_type="text",
                groups=(),
            )
            for i, t in zip(ids, texts, strict=True)
        ]
        self.vectors = vectors.astype(np.float32)
        self.bm25 = BM25(texts)

    def dense(self, vector: np.ndarray, limit: int) -> list[Candidate]:
        sims = self.vectors @ vector.astype(np.float32)
        top = np.argsort(-sims)[:limit]
        return [Candidate(item=self.items[i], score=float(sims[i])) for i in top]

    def lexical(self, text: str, limit: int) -> list[Candidate]:
        s = self.bm25.scores(text)
        top = [i for i in np.argsort(-s)[:limit] if s[i] > 0]
        return [Candidate(item=self.items[i], score=float(s[i])) for i in top]
