"""Health: /healthz says the process is up; /readyz says the store answers with a current schema."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engagement_api.api.answers import HEALTHY, unavailable
from engagement_api.api.responses import json_response
from engagement_api.api.state import state_of
from engagement_api.contract.errors import ServiceUnavailable
from engagement_api.store.errors import SchemaError, StoreError


async def healthz(request: Request) -> Response:
    return json_response(HEALTHY)


async def readyz(request: Request) -> Response:
    store = state_of(request).store

    def check() -> None:
        store.ping()
        store.check_schema()

    try:
        await run_in_threadpool(check)
    except SchemaError as exc:
        return json_response(unavailable(str(exc)), 503)
    except StoreError:
        return json_response(unavailable(*ServiceUnavailable().messages), 503)
    return json_response(HEALTHY)


routes = [Route("/healthz", healthz, methods=["GET"]), Route("/readyz", readyz, methods=["GET"])]
