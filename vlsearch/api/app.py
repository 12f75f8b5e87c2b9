"""The FastAPI app factory, its lifespan (which owns the Runtime) and `serve(settings)`."""

from __future__ import annotations

import logging
import shutil
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from vlsearch.api.auth import KeyRing, is_loopback
from vlsearch.api.errors import install_error_handlers
from vlsearch.api.guard import LoopbackGuardMiddleware
from vlsearch.api.headers import SecurityHeadersMiddleware
from vlsearch.api.limits import ApiLimits, BodyLimitMiddleware
from vlsearch.api.media_fetch import MediaFetcher
from vlsearch.api.metrics import Metrics, RequestTimingMiddleware
from vlsearch.api.routers import documents, health, media, models, rerank, search, ui
from vlsearch.api.state import ApiState
from vlsearch.api.url_secrets import UrlSecretsMiddleware, install_access_log_redaction
from vlsearch.api.workers import IngestJobs, ModelLoader
from vlsearch.config import Settings
from vlsearch.errors import InputRejectedError, StoreUnavailableError
from vlsearch.models.base import ModelInfo
from vlsearch.version import __version__
from vlsearch.worker import QueuedIngestJobs

log = logging.getLogger("vlsearch.api")

_DESCRIPTION = """Multimodal document search: text, image or video queries over ingested documents,
with Milvus retrieval and Qwen3-VL reranking. Send your API key as `X-API-Key` (or
`Authorization: Bearer`). Errors are always `{"error": {"code", "message", "detail"}}`."""


def create_app(settings: Settings, runtime: Any = None) -> FastAPI:
    """Build the app. With `runtime=None` the lifespan builds, starts and closes its own Runtime;
    a Runtime passed in is started (idempotent) but left open for its owner to close."""
    keyring = KeyRing(settings.api_keys)
    metrics = Metrics()
    limits = ApiLimits.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = runtime is None
        rt = runtime
        if rt is None:
            from vlsearch.runtime import Runtime

            rt = Runtime.from_settings(settings)
        loader = ModelLoader(runtime=rt)
        rt.store.prefetch_index_snapshot()  # read on a thread while Lite opens the data dir
        store_connected = True
        try:
            rt.start()
            if settings.preload_embedder:
                # after Lite opened (a third busy thread slowed that down at 100k rows), while
                # the index is adopted: a first search needs both
                loader.preload_embedder()
            rt.store.warm_up()  # an embedded store builds its search index now, not on a first query
        except StoreUnavailableError as exc:
            # Serve anyway: /v1/ready says 503 and store-backed calls answer 503 until Milvus is
            # back; requests retry the connection (ApiState.ensure_store).
            log.error("Milvus is unreachable at start-up: %s", exc)
            store_connected = False
            if settings.preload_embedder:
                loader.preload_embedder()  # at most a second warm query if it started already
        scratch = settings.data_dir / "tmp" / "api"
        shutil.rmtree(scratch, ignore_errors=True)  # leftovers of a crashed run
        scratch.mkdir(parents=True, exist_ok=True)
        jobs: IngestJobs | QueuedIngestJobs
        if settings.ingest_workers:
            jobs = QueuedIngestJobs(settings=settings, catalog=rt.catalog)
        else:
            jobs = IngestJobs(runtime=rt, metrics=metrics)
        jobs.start()
        state = ApiState(
            runtime=rt,
            keyring=keyring,
            metrics=metrics,
            limits=limits,
            jobs=jobs,
            loader=loader,
            scratch_dir=scratch,
            fetcher=MediaFetcher(
                hosts=settings.media_url_hosts,
                max_bytes=limits.query_upload_bytes,
                deadline_s=settings.media_url_timeout_s,
                per_request=settings.media_urls_per_request,
                concurrency=settings.media_url_fetches,
            ),
            media_url_hosts=tuple(h.lower() for h in settings.media_url_hosts),
            store_connected=store_connected,
        )
        app.state.api = state
        app.state.runtime = rt
        if not keyring.enabled:
            log.warning("auth is off (no VLSEARCH_API_KEYS): only loopback clients are served")
        try:
            yield
        finally:
            jobs.close()
            app.state.api = None
            if owned:
                rt.close()

    app = FastAPI(
        title="vlsearch",
        version=__version__,
        description=_DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # the default Swagger page loads from a CDN; /docs is served from ui/ instead
        redoc_url=None,
    )
    app.state.api = None

    def model_states() -> Iterable[ModelInfo]:
        state: ApiState | None = app.state.api
        return state.loader.list() if state is not None else ()

    metrics.watch_models(model_states)
    data_dir = settings.data_dir
    install_error_handlers(app, private_paths=(data_dir.resolve(), data_dir.absolute()))
    app.add_middleware(BodyLimitMiddleware, limits=limits)
    app.add_middleware(RequestTimingMiddleware, metrics=metrics)
    if not settings.api_keys:
        app.add_middleware(LoopbackGuardMiddleware)
    app.add_middleware(UrlSecretsMiddleware)  # a key in the URL: refused before any route runs
    app.add_middleware(SecurityHeadersMiddleware)  # outermost: every answer gets the headers
    install_access_log_redaction()
    for module in (search, rerank, documents, media, models, health, ui):
        app.include_router(module.router)
    app.mount("/ui", StaticFiles(directory=ui.UI_DIR), name="ui-static")
    return app


def serve(settings: Settings) -> None:
    """Run the API and UI with uvicorn. Without API keys only a loopback address may be bound."""
    import uvicorn

    if not settings.api_keys and not is_loopback(settings.host):
        raise InputRejectedError(
            f"Refusing to bind {settings.host}: no API keys are configured, so the server may only listen "
            'on loopback (127.0.0.1). Set VLSEARCH_API_KEYS=\'{"<sha256 of key>": ["group"]}\' '
            "to serve other hosts, or drop --host."
        )
    if not settings.api_keys:
        log.warning("auth is off: no API keys configured; listening on %s only", settings.host)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        # one process: Milvus Lite allows one process per data dir
        workers=1,
    )
