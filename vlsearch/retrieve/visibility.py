"""Which retrieved rows a search may show: only those of documents the catalog says are settled."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from vlsearch.types import Candidate

if TYPE_CHECKING:
    from vlsearch.catalog import Catalog


def settled(catalog: Catalog, candidates: Sequence[Candidate]) -> list[Candidate]:
    """Drop candidates of documents a search must not show: only READY documents are shown.

    The pipeline upserts a document's rows while its catalog record says INDEXING, in batches and
    per collection, so a search can land in between and would show a document half-indexed (or,
    for a re-index, a mix of two versions). Hidden therefore: no record (deleted, or not yet
    recorded), PENDING, INDEXING and FAILED. A re-indexed document disappears for the moment of
    its write. Applied before reranking and the top-k cut, so hidden rows never cost a result slot.
    """
    from vlsearch.catalog import DocStatus

    states = catalog.statuses(c.item.doc_id for c in candidates)
    return [c for c in candidates if states.get(c.item.doc_id) == DocStatus.READY]
