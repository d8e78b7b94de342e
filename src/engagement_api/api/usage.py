"""GET /usage?month=YYYY-MM: the signing app's usage for a calendar month (spec §8, ours).

Signed like the read endpoints (OAuth 1.0a, with or without an access token, or the app's
bearer token); answers ``{"app": <consumer key>, "month": "YYYY-MM", "users": N, "counted":
[{"id": "...", "handle": "..."}, ...]}``: ``users`` is the number of distinct users whose
access token signed a 200 on a read endpoint that asked for at least one Post they own, and
``counted`` lists them by ID (the billing unit is the @handle: a bill can be checked).
``month`` defaults to the current UTC month; a month that is not ``YYYY-MM``: 400. Not rate
limited (it is not one of the three endpoints).
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engagement_api.api.answers import CountedUser, Usage
from engagement_api.api.responses import json_response
from engagement_api.api.state import AppState, state_of
from engagement_api.contract.usage import month_of, parse_month


def _usage(state: AppState, request: Request) -> Usage:
    identity = state.authenticator.authenticate(
        request.method, str(request.url), request.headers, None
    )
    raw = request.query_params.get("month")
    month = month_of(state.settings.clock.now()) if raw is None else parse_month(raw)
    key = identity.app.consumer_key
    counted = [CountedUser(str(i), handle) for i, handle in state.meter.counted(key, month)]
    return Usage(app=key, month=month, users=len(counted), counted=counted)


async def usage(request: Request) -> Response:
    state = state_of(request)
    return json_response(await run_in_threadpool(_usage, state, request))


routes = [Route("/usage", usage, methods=["GET"])]
