from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from vlsearch.api.schemas.common import RequestModel, ResponseModel

MEDIA_HELP = (
    "A path under the server's allowed roots (only when auth is off), 'upload:<file name>' for a "
    "file sent in the same multipart request, or an http(s) URL from an allow-listed host."
)


class RerankContent(RequestModel):
    """A query or document with any of text, image(s) and a video, or a reference to ingested media."""

    text: str | None = Field(default=None, max_length=40_000)
    image: str | list[str] | None = Field(default=None, description=MEDIA_HELP)
    video: str | None = Field(default=None, description=MEDIA_HELP)
    item_id: str | None = Field(default=None, description="An ingested item: its text and its image/keyframe")
    doc_id: str | None = Field(default=None, description="An ingested image/video document (its original)")

    @model_validator(mode="after")
    def _not_empty(self) -> RerankContent:
        if not (self.text or self.image or self.video or self.item_id or self.doc_id):
            raise ValueError("give at least one of text, image, video, item_id or doc_id")
        return self


class RerankRequest(RequestModel):
    """Jina / Cohere style rerank request."""

    model: str | None = Field(default=None, description="Optional; the server has one reranker")
    query: str | RerankContent
    documents: list[str | RerankContent] = Field(min_length=1, max_length=500)
    top_n: int | None = Field(default=None, ge=1, le=500)
    instruction: str | None = Field(default=None, max_length=2000)
    return_documents: bool = True


class RerankResultOut(ResponseModel):
    index: int
    relevance_score: float
    document: dict[str, Any] | None = None


class RerankResponse(ResponseModel):
    model: str
    results: list[RerankResultOut]
    timings_ms: dict[str, float]


class SeedRerankRequest(RequestModel):
    """The body of Qwen3VLReranker.process(inputs) from the seed article, unchanged."""

    instruction: str | None = Field(default=None, max_length=2000)
    query: RerankContent
    documents: list[RerankContent] = Field(min_length=1, max_length=500)
    fps: float | None = Field(default=None, gt=0, le=10)
    max_frames: int | None = Field(default=None, ge=2, le=256)


class SeedRerankResponse(ResponseModel):
    scores: list[float]
