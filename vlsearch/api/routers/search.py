"""POST /v1/search (JSON, text) and POST /v1/search/upload (multipart: text, photos and a video at once)."""

from __future__ import annotations

import json
import re
import shutil
import uuid
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from pydantic import ValidationError

from vlsearch.api.auth import Caller
from vlsearch.api.deps import CallerDep, StateDep
from vlsearch.api.errors import ApiError
from vlsearch.api.schemas.common import ERROR_RESPONSES
from vlsearch.api.schemas.search import (
    DocumentRef,
    HighlightOut,
    SearchFilters,
    SearchHitOut,
    SearchRequest,
    SearchResponse,
    SnippetSpan,
)
from vlsearch.api.state import ApiState
from vlsearch.api.uploads import save_query_image, save_query_video
from vlsearch.evidence.highlight import cut_at_word
from vlsearch.source_ref import SourceRef, media_url
from vlsearch.types import Hit, Modality, Query, SearchFilter

router = APIRouter(prefix="/v1", tags=["search"], responses=ERROR_RESPONSES)

_SPACES = re.compile(r"\s+")
MAX_QUERY_IMAGES = 4  # photos in one query; each is read (OCR) and each becomes a part of the query


@router.post("/search", response_model=SearchResponse, summary="Search with a text query")
def search_json(body: SearchRequest, state: StateDep, caller: CallerDep) -> SearchResponse:
    query = _query(state, caller, body, text=body.text)
    return _run(state, query, kind="text")


@router.post(
    "/search/upload",
    response_model=SearchResponse,
    summary="Search with text, photos (repeat 'image', up to 4) and a video in one query; every part is used",
)
def search_upload(
    state: StateDep,
    caller: CallerDep,
    text: Annotated[str, Form(max_length=4000)] = "",
    image: Annotated[
        list[UploadFile] | None,
        File(description=f"Query photos (PNG, JPEG, WebP, …); repeat the field for up to {MAX_QUERY_IMAGES}"),
    ] = None,
    video: Annotated[UploadFile | None, File(description="A short query video (MP4, WebM, …)")] = None,
    top_k: Annotated[int | None, Form(ge=1, le=100)] = None,
    rerank: Annotated[bool, Form()] = True,
    instruction: Annotated[str | None, Form(max_length=2000)] = None,
    per_doc_limit: Annotated[int, Form(ge=0, le=100)] = 1,
    filters: Annotated[str, Form(description='JSON, e.g. {"doc_types": ["pdf"]}')] = "{}",
) -> SearchResponse:
    images = [i for i in image or [] if i.filename or i.size]
    if not text.strip() and not images and video is None:
        raise ApiError("invalid_request", "Give a text, an image or a video to search with.", status=422)
    if len(images) > MAX_QUERY_IMAGES:
        raise ApiError(
            "invalid_request",
            f"{len(images)} images sent; a query takes at most {MAX_QUERY_IMAGES} (each one is read and "
            "searched with): send fewer photos",
            status=422,
            detail={"limit": "max_query_images", "max": MAX_QUERY_IMAGES},
        )
    try:
        parsed_filters = SearchFilters.model_validate(json.loads(filters or "{}"))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise ApiError("invalid_request", f"filters: not valid filter JSON ({exc})", status=422) from exc
    body = SearchRequest.model_construct(
        text=text,
        top_k=top_k,
        rerank=rerank,
        instruction=instruction,
        per_doc_limit=per_doc_limit,
        filters=parsed_filters,
    )
    folder = state.scratch_dir / uuid.uuid4().hex
    folder.mkdir(parents=True)
    try:
        video_path: str | None = None
        settings = state.runtime.settings
        image_paths = tuple(
            str(
                save_query_image(
                    upload, folder, settings=settings, limits=state.limits, stem=f"query-image-{i}"
                )
            )
            for i, upload in enumerate(images)
        )
        if video is not None:
            video_path = str(save_query_video(video, folder, settings=settings, limits=state.limits))
        query = _query(state, caller, body, text=text.strip(), images=image_paths, video=video_path)
        parts = [
            name
            for name, used in (("text", text.strip()), ("image", image_paths), ("video", video_path))
            if used
        ]
        return _run(state, query, kind="+".join(parts))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _query(
    state: ApiState,
    caller: Caller,
    body: SearchRequest,
    *,
    text: str,
    images: tuple[str, ...] = (),
    video: str | None = None,
) -> Query:
    flt = SearchFilter(
        doc_types=tuple(body.filters.doc_types),
        modalities=tuple(Modality(m) for m in body.filters.modalities),
        doc_ids=tuple(body.filters.doc_ids),
        groups=caller.groups,  # access control happens inside the Milvus query
    )
    return Query(
        text=text,
        image_paths=images,
        video_path=video,
        filters=flt,
        top_k=body.top_k or state.runtime.settings.default_top_k,
        rerank=body.rerank,
        instruction=body.instruction or None,
        per_doc_limit=body.per_doc_limit,
    )


def _run(state: ApiState, query: Query, *, kind: str) -> SearchResponse:
    result = state.runtime.search.search(query)
    state.metrics.observe_stages(result.timings_ms)
    state.metrics.searches.labels(kind=kind, reranked=str(result.reranked).lower()).inc()
    return SearchResponse(
        results=[hit_out(hit) for hit in result.hits],
        reranked=result.reranked,
        degraded=result.degraded,
        total_candidates=result.total_candidates,
        timings_ms=dict(result.timings_ms),
    )


def hit_out(hit: Hit) -> SearchHitOut:
    item = hit.item
    cand = hit.candidate
    thumbnail = media_url(item.id, "thumbnail") if (item.thumbnail or item.media) else None
    page = item.locator.page if item.doc_type == "pdf" else None
    original = SourceRef.parse(item.source).original_url(item.id, page=page)
    if item.modality == Modality.FRAME:
        media: str | None = media_url(item.id, "original")
    elif item.media:
        media = media_url(item.id, "image")  # a PDF text hit's page render included
    else:
        media = original
    evidence = hit.evidence
    return SearchHitOut(
        rank=hit.rank,
        id=item.id,
        document=DocumentRef(id=item.doc_id, name=item.name, doc_type=item.doc_type, source=item.source),
        modality=item.modality.value,
        locator=item.locator.to_dict(),
        locator_label=item.locator.label(),
        snippet=evidence.snippet if evidence is not None else snippet(item.text),
        snippet_highlights=[SnippetSpan(start=a, end=b) for a, b in evidence.snippet_spans]
        if evidence is not None
        else [],
        highlights=[HighlightOut(box=list(h.box), text=h.text, score=h.score) for h in evidence.highlights]
        if evidence is not None
        else [],
        thumbnail_url=thumbnail,
        media_url=media,
        original_url=original,
        t_start=item.locator.t_start,
        score=hit.score,
        retrieval_score=cand.score,
        dense_score=cand.dense_score,
        bm25_score=cand.bm25_score,
        rerank_score=hit.rerank_score,
        found_by=list(cand.found_by),
    )


def snippet(text: str, limit: int = 320) -> str:
    return cut_at_word(_SPACES.sub(" ", text).strip(), limit)


def scratch_folder(root: Path) -> Path:
    folder = root / uuid.uuid4().hex
    folder.mkdir(parents=True)
    return folder
