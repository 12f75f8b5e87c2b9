"""Exact in-memory retrieval for tuning fusion without Milvus: numpy cosine, and BM25 by the
in-process index with the schema's definition (the one Store searches use: analyzer, k1, b).

Used by benchmarks/fusion_eval.py to sweep fusion weights quickly; the reported figures come from
run_eval, which goes through the real Store.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vlsearch.milvus import schema
from vlsearch.milvus.bm25 import Bm25Definition
from vlsearch.milvus.memory_index import CollectionIndex
from vlsearch.types import Candidate, Item, Locator, Modality, SearchFilter


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
        definition = Bm25Definition(schema.analyzer_params("jieba"), schema.BM25_K1, schema.BM25_B)
        self.bm25 = CollectionIndex(dim=1, definition=definition)
        self.bm25.upsert(self.items, np.ones((len(self.items), 1), dtype=np.float32))

    def dense(self, vector: np.ndarray, limit: int) -> list[Candidate]:
        sims = self.vectors @ vector.astype(np.float32)
        top = np.argsort(-sims)[:limit]
        return [Candidate(item=self.items[i], score=float(sims[i])) for i in top]

    def lexical(self, text: str, limit: int) -> list[Candidate]:
        hits = self.bm25.search_bm25(text, limit=limit, flt=SearchFilter())
        return [Candidate(item=h.item, score=h.score) for h in hits]
