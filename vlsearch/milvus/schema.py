"""Collection layout shared by `chunks`, `images` and `frames`, and the properties that tag it."""

from __future__ import annotations

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
SCHEMA_VERSION = "2"

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


def analyzer_params(analyzer: str) -> dict[str, Any]:
    """Analyzer settings for the BM25 text field: `jieba` (Chinese + English) or `standard`."""
    if analyzer == "jieba":
        return {"tokenizer": "jieba"}
    if analyzer == "standard":
        return {"type": "standard"}
    raise ValueError(f"unknown analyzer {analyzer!r}: use 'jieba' (Chinese + English) or 'standard'")


def build_schema(dim: int, analyzer: str) -> CollectionSchema:
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
        analyzer_params=analyzer_params(analyzer),
    )
    schema.add_field("locator", DataType.JSON)
    schema.add_field(
        "groups",
        DataType.ARRAY,
        element_type=DataType.VARCHAR,
        max_capacity=GROUPS_MAX,
        max_length=GROUP_MAX,
    )
    # Filter-only twin of `groups`: Milvus Lite evaluates ARRAY predicates row by row in Python
    # (measured ~10x the cost of a LIKE on a VARCHAR at 2000 rows), and every search with
    # access control carries one.
    schema.add_field("groups_key", DataType.VARCHAR, max_length=GROUPS_KEY_MAX)
    schema.add_field("media", DataType.VARCHAR, max_length=MEDIA_MAX)
    schema.add_field("thumbnail", DataType.VARCHAR, max_length=MEDIA_MAX)
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


def build_index_params(client: MilvusClient) -> IndexParams:
    params = client.prepare_index_params()
    params.add_index(
        field_name="dense",
        index_type="HNSW",
        metric_type="COSINE",
        params={"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION},
    )
    params.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    return params


def collection_properties(*, embedder_id: str, dim: int, analyzer: str) -> dict[str, str]:
    return {
        PROP_EMBEDDER: embedder_id,
        PROP_DIM: str(dim),
        PROP_ANALYZER: analyzer,
        PROP_SCHEMA: SCHEMA_VERSION,
    }
