"""Prometheus metrics, served at ``GET /metrics`` in the text exposition format.

Labels are bounded: the route *template* (``/insights/engagement/totals``; ``<unmatched>`` for
unknown paths, so a scan of random paths cannot grow the series), the method (``OTHER`` for
anything unusual), the status code, the ingest kind and outcome. Nothing is labelled by Post,
user, app or key.

Each app gets its own registry (tests build many apps in one process). With several server
processes (``serve --workers N``), ``serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh
directory before the workers start; prometheus-client then keeps every worker's values in
files there and ``/metrics`` answers with the sum over all workers, whichever worker answers.
A server started another way without that variable reports per-process values.
"""

from __future__ import annotations

import os
import time
from typing import Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MULTIPROC_ENV: Final = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED: Final = "<unmatched>"
METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

#: Latency buckets in seconds: from sub-millisecond reads to whole ingest batches.
BUCKETS: Final = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
)


class Metrics:
    """The server's metrics, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "engagement_api_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "engagement_api_request_duration_seconds",
            "Time from the request's arrival to the end of its answer, by method and route.",
            ["method", "route"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.ingest_batches = Counter(
            "engagement_api_ingest_batches",
            "Ingest batches over HTTP by kind (users, tweets, events) and outcome "
            "(applied, duplicate, rejected, conflict, too_large).",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.ingest_records = Counter(
            "engagement_api_ingest_records",
            "Records (users, Posts, events) accepted in applied ingest batches, by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.ingest_rejected_lines = Counter(
            "engagement_api_ingest_rejected_lines",
            "Bad lines in rejected ingest batches, by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.store_errors = Counter(
            "engagement_api_store_errors",
            "Requests that failed because the store was unavailable (answered 503).",
            ["route"],
            registry=self.registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in METHODS else "OTHER"
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def exposition(self) -> bytes:
        """The text exposition: the sum over every worker in multi-process mode."""
        directory = os.environ.get(MULTIPROC_ENV)
        if directory:
            registry = CollectorRegistry()
            # prometheus_client leaves MultiProcessCollector.__init__ unannotated
            multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
            return generate_latest(registry)
        return generate_latest(self.registry)


def route_template(scope: Scope) -> str:
    """The matched route's path template, or ``<unmatched>`` (never the raw path)."""
    route = scope.get("route")
    if isinstance(route, BaseRoute) and isinstance(getattr(route, "path", None), str):
        path: str = route.path  # type: ignore[attr-defined]  # BaseRoute declares none; see above
        return path
    return UNMATCHED


def metrics_of(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


class MetricsMiddleware:
    """Counts every HTTP request by route template and status, and times it."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        recorder = StatusRecorder(send)
        try:
            await self.app(scope, receive, recorder)
        finally:
            self.metrics.observe(
                scope.get("method", ""),
                route_template(scope),
                recorder.status,
                time.perf_counter() - started,
            )


async def metrics_endpoint(request: Request) -> Response:
    return Response(metrics_of(request).exposition(), media_type=CONTENT_TYPE_LATEST)


routes = [Route("/metrics", metrics_endpoint, methods=["GET"])]


class StatusRecorder:
    """An ASGI ``send`` that passes every message on and remembers the response status
    (500 until a response starts: what a request that raised is counted and logged as)."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.status = 500

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
        await self._send(message)
