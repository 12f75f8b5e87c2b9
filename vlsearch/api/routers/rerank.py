"""Rerank endpoints: Jina/Cohere shape (/v1/rerank, /v1/rerank/upload) and the seed's process() body."""

from __future__ import annotations

import json
import shutil
import time
import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from pydantic import ValidationError

from vlsearch.api.auth import Caller
from vlsearch.api.deps import CallerDep, StateDep
from vlsearch.api.errors import ApiError
from vlsearch.api.media_refs import MediaResolver
from vlsearch.api.schemas.common import ERROR_RESPONSES
from vlsearch.api.schemas.rerank import (
    RerankContent,
    RerankRequest,
    RerankResponse,
    RerankResultOut,
    SeedRerankRequest,
    SeedRerankResponse,
)
from vlsearch.api.state import ApiState
from vlsearch.api.uploads import copy_upload
from vlsearch.errors import ModelUnavailableError
from vlsearch.models.base import ModelState, Reranker

router = APIRouter(prefix="/v1", tags=["rerank"], responses=ERROR_RESPONSES)


@router.post(
    "/rerank", response_model=RerankResponse, summary="Rerank documents for a query (Jina/Cohere shape)"
)
def rerank(body: RerankRequest, state: StateDep, caller: CallerDep) -> RerankResponse:
    with _scratch(state) as folder:
        return _rerank(state, caller, body, MediaResolver(state=state, caller=caller, folder=folder))


@router.post(
    "/rerank/upload",
    response_model=RerankResponse,
    summary="Rerank with uploaded media ('payload' = the /v1/rerank JSON; name files upload:<file name>)",
)
def rerank_upload(
    state: StateDep,
    caller: CallerDep,
    payload: Annotated[str, Form(description="The /v1/rerank request as JSON")],
    files: Annotated[list[UploadFile], File(description="Images / videos named in payload as upload:<name>")],
) -> RerankResponse:
    try:
        body = RerankRequest.model_validate(json.loads(payload))
    except json.JSONDecodeError as exc:
        raise ApiError("invalid_request", f"payload: not valid JSON ({exc})", status=422) from exc
    except ValidationError as exc:
        raise ApiError("invalid_request", f"payload: {_first_error(exc)}", status=422) from exc
    with _scratch(state) as folder:
        uploads: dict[str, Path] = {}
        for i, upload in enumerate(files):
            name = upload.filename or f"file-{i}"
            target = folder / f"upload-{i}{Path(name).suffix[:8]}"
            copy_upload(upload, target, max_bytes=state.limits.query_upload_bytes, limit_name="query_upload")
            uploads[name] = target
        resolver = MediaResolver(state=state, caller=caller, folder=folder, uploads=uploads)
        return _rerank(state, caller, body, resolver)


@router.post(
    "/rerank/process",
    response_model=SeedRerankResponse,
    summary="Seed-compatible: the body of Qwen3VLReranker.process(inputs) → {scores}",
)
def rerank_process(body: SeedRerankRequest, state: StateDep, caller: CallerDep) -> SeedRerankResponse:
    with _scratch(state) as folder:
        resolver = MediaResolver(state=state, caller=caller, folder=folder)
        # References are checked before the model so a bad request is a 4xx whatever the model state.
        query = resolver.side(body.query)
        documents = [resolver.side(d) for d in body.documents]
        reranker = _ready_reranker(state)
        scores = reranker.score(
            query,
            documents,
            instruction=body.instruction or None,
            **_video_options(body.fps, body.max_frames),
        )
    return SeedRerankResponse(scores=[float(s) for s in scores])


def _rerank(state: ApiState, caller: Caller, body: RerankRequest, resolver: MediaResolver) -> RerankResponse:
    if body.model not in (None, "", "reranker"):
        info = state.runtime.models.info("reranker") if "reranker" in state.runtime.models.names else None
        if info is None or body.model != info.model_id:
            raise ApiError(
                "invalid_request",
                f"model: this server has one reranker; pass 'reranker' or omit it (got {body.model!r})",
                status=422,
            )
    started = time.perf_counter()
    query = resolver.side(body.query)
    documents = [resolver.side(d) for d in body.documents]
    resolved_ms = (time.perf_counter() - started) * 1000
    reranker = _ready_reranker(state)
    scores = reranker.score(query, documents, instruction=body.instruction or None)
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    if body.top_n is not None:
        order = order[: body.top_n]
    results = [
        RerankResultOut(
            index=i,
            relevance_score=float(scores[i]),
            document=_echo(body.documents[i]) if body.return_documents else None,
        )
        for i in order
    ]
    return RerankResponse(
        model=reranker.model_id,
        results=results,
        timings_ms={
            "resolve": round(resolved_ms, 3),
            "total": round((time.perf_counter() - started) * 1000, 3),
        },
    )


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


def _echo(document: str | RerankContent) -> dict[str, Any]:
    if isinstance(document, str):
        return {"text": document}
    return document.model_dump(exclude_none=True)


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
