"""Collection layout shared by `chunks`, `images` and `frames`, and the properties that tag it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymilvus import CollectionSchema, DataType, Function, FunctionType, MilvusClient
from pymilvus.milvus_client.index import IndexParams

# VARCHAR limits. Milvus Lite counts characters, a Milvus server counts UTF-8 bytes: rows are
# truncated to this many *bytes*, which satisfies both (bytes >= characters).
ID_MAX = 128
MODALITY_MAX = 16
DOC_TYPE_MAX = 32
NAME_MAX = 1024
SOURCE_MAX = 4096
MEDIA_MAX = 1024
TEXT_MAX = 65535  # the largest VARCHAR Milvus accepts
GROUPS_MAX = 64
GROUP_MAX = 128
# "|hex(g1)|hex(g2)|": see filters.groups_key.
GROUPS_KEY_MAX = GROUPS_MAX * (2 * GROUP_MAX + 1) + 1

# Recorded on each collection so a later run with another embedder is refused instead of
# silently mixing vector spaces.
PROP_EMBEDDER = "vlsearch.embedder_id"
PROP_DIM = "vlsearch.dim"
PROP_ANALYZER = "vlsearch.analyzer"
PROP_SCHEMA = "vlsearch.schema_version"
# On each collection: whether its per-group BM25 collections are kept in step ("maintained") or
# may be stale ("absent": written by an embedded store that searches its in-process index).
PROP_GROUP_BM25 = "vlsearch.group_bm25"
GROUP_BM25_MAINTAINED = "maintained"
GROUP_BM25_ABSENT = "absent"
# 3: the analyzer states its lowercase filter and jieba's mode, the sparse index states bm25_k1 and
#    bm25_b, servers index `groups` (INVERTED). Stores of layout 2 are migrated in place
#    (vlsearch.milvus.migrations).
SCHEMA_VERSION = "3"

# Every scalar field; what searches return so an Item can be rebuilt without a second call.
OUTPUT_FIELDS: tuple[str, ...] = (
    "id",
    "doc_id",
    "modality",
    "doc_type",
    "name",
    "source",
    "text",
    "locator",
    "groups",
    "media",
    "thumbnail",
)

HNSW_M = 16
HNSW_EF_CONSTRUCTION = 200

# BM25 as every vlsearch collection states it (see vlsearch.milvus.bm25). Milvus's own default k1 is
# 1.2 and Lite's 1.5, so a collection that names none ranks differently on the two engines. 1.5:
# BM25 alone scored as well or better with it than with 1.2 on every eval set (README, "Retrieval
# quality"), and it is what embedded stores ranked with before k1 was stated.
BM25_K1 = 1.5
BM25_B = 0.75

# Tokens BM25 ignores, listed in full because Lite reads only an explicit `stop` list (Milvus's
# `removepunct` filter and `_english_` list exist on a server only, and Lite would skip them
# silently). Punctuation: jieba emits each mark as a token ("?" in a question matched the rare
# answers containing one). English function words: in nearly every English row, they only blur
# the scores. Single letters stay (the A of A-17, the E of E-17 are parts of codes). Measured with
# punctuation and these words removed: BM25 MRR@10 FAQ 0.435 -> 0.456, lexical 0.998 -> 1.000.
_PUNCTUATION = (
    *sorted(
        set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
        | set("，。！？、；：“”‘’（）【】《》…—–·「」『』〈〉￥％＃＠＆＊")
    ),
    "...",
    "——",
)
_STOP_WORDS = tuple(
    sorted(
        [
            "about",
            "after",
            "again",
            "all",
            "also",
            "an",
            "and",
            "any",
            "are",
            "as",
            "at",
            "be",
            "been",
            "before",
            "being",
            "but",
            "by",
            "can",
            "could",
            "did",
            "do",
            "does",
            "down",
            "each",
            "for",
            "from",
            "had",
            "has",
            "have",
            "he",
            "her",
            "here",
            "his",
            "how",
            "if",
            "in",
            "into",
            "is",
            "it",
            "its",
            "just",
            "many",
            "may",
            "might",
            "more",
            "most",
            "much",
            "must",
            "my",
            "no",
            "not",
            "of",
            "on",
            "only",
            "or",
            "other",
            "our",
            "out",
            "own",
            "per",
            "same",
            "she",
            "should",
            "so",
            "some",
            "such",
            "than",
            "that",
            "the",
            "their",
            "then",
            "there",
            "these",
            "they",
            "this",
            "those",
            "to",
            "too",
            "up",
            "very",
            "was",
            "we",
            "were",
            "what",
            "when",
            "where",
            "which",
            "who",
            "whom",
            "whose",
            "why",
            "will",
            "with",
            "would",
            "you",
            "your",
        ]
    )
)
STOP_TOKENS: tuple[str, ...] = _PUNCTUATION + _STOP_WORDS


def analyzer_params(analyzer: str) -> dict[str, Any]:
    """Analyzer settings for the BM25 text field: `jieba` (Chinese + English) or `standard`.

    Stated in full so Lite and a Milvus server read the same thing: jieba in search mode with its
    HMM (Milvus's defaults, Lite's only mode), a lowercase filter (Lite lowercases every token
    anyway; a Milvus server's jieba does not unless told) and the STOP_TOKENS stop filter."""
    stop = {"type": "stop", "stop_words": list(STOP_TOKENS)}
    if analyzer == "jieba":
        return {"tokenizer": {"type": "jieba", "mode": "search", "hmm": True}, "filter": ["lowercase", stop]}
    if analyzer == "standard":
        return {"tokenizer": "standard", "filter": ["lowercase", stop]}
    raise ValueError(f"unknown analyzer {analyzer!r}: use 'jieba' (Chinese + English) or 'standard'")


def build_schema(
    dim: int, analyzer: str, *, dense: bool = True, analyzer_config: Mapping[str, Any] | None = None
) -> CollectionSchema:
    """A collection's layout; `dense=False`: the same rows without their vector (the per-group BM25
    collections of milvus.group_bm25). `analyzer_config`: the text field's analyzer parameters
    verbatim (a twin copies its collection's, which may predate analyzer_params)."""
    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=ID_MAX)
    schema.add_field("doc_id", DataType.VARCHAR, max_length=ID_MAX)
    schema.add_field("modality", DataType.VARCHAR, max_length=MODALITY_MAX)
    schema.add_field("doc_type", DataType.VARCHAR, max_length=DOC_TYPE_MAX)
    schema.add_field("name", DataType.VARCHAR, max_length=NAME_MAX)
    schema.add_field("source", DataType.VARCHAR, max_length=SOURCE_MAX)
    schema.add_field(
        "text",
        DataType.VARCHAR,
        max_length=TEXT_MAX,
        enable_analyzer=True,
        analyzer_params=dict(analyzer_config) if analyzer_config is not None else analyzer_params(analyzer),
    )
    schema.add_field("locator", DataType.JSON)
    schema.add_field(
        "groups",
        DataType.ARRAY,
        element_type=DataType.VARCHAR,
        max_capacity=GROUPS_MAX,
        max_length=GROUP_MAX,
    )
    # Filter-only twin of `groups` for Milvus Lite, which evaluates ARRAY predicates row by row in
    # Python and cannot index an ARRAY (measured ~10x the cost of a LIKE on a VARCHAR at 2000 rows;
    # docs/scale.md). A Milvus server filters `groups` itself with array_contains_any on an INVERTED
    # index; the column is written everywhere so a Lite data dir can be served by either.
    schema.add_field("groups_key", DataType.VARCHAR, max_length=GROUPS_KEY_MAX)
    schema.add_field("media", DataType.VARCHAR, max_length=MEDIA_MAX)
    schema.add_field("thumbnail", DataType.VARCHAR, max_length=MEDIA_MAX)
    if dense:
        schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(
        Function(
            name="text_bm25",
            function_type=FunctionType.BM25,
            input_field_names=["text"],
            output_field_names=["sparse"],
        )
    )
    return schema


def sparse_index_params(k1: float | None = None, b: float | None = None) -> dict[str, Any]:
    """bm25_k1/bm25_b twice: as top-level keys, which pymilvus sends one by one and a Milvus server
    reads, and inside `params`, the only key Milvus Lite 3.2.2 reads (it ignores the others and
    would rank with its own k1 of 1.5). A server merges both into one map (same values)."""
    bm25 = {"bm25_k1": BM25_K1 if k1 is None else k1, "bm25_b": BM25_B if b is None else b}
    return {**bm25, "params": dict(bm25)}


def add_sparse_index(params: IndexParams, *, k1: float | None = None, b: float | None = None) -> None:
    params.add_index(
        field_name="sparse",
        index_type="SPARSE_INVERTED_INDEX",
        metric_type="BM25",
        params=sparse_index_params(k1, b),
    )


def add_groups_index(params: IndexParams) -> None:
    """INVERTED index on the `groups` ARRAY, which array_contains_any uses on a Milvus server.
    Milvus Lite refuses scalar indexes on ARRAY fields ("field type ARRAY does not support scalar
    index"), which is why Lite filters on `groups_key` instead."""
    params.add_index(field_name="groups", index_type="INVERTED")


def build_index_params(client: MilvusClient, *, lite: bool) -> IndexParams:
    params = client.prepare_index_params()
    params.add_index(
        field_name="dense",
        index_type="HNSW",
        metric_type="COSINE",
        params={"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION},
    )
    add_sparse_index(params)
    if not lite:
        add_groups_index(params)
    return params


def collection_properties(*, embedder_id: str, dim: int, analyzer: str, group_bm25: bool) -> dict[str, str]:
    """`group_bm25`: the creating Store keeps the per-group BM25 collections (it searches through
    Milvus), so a new collection's are complete (empty) from the start."""
    return {
        PROP_EMBEDDER: embedder_id,
        PROP_DIM: str(dim),
        PROP_ANALYZER: analyzer,
        PROP_SCHEMA: SCHEMA_VERSION,
        PROP_GROUP_BM25: GROUP_BM25_MAINTAINED if group_bm25 else GROUP_BM25_ABSENT,
    }
