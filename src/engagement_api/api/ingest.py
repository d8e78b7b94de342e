"""The write endpoints: POST /ingest/users, /ingest/tweets, /ingest/events.

Authenticated with an ingest key (``Authorization: Bearer <ingest key>``), never with API
credentials. Bodies are NDJSON (``application/x-ndjson``) or a JSON array
(``application/json``); CSV (``text/csv``) is accepted too. Limits, checked after
authentication: ``max_ingest_bytes`` (413) and ``max_ingest_lines`` (413).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engagement_api.api.answers import Accepted, EventsAccepted
from engagement_api.api.body import Body, read_body
from engagement_api.api.prometheus import Metrics, metrics_of
from engagement_api.api.responses import json_response
from engagement_api.api.state import AppState, state_of
from engagement_api.contract.errors import Conflict, PayloadTooLarge
from engagement_api.ingest import BatchRejected, Format, detect_format
from engagement_api.ingest.limits import check_batch_lines


def _checked(state: AppState, request: Request, body: Body) -> tuple[bytes, Format]:
    """Authenticate, then the limits: bytes (413), lines (413)."""
    state.authenticator.authenticate_ingest(request.headers)
    data = body.check()
    fmt = detect_format(request.headers.get("content-type"), None, data)
    check_batch_lines(data, fmt, state.settings.max_ingest_lines)
    return data, fmt


def _users(state: AppState, request: Request, body: Body) -> Accepted:
    data, fmt = _checked(state, request, body)
    return Accepted(accepted=state.loader.load_users(data, fmt))


def _tweets(state: AppState, request: Request, body: Body) -> Accepted:
    data, fmt = _checked(state, request, body)
    return Accepted(accepted=state.loader.load_tweets(data, fmt))


def _events(state: AppState, request: Request, body: Body) -> EventsAccepted:
    data, fmt = _checked(state, request, body)
    result = state.loader.load_events(data, fmt, request.headers.get("idempotency-key", ""))
    return EventsAccepted(accepted=result.accepted, duplicate=result.duplicate)


Handler = Callable[[AppState, Request, Body], Accepted | EventsAccepted]


def _counted(kind: str, handler: Handler, metrics: Metrics) -> Handler:
    """``handler`` with its outcome counted: batches, accepted records, rejected lines (also
    in the store's ingest log, which the dashboard shows)."""

    def run(state: AppState, request: Request, body: Body) -> Accepted | EventsAccepted:
        try:
            answer = handler(state, request, body)
        except BatchRejected as exc:
            metrics.ingest_batches.labels(kind, "rejected").inc()
            metrics.ingest_rejected_lines.labels(kind).inc(exc.bad_lines)
            now = state.settings.clock.now()
            state.store.record_rejection(kind, exc.bad_lines, len(body.data), now)
            raise
        except Conflict:
            metrics.ingest_batches.labels(kind, "conflict").inc()
            raise
        except PayloadTooLarge:
            metrics.ingest_batches.labels(kind, "too_large").inc()
            raise
        if isinstance(answer, EventsAccepted) and answer.duplicate:
            metrics.ingest_batches.labels(kind, "duplicate").inc()
        else:
            metrics.ingest_batches.labels(kind, "applied").inc()
            metrics.ingest_records.labels(kind).inc(answer.accepted)
        return answer

    return run


def _endpoint(kind: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def handle(request: Request) -> Response:
        state = state_of(request)
        body = await read_body(request, state.settings.max_ingest_bytes)
        counted = _counted(kind, handler, metrics_of(request))
        return json_response(await run_in_threadpool(counted, state, request, body))

    handle.__name__ = f"ingest_{kind}"
    return handle


ingest_users = _endpoint("users", _users)
ingest_tweets = _endpoint("tweets", _tweets)
ingest_events = _endpoint("events", _events)


routes = [
    Route("/ingest/users", ingest_users, methods=["POST"]),
    Route("/ingest/tweets", ingest_tweets, methods=["POST"]),
    Route("/ingest/events", ingest_events, methods=["POST"]),
]
