"""Rerank endpoints: Cohere v1 / Jina (/v1/rerank, /v1/rerank/upload), Cohere v2 (/v2/rerank) and the
seed's process() body (/v1/rerank/process).

The drop-in endpoints take any `model` name: one reranker is served, and it answers whatever the
client asks for; the response's `model` field and the X-Vlsearch-Rerank-Model header name it, and
`meta.warnings` says so when the name asked for differs.
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from vlsearch.api.auth import Caller
from vlsearch.api.deps import CallerDep, StateDep
from vlsearch.api.errors import ApiError
from vlsearch.api.media_fetch import media_urls
from vlsearch.api.media_refs import MediaResolver
from vlsearch.api.rerank_docs import (
    best_per_document,
    chunk_documents,
    document_text,
    echo,
    with_text,
)
from vlsearch.api.schemas.common import ERROR_RESPONSES
from vlsearch.api.schemas.rerank import (
    ApiVersion,
    RerankContent,
    RerankDocument,
    RerankMeta,
    RerankRequest,
    RerankResponse,
    RerankResultOut,
    RerankV2Request,
    SeedRerankRequest,
    SeedRerankResponse,
)
from vlsearch.api.state import ApiState
from vlsearch.api.uploads import copy_upload
from vlsearch.errors import ModelUnavailableError
from vlsearch.models.base import ModelState, Reranker, RerankInput

router = APIRouter(tags=["rerank"], responses=ERROR_RESPONSES)

MODEL_HEADER = "X-Vlsearch-Rerank-Model"


@dataclass(frozen=True)
class _Ask:
    """One rerank request, whichever API shape it came in."""

    version: str
    model: str | None
    query: str | RerankContent
    documents: list[str | RerankDocument]
    top_n: int | None
    return_documents: bool
    rank_fields: list[str] | None
    max_chunks: int | None
    max_tokens: int | None
    instruction: str | None
    fps: float | None
    max_frames: int | None

    @classmethod
    def of(cls, body: RerankRequest | RerankV2Request) -> _Ask:
        """Either shape; v2 has no document echo, rank fields or chunking, and refuses relevant_spans."""
        v1 = body if isinstance(body, RerankRequest) else None
        if isinstance(body, RerankV2Request) and body.relevant_spans is not None:
            raise ApiError(
                "invalid_request",
                "relevant_spans is not supported here: leave it out (results carry index and score)",
                status=422,
            )
        return cls(
            version="1" if v1 else "2",
            model=body.model,
            query=body.query,
            documents=body.documents,
            top_n=body.top_n,
            return_documents=v1.return_documents if v1 else False,  # Cohere v2 results carry no documents
            rank_fields=v1.rank_fields if v1 else None,
            max_chunks=v1.max_chunks_per_doc if v1 else None,
            max_tokens=body.max_tokens_per_doc,
            instruction=body.instruction,
            fps=body.fps,
            max_frames=body.max_frames,
        )


@router.post(
    "/v1/rerank",
    response_model=RerankResponse,
    response_model_exclude_none=True,  # no "document": null when documents are not returned
    summary="Rerank documents for a query (Cohere v1 and Jina shape; any model name)",
)
async def rerank(
    body: RerankRequest, state: StateDep, caller: CallerDep, response: Response
) -> RerankResponse:
    return await _answer(_Ask.of(body), state, caller, response)


@router.post(
    "/v2/rerank",
    response_model=RerankResponse,
    response_model_exclude_none=True,  # no "document": null when documents are not returned
    summary="Rerank documents for a query (Cohere v2 shape; any model name)",
)
async def rerank_v2(
    body: RerankV2Request, state: StateDep, caller: CallerDep, response: Response
) -> RerankResponse:
    return await _answer(_Ask.of(body), state, caller, response)


async def _answer(ask: _Ask, state: ApiState, caller: Caller, response: Response) -> RerankResponse:
    with _scratch(state) as folder:
        # URLs download on the event loop first: a slow remote holds no worker thread
        fetched = await state.fetcher.fetch(media_urls([ask.query, *ask.documents]), folder)
        resolver = MediaResolver(state=state, caller=caller, folder=folder, fetched=fetched)
        return await run_in_threadpool(_rerank, state, ask, resolver, response)


@router.post(
    "/v1/rerank/upload",
    response_model=RerankResponse,
    response_model_exclude_none=True,  # no "document": null when documents are not returned
    summary="Rerank with uploaded media ('payload' = the /v1/rerank JSON; name files upload:<file name>)",
)
async def rerank_upload(
    state: StateDep,
    caller: CallerDep,
    response: Response,
    payload: Annotated[str, Form(description="The /v1/rerank request as JSON")],
    files: Annotated[list[UploadFile], File(description="Images / videos named in payload as upload:<name>")],
) -> RerankResponse:
    try:
        body = RerankRequest.model_validate(json.loads(payload))
    except json.JSONDecodeError as exc:
        raise ApiError("invalid_request", f"payload: not valid JSON ({exc})", status=422) from exc
    except ValidationError as exc:
        raise ApiError("invalid_request", f"payload: {_first_error(exc)}", status=422) from exc
    ask = _Ask.of(body)
    with _scratch(state) as folder:
        fetched = await state.fetcher.fetch(media_urls([ask.query, *ask.documents]), folder)

        def work() -> RerankResponse:
            uploads: dict[str, Path] = {}
            for i, upload in enumerate(files):
                name = upload.filename or f"file-{i}"
                target = folder / f"upload-{i}{Path(name).suffix[:8]}"
                copy_upload(
                    upload, target, max_bytes=state.limits.query_upload_bytes, limit_name="query_upload"
                )
                uploads[name] = target
            resolver = MediaResolver(
                state=state, caller=caller, folder=folder, uploads=uploads, fetched=fetched
            )
            return _rerank(state, ask, resolver, response)

        return await run_in_threadpool(work)


@router.post(
    "/v1/rerank/process",
    response_model=SeedRerankResponse,
    summary="Seed-compatible: the body of Qwen3VLReranker.process(inputs) → {scores}",
)
async def rerank_process(body: SeedRerankRequest, state: StateDep, caller: CallerDep) -> SeedRerankResponse:
    with _scratch(state) as folder:
        fetched = await state.fetcher.fetch(media_urls([body.query, *body.documents]), folder)

        def work() -> list[float]:
            resolver = MediaResolver(state=state, caller=caller, folder=folder, fetched=fetched)
            # References are checked before the model so a bad request is a 4xx whatever the model state.
            query = resolver.side(body.query)
            documents = [resolver.side(d) for d in body.documents]
            _check_videos(state, query, documents)
            reranker = _ready_reranker(state)
            return reranker.score(
                query,
                documents,
                instruction=body.instruction or None,
                **_video_options(body.fps, body.max_frames),
            )

        scores = await run_in_threadpool(work)
    return SeedRerankResponse(scores=[float(s) for s in scores])


def _rerank(state: ApiState, ask: _Ask, resolver: MediaResolver, response: Response) -> RerankResponse:
    started = time.perf_counter()
    query = resolver.side(ask.query)
    if _blank(query):
        raise ApiError(
            "invalid_request", "query: nothing to rank against; give text, an image or a video", status=422
        )
    documents = [_document_input(resolver, doc, i, ask.rank_fields) for i, doc in enumerate(ask.documents)]
    _check_videos(state, query, documents)
    resolved_ms = (time.perf_counter() - started) * 1000
    reranker = _ready_reranker(state)
    served = reranker.model_id
    warnings = _model_warnings(ask.model, served)
    chunked = chunk_documents(
        reranker,
        query,
        documents,
        instruction=ask.instruction or None,
        max_tokens=ask.max_tokens,
        max_chunks=ask.max_chunks,
    )
    scores = reranker.score(
        query,
        list(chunked.inputs),
        instruction=ask.instruction or None,
        **_video_options(ask.fps, ask.max_frames),
    )
    best = best_per_document(scores, chunked.owner, len(documents))
    order = sorted(range(len(best)), key=lambda i: -best[i])  # stable: ties keep input order
    if ask.top_n is not None:
        order = order[: ask.top_n]
    results = [
        RerankResultOut(
            index=i,
            relevance_score=best[i],
            document=echo(ask.documents[i]) if ask.return_documents else None,
        )
        for i in order
    ]
    response.headers[MODEL_HEADER] = served
    return RerankResponse(
        id=str(uuid.uuid4()),
        model=served,
        results=results,
        meta=RerankMeta(api_version=ApiVersion(version=ask.version), warnings=warnings),
        timings_ms={
            "resolve": round(resolved_ms, 3),
            "total": round((time.perf_counter() - started) * 1000, 3),
        },
    )


def _document_input(
    resolver: MediaResolver, doc: str | RerankDocument, index: int, rank_fields: list[str] | None
) -> RerankInput:
    text = document_text(doc, rank_fields)
    if isinstance(doc, str):
        return RerankInput(text=text)
    content = with_text(doc, text)
    if not content.has_content():
        wanted = ", ".join(rank_fields or ["text"])
        raise ApiError(
            "invalid_request",
            f"documents[{index}]: nothing to rank: no {wanted} field and no image, video, url, "
            "item_id or doc_id",
            status=422,
        )
    return resolver.side(content)


def _blank(side: RerankInput) -> bool:
    text = side.text if isinstance(side.text, str) or side.text is None else "".join(side.text)
    return not (text or "").strip() and not side.image and not side.video


def _model_warnings(asked: str | None, served: str) -> list[str]:
    if not asked or asked in ("reranker", served) or served.rstrip("/").endswith("/" + asked):
        return []
    return [f"model {asked!r} is not served here; {served!r} answered"]


def _check_videos(state: ApiState, query: RerankInput, documents: list[RerankInput]) -> None:
    """The duration rule, whatever reranker answers and whether or not it is loaded: a long video is
    a 413 naming max_query_video_seconds, never a 503 asking to load a model that would refuse it."""
    from vlsearch.models.qwen3vl.inputs import VisionLimits, parse_side
    from vlsearch.models.qwen3vl.vision import check_side

    limits = VisionLimits(max_video_seconds=state.runtime.settings.max_query_video_seconds)
    for side in (query, *documents):
        check_side(parse_side(side), limits)


def _ready_reranker(state: ApiState) -> Reranker:
    reranker = state.runtime.reranker
    if reranker is None:
        raise ModelUnavailableError(
            f"No reranker is configured for the {state.runtime.profile.profile} profile; "
            "set VLSEARCH_RERANKER to a Qwen3-VL-Reranker name or path"
        )
    info = reranker.info()
    if info.state == ModelState.FAILED:
        raise ModelUnavailableError(f"The reranker failed to load: {info.error}")
    if info.state != ModelState.READY and not _autoload(state):
        raise ModelUnavailableError(
            "The reranker is not loaded; POST /v1/models/reranker/load (or click Load model in the UI), "
            "then retry once GET /v1/models/reranker says ready"
        )
    return reranker


def _autoload(state: ApiState) -> bool:
    # Same rule as the Runtime's SearchService: on the GPU profile the reranker loads on first use.
    profile = state.runtime.profile
    return bool(getattr(profile, "rerank_autoload", str(profile.profile) == "gpu"))


def _video_options(fps: float | None, max_frames: int | None) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if fps is not None:
        options["fps"] = fps
    if max_frames is not None:
        options["max_frames"] = max_frames
    return options


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err.get("loc", ()))
    return f"{loc or 'request'}: {err.get('msg', 'invalid')}"


class _scratch:
    """A per-request folder for downloaded / uploaded media, removed afterwards."""

    def __init__(self, state: ApiState) -> None:
        self._folder = state.scratch_dir / f"rerank-{uuid.uuid4().hex}"

    def __enter__(self) -> Path:
        self._folder.mkdir(parents=True)
        return self._folder

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self._folder, ignore_errors=True)
