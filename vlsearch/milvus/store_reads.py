"""The Store's reads: counts, items by id or document, whole collections (doctor, export), and
dense, BM25 and hybrid searches answered by the backend store_index picks."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
from pymilvus import MilvusException

from vlsearch.milvus import schema
from vlsearch.milvus.filters import MATCH_NOTHING, build_filter, doc_filter, ids_filter
from vlsearch.milvus.rows import row_item, truncate_utf8
from vlsearch.milvus.rrf import FOUND_BM25, FOUND_DENSE, rrf_fuse
from vlsearch.milvus.store_base import GET_BATCH, check_collection, check_limit, count_rows
from vlsearch.milvus.store_setup import StoreSetup
from vlsearch.types import COLLECTIONS, Candidate, Item, SearchFilter


class StoreReads(StoreSetup):
    """Reads rows and searches them."""

    def count(self, collection: str | None = None, *, doc_id: str | None = None) -> int:
        names = COLLECTIONS if collection is None else (check_collection(collection),)
        expr = "" if doc_id is None else doc_filter(doc_id)
        client = self._require()
        memory = self._memory
        if memory is not None and memory.built:
            counts = [memory.count(name, doc_id) for name in names]
            if all(c is not None for c in counts):
                return sum(c for c in counts if c is not None)
        try:
            return sum(count_rows(client, self.physical(name), expr) for name in names)
        except MilvusException as exc:
            raise self._translate(exc) from exc

    def get(self, ids: Sequence[str]) -> list[Item]:
        """Items for `ids` in the order asked; unknown ids are skipped."""
        if not ids:
            return []
        wanted = list(dict.fromkeys(ids))
        client = self._require()
        found: dict[str, Item] = {}
        try:
            # Bounded batches: a query returns at most 16384 rows and long expressions parse slowly.
            for start in range(0, len(wanted), GET_BATCH):
                expr = ids_filter(wanted[start : start + GET_BATCH])
                for name in COLLECTIONS:
                    rows = client.query(
                        self.physical(name), filter=expr, output_fields=list(schema.OUTPUT_FIELDS)
                    )
                    for row in rows:
                        found[row["id"]] = row_item(row)
        except MilvusException as exc:
            raise self._translate(exc) from exc
        return [found[i] for i in wanted if i in found]

    def item_ids(self, doc_id: str) -> list[str]:
        expr = doc_filter(doc_id)
        client = self._require()
        out: list[str] = []
        try:
            for name in COLLECTIONS:
                it = client.query_iterator(
                    self.physical(name), batch_size=1000, filter=expr, output_fields=["id"]
                )
                try:
                    while batch := it.next():
                        out.extend(row["id"] for row in batch)
                finally:
                    it.close()
        except MilvusException as exc:
            raise self._translate(exc) from exc
        return sorted(out)

    # -- maintenance (vlsearch doctor, export / import) --------------------------------------

    def iter_items(
        self, collection: str, *, with_vectors: bool = False, batch_size: int = 1000
    ) -> Iterator[tuple[list[Item], np.ndarray | None]]:
        """Every row of one collection, in batches, as Items with their dense vectors when asked
        (float32, shape (len(batch), dim)). Rows written meanwhile may or may not appear."""
        check_collection(collection)
        fields = [*schema.OUTPUT_FIELDS, "dense"] if with_vectors else list(schema.OUTPUT_FIELDS)
        client = self._require()
        try:
            it = client.query_iterator(
                self.physical(collection), batch_size=batch_size, filter="", output_fields=fields
            )
            try:
                while batch := it.next():
                    items = [row_item(row) for row in batch]
                    vectors = (
                        np.asarray([row["dense"] for row in batch], dtype=np.float32).reshape(
                            len(batch), self._dim
                        )
                        if with_vectors
                        else None
                    )
                    yield items, vectors
            finally:
                it.close()
        except MilvusException as exc:
            raise self._translate(exc) from exc

    def search_dense(
        self, collection: str, vector: np.ndarray, *, limit: int, flt: SearchFilter
    ) -> list[Candidate]:
        """Nearest rows by cosine similarity (Candidate.score = similarity, higher is better)."""
        return self.search_dense_many(collection, np.asarray(vector).reshape(1, -1), limit=limit, flt=flt)[0]

    def search_dense_many(
        self, collection: str, vectors: np.ndarray, *, limit: int, flt: SearchFilter
    ) -> list[list[Candidate]]:
        """search_dense for each row of `vectors` (k, dim), in one request (one pass in the index)."""
        return [
            [
                Candidate(item=item, score=score, dense_score=score, found_by=FOUND_DENSE)
                for item, score in hits
            ]
            for hits in self._search_dense(collection, vectors, limit, flt)
        ]

    def search_bm25(self, collection: str, text: str, *, limit: int, flt: SearchFilter) -> list[Candidate]:
        """Full-text BM25 rows (Candidate.score = positive BM25 score, higher is better)."""
        return [
            Candidate(item=item, score=score, bm25_score=score, found_by=FOUND_BM25)
            for item, score in self._search_bm25(collection, text, limit, flt)
        ]

    def hybrid_search(
        self,
        collection: str,
        vector: np.ndarray,
        text: str,
        *,
        limit: int,
        flt: SearchFilter,
        rrf_k: int = 60,
    ) -> list[Candidate]:
        """Dense and BM25 lists fused by reciprocal rank (score = sum of 1/(rrf_k + rank)).

        Fused here rather than with Milvus's RRFRanker so each Candidate keeps both raw scores."""
        if rrf_k < 0:
            raise ValueError(f"rrf_k must be >= 0, got {rrf_k}")
        dense = self._search_dense(collection, np.asarray(vector).reshape(1, -1), limit, flt)[0]
        lexical = self._search_bm25(collection, text, limit, flt)
        return rrf_fuse(dense, lexical, rrf_k=rrf_k, limit=limit)

    def _search_dense(
        self, collection: str, vectors: np.ndarray, limit: int, flt: SearchFilter
    ) -> list[list[tuple[Item, float]]]:
        check_collection(collection)
        check_limit(limit)
        queries = np.asarray(vectors, dtype=np.float32)
        if queries.ndim != 2 or queries.shape[1] != self._dim:
            raise ValueError(f"query vectors have shape {queries.shape}: the store expects dim {self._dim}")
        expr = build_filter(flt)  # also validates every value, whichever backend answers
        if expr == MATCH_NOTHING:
            return [[] for _ in range(queries.shape[0])]
        self._require()
        try:
            found = self._backend().dense(collection, queries, limit=limit, flt=flt)
        except MilvusException as exc:
            raise self._translate(exc) from exc
        return [_ordered(hits) for hits in found]

    def _search_bm25(
        self, collection: str, text: str, limit: int, flt: SearchFilter
    ) -> list[tuple[Item, float]]:
        check_collection(collection)
        check_limit(limit)
        expr = build_filter(flt)
        if expr == MATCH_NOTHING or not text.strip():
            return []
        self._require()
        text = truncate_utf8(text, schema.TEXT_MAX)
        try:
            return _ordered(self._backend().bm25(collection, text, limit=limit, flt=flt))
        except MilvusException as exc:
            raise self._translate(exc) from exc


def _ordered(hits: list[tuple[Item, float]]) -> list[tuple[Item, float]]:
    """Best first, equal scores by item id: engines order ties differently, and rank-based fusion
    (RRF) would carry that into the results. Exact equality only: near-duplicate texts differ in
    the sixth decimal of their cosine, and that order is real."""
    return sorted(hits, key=lambda h: (-h[1], h[0].id))
