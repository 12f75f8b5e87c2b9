"""Prometheus metrics, one registry per app (no process-global state, so several apps can coexist)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vlsearch.api.asgi import HttpMiddleware

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
MODEL_STATES = ("unloaded", "loading", "ready", "failed")


class _ModelStateCollector(Collector):
    """Reads model states at scrape time so the gauge is never stale."""

    def __init__(self, source: Callable[[], Iterable[Any]]) -> None:
        self._source = source

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "vlsearch_model_state", "1 for the model's current state, 0 otherwise", labels=["model", "state"]
        )
        for info in self._source():
            current = str(getattr(info.state, "value", info.state))
            for state in MODEL_STATES:
                family.add_metric([info.name, state], 1.0 if state == current else 0.0)
        yield family


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.request_seconds = Histogram(
            "vlsearch_http_request_seconds",
            "HTTP request latency by route template",
            ["method", "route", "status"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.stage_seconds = Histogram(
            "vlsearch_search_stage_seconds",
            "Search stage timings reported by the search service",
            ["stage"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.ingest_files = Counter(
            "vlsearch_ingest_files_total",
            "Files processed by upload ingest jobs",
            ["status"],
            registry=self.registry,
        )
        self.ingest_jobs = Counter(
            "vlsearch_ingest_jobs_total", "Ingest jobs finished", ["status"], registry=self.registry
        )
        self.searches = Counter(
            "vlsearch_searches_total", "Searches served", ["kind", "reranked"], registry=self.registry
        )

    def watch_models(self, source: Callable[[], Iterable[Any]]) -> None:
        self.registry.register(_ModelStateCollector(source))

    def observe_stages(self, timings_ms: Mapping[str, float]) -> None:
        for stage, ms in timings_ms.items():
            self.stage_seconds.labels(stage=stage).observe(max(ms, 0.0) / 1000.0)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class RequestTimingMiddleware(HttpMiddleware):
    """Times each HTTP request under its route template (not the raw path: bounded label cardinality)."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        super().__init__(app)
        self.metrics = metrics

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.request_seconds.labels(
                method=scope.get("method", ""), route=template, status=str(status["code"])
            ).observe(time.perf_counter() - start)
