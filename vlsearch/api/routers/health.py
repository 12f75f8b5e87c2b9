"""Liveness with the deployment picture (/v1/health), readiness (/v1/ready), Prometheus (/metrics)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from vlsearch.api.deps import MetricsReaderDep, OptionalCallerDep, StateDep
from vlsearch.api.routers.models import model_out
from vlsearch.api.routers.search import MAX_QUERY_IMAGES
from vlsearch.api.schemas.health import HealthOut, LimitsOut, ReadyOut
from vlsearch.types import COLLECTIONS
from vlsearch.version import __version__

router = APIRouter(tags=["health"])
log = logging.getLogger("vlsearch.api")


@router.get(
    "/v1/health",
    response_model=HealthOut,
    summary="Liveness, profile, models, Milvus URI; the caller's document counts (all counts for an admin)",
)
def health(state: StateDep, caller: OptionalCallerDep) -> HealthOut:
    if caller is None:  # keys are configured and none was sent: say only that the process is alive
        return HealthOut(status="ok", version=__version__)
    runtime = state.runtime
    counts: dict[str, int] = {}
    status = "ok"
    if caller.is_admin:  # deployment-wide figures; a group's key sees only its own documents
        try:
            for name in COLLECTIONS:
                counts[f"rows.{name}"] = runtime.store.count(name)
        except Exception as exc:  # health must answer even when Milvus does not
            log.warning("health: store count failed: %s", exc)
            status = "degraded"
        counts["jobs.pending"] = state.jobs.pending()
    for doc_status, n in runtime.catalog.status_counts(groups=caller.groups).items():
        counts[f"documents.{doc_status}"] = n
    return HealthOut(
        status=status,
        version=__version__,
        profile=runtime.profile.profile,
        profile_reason=runtime.profile.reason,
        milvus_uri=_redact(runtime.settings.resolved_milvus_uri),
        auth="api-keys" if state.keyring.enabled else "off (loopback only)",
        models=[model_out(i) for i in state.loader.list()],
        counts=counts,
    )


@router.get("/v1/ready", response_model=ReadyOut, summary="Ready when Milvus and the catalog answer")
def ready(state: StateDep, caller: OptionalCallerDep) -> JSONResponse:
    runtime = state.runtime
    try:
        store_ok = bool(runtime.store.ping())
    except Exception as exc:
        log.warning("ready: store ping failed: %s", exc)
        store_ok = False
    try:
        runtime.catalog.status_counts()
        catalog_ok = True
    except Exception as exc:
        log.warning("ready: catalog check failed: %s", exc)
        catalog_ok = False
    body = ReadyOut(
        ready=store_ok and catalog_ok,
        store="ok" if store_ok else "unreachable",
        catalog="ok" if catalog_ok else "unreachable",
        models={i.name: i.state.value for i in state.loader.list()} if caller is not None else None,
    )
    return JSONResponse(body.model_dump(), status_code=200 if body.ready else 503)


@router.get(
    "/v1/limits", response_model=LimitsOut, summary="Upload and query limits (the UI checks them first)"
)
def limits(state: StateDep) -> LimitsOut:
    settings = state.runtime.settings
    return LimitsOut(
        max_query_video_seconds=settings.max_query_video_seconds,
        max_query_images=MAX_QUERY_IMAGES,
        max_video_seconds=settings.max_video_seconds,
        max_file_bytes=state.limits.file_bytes,
        query_upload_bytes=state.limits.query_upload_bytes,
        document_upload_bytes=state.limits.document_upload_bytes,
        json_body_bytes=state.limits.json_bytes,
        default_top_k=settings.default_top_k,
        auth=state.keyring.enabled,
    )


@router.get("/metrics", include_in_schema=False)
def metrics(state: StateDep, _caller: MetricsReaderDep) -> Response:
    """The whole deployment's activity: a key with role 'metrics' or 'admin' when keys are
    configured (scrapers send `Authorization: Bearer <key>`)."""
    return Response(state.metrics.render(), media_type=CONTENT_TYPE_LATEST)


def _redact(uri: str) -> str:
    # A server URI may carry credentials (http://user:pass@host); show host and path only.
    if "@" in uri and "://" in uri:
        scheme, rest = uri.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return uri
