"""The write endpoints: POST /ingest/users, /ingest/tweets, /ingest/events.

Authenticated with an ingest key (``Authorization: Bearer <ingest key>``), never with API
credentials. Bodies are NDJSON (``application/x-ndjson``) or a JSON array
(``application/json``); CSV (``text/csv``) is accepted too.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engagement_api.api.body import Body, read_body
from engagement_api.api.responses import json_response
from engagement_api.api.state import AppState, state_of
from engagement_api.ingest import Format, detect_format


def _format(request: Request, data: bytes) -> Format:
    return detect_format(request.headers.get("content-type"), None, data)


def _users(state: AppState, request: Request, body: Body) -> dict[str, object]:
    state.authenticator.authenticate_ingest(request.headers)
    data = body.check()
    return {"accepted": state.loader.load_users(data, _format(request, data))}


def _tweets(state: AppState, request: Request, body: Body) -> dict[str, object]:
    state.authenticator.authenticate_ingest(request.headers)
    data = body.check()
    return {"accepted": state.loader.load_tweets(data, _format(request, data))}


def _events(state: AppState, request: Request, body: Body) -> dict[str, object]:
    state.authenticator.authenticate_ingest(request.headers)
    data = body.check()
    result = state.loader.load_events(
        data, _format(request, data), request.headers.get("idempotency-key", "")
    )
    return {"accepted": result.accepted, "duplicate": result.duplicate}


async def ingest_users(request: Request) -> Response:
    state = state_of(request)
    body = await read_body(request, state.settings.max_ingest_bytes)
    return json_response(await run_in_threadpool(_users, state, request, body))


async def ingest_tweets(request: Request) -> Response:
    state = state_of(request)
    body = await read_body(request, state.settings.max_ingest_bytes)
    return json_response(await run_in_threadpool(_tweets, state, request, body))


async def ingest_events(request: Request) -> Response:
    state = state_of(request)
    body = await read_body(request, state.settings.max_ingest_bytes)
    return json_response(await run_in_threadpool(_events, state, request, body))


routes = [
    Route("/ingest/users", ingest_users, methods=["POST"]),
    Route("/ingest/tweets", ingest_tweets, methods=["POST"]),
    Route("/ingest/events", ingest_events, methods=["POST"]),
]
