from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from vlsearch.api.schemas.common import RequestModel, ResponseModel
from vlsearch.types import Modality


class SearchFilters(RequestModel):
    doc_types: list[str] = Field(
        default_factory=list, max_length=20, description="pdf, docx, pptx, image, video, …"
    )
    modalities: list[Modality] = Field(default_factory=list, description="text, image, frame")
    doc_ids: list[str] = Field(default_factory=list, max_length=200)


class SearchRequest(RequestModel):
    text: str = Field(min_length=1, max_length=4000, description="The query text")
    top_k: int | None = Field(default=None, ge=1, le=100, description="Results (default from settings)")
    rerank: bool = Field(default=True, description="Rerank when the reranker is loaded")
    instruction: str | None = Field(default=None, max_length=2000, description="Rerank instruction override")
    per_doc_limit: int = Field(default=1, ge=0, le=100, description="Max hits per document (0 = unlimited)")
    filters: SearchFilters = Field(default_factory=SearchFilters)

    @field_validator("text")
    @classmethod
    def _has_words(cls, text: str) -> str:
        if not text.strip():
            raise ValueError(
                "the query is only whitespace; type some words, or search with a photo or video "
                "through /v1/search/upload"
            )
        return text


class DocumentRef(ResponseModel):
    id: str
    name: str
    doc_type: str
    source: str


class HighlightOut(ResponseModel):
    box: list[float] = Field(
        min_length=4,
        max_length=4,
        description="[x0, y0, x1, y1] in [0, 1] of the hit's media (media_url, and thumbnail_url, "
        "its smaller copy): the page render, figure, slide image or keyframe; y grows downwards",
    )
    text: str = Field(description="The line's text")
    score: float = Field(description="0..1: the share of the query's (idf-weighted) terms on the line")


class SnippetSpan(ResponseModel):
    start: int = Field(description="First character of a query word in the snippet")
    end: int = Field(description="One past its last character")


class SearchHitOut(ResponseModel):
    rank: int
    id: str = Field(description="Item id (chunk, image or video frame)")
    document: DocumentRef
    modality: str
    locator: dict[str, Any]
    locator_label: str = Field(description="Human label: 'p. 3', 'slide 2', '01:05-01:07'")
    snippet: str = Field(description="The hit's text around its best match, whitespace collapsed")
    snippet_highlights: list[SnippetSpan] = Field(
        default_factory=list, description="Where the query's words are in the snippet"
    )
    highlights: list[HighlightOut] = Field(
        default_factory=list,
        description="The hit's lines that match the query, boxed on its media, best first (at most "
        "5). Empty for hits without positions (DOCX, HTML, spreadsheets, rows ingested before "
        "positions were stored) and when no line shares a word with the query",
    )
    thumbnail_url: str | None
    media_url: str | None = Field(
        description="Full image (for a PDF text hit: its page, rendered), or the source video "
        "(append #t=<seconds>)"
    )
    original_url: str | None = Field(
        default=None, description="The document's original file (a PDF at the hit's page), when kept"
    )
    t_start: float | None = None
    score: float
    retrieval_score: float
    dense_score: float | None = None
    bm25_score: float | None = None
    rerank_score: float | None = None
    found_by: list[str]


class SearchResponse(ResponseModel):
    results: list[SearchHitOut]
    reranked: bool
    degraded: str = Field(description="Why the reranker did not run although asked; empty when it ran")
    total_candidates: int
    timings_ms: dict[str, float]
