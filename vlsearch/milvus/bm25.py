"""The one BM25 definition: analyzer, k1 and b as a collection states them, and Milvus's formula.

A collection made by vlsearch states everything its BM25 depends on: the `text` field's analyzer
parameters (schema.analyzer_params) and the sparse index's `bm25_k1` / `bm25_b` (schema.BM25_K1,
schema.BM25_B). `read_definition` reads them back from Milvus's own description of the collection,
so the in-process index ranks with what the collection holds, not with constants of this module.

Text is turned into term counts by Milvus Lite's own analyzer (`milvus_lite.analyzer`, the code
Lite's insert and search paths call for the field), not by a copy of it: `MilvusClient.run_analyzer`
would be the protocol's way, but Milvus Lite 3.2.2 answers it with UNIMPLEMENTED (embedded and
`milvus-lite server` alike; tests/milvus/test_bm25_definition.py checks). `check_terms` compares the
analyzer with the sparse vectors Lite stored for real rows, so a Lite that tokenises differently is
detected when the index is built instead of silently ranking apart.

The formula is Milvus's (and Lite's): idf = ln((N - df + 0.5) / (df + 0.5) + 1), term score
idf · tf·(k1+1) / (tf + k1·(1 - b + b·dl/avgdl)), query terms weighted by their count.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

TermCounts = dict[int, float]  # term id -> count: the layout of Milvus Lite's BM25 sparse vectors

# What a sparse index that names no k1/b ranks with: Lite's defaults (milvus_lite.index.sparse_factory)
# and Milvus's (bm25_k1 1.2, bm25_b 0.75). Only stores made before schema 3 lack them.
LITE_DEFAULT_K1 = 1.5
MILVUS_DEFAULT_K1 = 1.2
DEFAULT_B = 0.75


class AnalyzerDriftError(RuntimeError):
    """The analyzer here and the one that produced a collection's stored sparse vectors disagree."""


@dataclass(frozen=True)
class Bm25Definition:
    """Everything a BM25 score depends on besides the rows: analyzer parameters, k1, b."""

    analyzer: Mapping[str, Any] = field(hash=False)
    k1: float
    b: float

    @property
    def analyzer_json(self) -> str:
        return json.dumps(self.analyzer, sort_keys=True)

    def __hash__(self) -> int:
        return hash((self.analyzer_json, self.k1, self.b))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Bm25Definition):
            return NotImplemented
        return (self.analyzer_json, self.k1, self.b) == (other.analyzer_json, other.k1, other.b)


def read_definition(
    desc: Mapping[str, Any], index: Mapping[str, Any] | None, *, lite: bool, field_name: str = "text"
) -> Bm25Definition:
    """The definition a collection states: `desc` from describe_collection, `index` from
    describe_index of its sparse field (None when it has none). `lite`: the engine is Milvus Lite,
    whose defaults apply where the index names no k1/b."""
    analyzer: Mapping[str, Any] | None = None
    for f in desc.get("fields", ()):
        if f.get("name") == field_name:
            raw = (f.get("params") or {}).get("analyzer_params")
            analyzer = json.loads(raw) if isinstance(raw, str) else raw
    if analyzer is None:
        raise ValueError(
            f"collection {desc.get('collection_name')!r} has no analyzer on field {field_name!r}"
        )
    params = dict(index or {})
    nested = params.get("params")
    if isinstance(nested, str):
        nested = json.loads(nested)
    if isinstance(nested, Mapping):
        params = {**params, **nested}
    k1 = params.get("bm25_k1", LITE_DEFAULT_K1 if lite else MILVUS_DEFAULT_K1)
    b = params.get("bm25_b", DEFAULT_B)
    return Bm25Definition(analyzer=dict(analyzer), k1=float(k1), b=float(b))


def term_counter(analyzer: Mapping[str, Any]) -> Callable[[str], TermCounts]:
    """Text -> term counts exactly as Milvus Lite's BM25 function computes them for `analyzer`."""
    from milvus_lite.analyzer import compute_tf, create_analyzer

    built = create_analyzer(dict(analyzer))

    def terms(text: str) -> TermCounts:
        return compute_tf(built.analyze(text))

    return terms


def check_terms(
    terms: Callable[[str], TermCounts], texts: Sequence[str], stored: Sequence[TermCounts], *, where: str
) -> None:
    """Raise AnalyzerDriftError unless `terms` reproduces the sparse vectors Milvus stored for `texts`."""
    for text, vector in zip(texts, stored, strict=True):
        mine = terms(text)
        if mine != {int(k): float(v) for k, v in vector.items()}:
            raise AnalyzerDriftError(
                f"{where}: the analyzer here gives {len(mine)} terms for {text[:60]!r}, Milvus stored "
                f"{len(vector)}; the installed milvus-lite tokenises differently from the one that wrote "
                "the store: searches go through Milvus until the store is re-ingested"
            )


def idf(docs: float, df: Any) -> Any:
    """Milvus's idf (numpy arrays or floats)."""
    if isinstance(df, (int, float)):
        return math.log((docs - df + 0.5) / (df + 0.5) + 1.0)
    import numpy as np

    return np.log((docs - df + 0.5) / (df + 0.5) + 1.0)


def term_score(tf: Any, dl: Any, *, avgdl: float, k1: float, b: float) -> Any:
    """The saturated, length-normalised term frequency (numpy arrays or floats)."""
    return tf * (k1 + 1.0) / (tf + k1 * (1.0 - b + b * dl / avgdl))
