"""The three read endpoints: POST /insights/engagement/{totals,28hr,historical}."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engagement_api.api.body import Body, read_body
from engagement_api.api.responses import json_response
from engagement_api.api.state import AppState, state_of
from engagement_api.contract.metrics import Endpoint

PREFIX = "/insights/engagement"


def _answer(state: AppState, endpoint: Endpoint, request: Request, body: Body) -> object:
    """Runs in a worker thread: every step here may touch the store."""
    identity = state.authenticator.authenticate(
        request.method, str(request.url), request.headers, None if body.too_large else body.data
    )
    parsed = state.reader.parse(endpoint, body.check())
    return state.reader.answer(parsed, identity.user_id)


def _route(endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
    async def handle(request: Request) -> Response:
        state = state_of(request)
        body = await read_body(request, state.settings.max_body_bytes)
        answer = await run_in_threadpool(_answer, state, endpoint, request, body)
        return json_response(answer)

    handle.__name__ = f"engagement_{endpoint.name.lower()}"
    return handle


routes = [
    Route(PREFIX + endpoint.path, _route(endpoint), methods=["POST"]) for endpoint in Endpoint
]
