from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, model_validator

from vlsearch.api.schemas.common import RequestModel, ResponseModel

MEDIA_HELP = (
    "A path under the server's allowed roots (only when auth is off), 'upload:<file name>' for a "
    "file sent in the same multipart request, an http(s) URL from an allow-listed host, or a "
    "data: URI (base64, at most the query upload limit)."
)
MAX_DOCUMENTS = 500


class RerankContent(RequestModel):
    """A query or document with any of text, image(s) and a video, or a reference to ingested media."""

    text: str | None = Field(default=None, max_length=40_000)
    image: str | list[str] | None = Field(default=None, description=MEDIA_HELP)
    video: str | None = Field(default=None, description=MEDIA_HELP)
    url: str | None = Field(
        default=None, description="Jina style: an image (or, by its extension, a video) reference"
    )
    item_id: str | None = Field(default=None, description="An ingested item: its text and its image/keyframe")
    doc_id: str | None = Field(default=None, description="An ingested image/video document (its original)")

    @model_validator(mode="after")
    def _not_empty(self) -> RerankContent:
        if not self.has_content():
            raise ValueError("give at least one of text, image, video, url, item_id or doc_id")
        return self

    def has_content(self) -> bool:
        return bool(self.text or self.image or self.video or self.url or self.item_id or self.doc_id)


class RerankDocument(RerankContent):
    """A candidate as the Cohere and Jina SDKs send it: `text`, `title` or any other fields (kept and
    echoed back; `rank_fields` picks which are read), plus vlsearch's media fields."""

    model_config = ConfigDict(extra="allow")

    title: str | None = Field(default=None, max_length=4_000)

    @model_validator(mode="after")
    def _not_empty(self) -> RerankDocument:
        return self  # checked against rank_fields when the request is read


class RerankRequest(RequestModel):
    """Cohere v1 and Jina rerank request, plus vlsearch's instruction and video options.

    `model` may name any reranker: the served one answers and is named in the response."""

    model: str | None = Field(
        default=None, description="Any name; the served reranker answers (response `model`)"
    )
    query: str | RerankContent
    documents: list[str | RerankDocument] = Field(min_length=1, max_length=MAX_DOCUMENTS)
    top_n: int | None = Field(default=None, ge=1, description="Results returned (default: all)")
    return_documents: bool = Field(default=True, description="Echo each document in its result")
    rank_fields: list[str] | None = Field(
        default=None,
        max_length=20,
        description="Cohere: the document fields read, in order (default: text)",
    )
    max_chunks_per_doc: int | None = Field(
        default=None,
        ge=1,
        le=100,
        description="Cohere v1: split long documents into chunks of the reranker's context; the "
        "document scores as its best chunk; chunks past this count are dropped (default 1)",
    )
    max_tokens_per_doc: int | None = Field(
        default=None, ge=1, le=1_000_000, description="Cut each document's text to this many tokens"
    )
    instruction: str | None = Field(default=None, max_length=2000)
    fps: float | None = Field(default=None, gt=0, le=10, description="Video frames sampled per second")
    max_frames: int | None = Field(default=None, ge=2, le=256, description="Most frames per video")


class RerankV2Request(RequestModel):
    """Cohere v2 rerank request (`co = cohere.ClientV2(); co.rerank(...)`)."""

    model: str = Field(description="Any name; the served reranker answers (response `model`)")
    query: str | RerankContent
    documents: list[str | RerankDocument] = Field(min_length=1, max_length=MAX_DOCUMENTS)
    top_n: int | None = Field(default=None, ge=1)
    max_tokens_per_doc: int = Field(
        default=4096, ge=1, le=1_000_000, description="Cut each document's text to this many tokens"
    )
    priority: int | None = Field(default=None, description="Accepted; requests are served in arrival order")
    relevant_spans: Any = Field(default=None, description="Not supported; must be absent or null")
    instruction: str | None = Field(default=None, max_length=2000)
    fps: float | None = Field(default=None, gt=0, le=10)
    max_frames: int | None = Field(default=None, ge=2, le=256)


class RerankResultOut(ResponseModel):
    index: int
    relevance_score: float
    document: dict[str, Any] | None = None


class ApiVersion(ResponseModel):
    version: str


class BilledUnits(ResponseModel):
    search_units: int = 1


class RerankMeta(ResponseModel):
    api_version: ApiVersion
    billed_units: BilledUnits = Field(default_factory=BilledUnits)
    warnings: list[str] = Field(default_factory=list)


class RerankResponse(ResponseModel):
    id: str
    model: str = Field(description="The reranker that answered (also the X-Vlsearch-Rerank-Model header)")
    results: list[RerankResultOut]
    meta: RerankMeta
    timings_ms: dict[str, float]


class SeedRerankRequest(RequestModel):
    """The body of Qwen3VLReranker.process(inputs) from the seed article, unchanged."""

    instruction: str | None = Field(default=None, max_length=2000)
    query: RerankContent
    documents: list[RerankContent] = Field(min_length=1, max_length=MAX_DOCUMENTS)
    fps: float | None = Field(default=None, gt=0, le=10)
    max_frames: int | None = Field(default=None, ge=2, le=256)


class SeedRerankResponse(ResponseModel):
    scores: list[float]
