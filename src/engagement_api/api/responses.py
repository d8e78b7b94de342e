"""JSON responses and the one place where errors become HTTP answers."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engagement_api.contract.errors import (
    ApiError,
    MethodNotAllowed,
    NotFound,
    ServiceUnavailable,
)
from engagement_api.store.protocols import StoreUnavailable

log = logging.getLogger("engagement_api.api")


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def json_response(
    content: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(content, status_code=status, headers=dict(headers or {}))


def error_response(error: ApiError, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return json_response({"errors": error.messages}, error.status, headers)


async def handle_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc, getattr(exc, "headers", None))


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error_response(NotFound(f"No such path: {request.url.path}"))
    if exc.status_code == 405:
        error = MethodNotAllowed(f"Method {request.method} is not allowed on {request.url.path}")
        return error_response(error, exc.headers)
    return json_response({"errors": [str(exc.detail)]}, exc.status_code)


async def handle_store_unavailable(request: Request, exc: Exception) -> Response:
    log.warning("store unavailable: %s", type(exc).__name__)
    return error_response(ServiceUnavailable())


EXCEPTION_HANDLERS = {
    ApiError: handle_api_error,
    HTTPException: handle_http_exception,
    StoreUnavailable: handle_store_unavailable,
}


class CatchAllMiddleware:
    """Turns any unexpected exception into the contract's 500 body (never a traceback).

    It sits inside the gzip middleware, so a 500 is gzipped like every other answer (Starlette's
    own handler for ``Exception`` runs outside all middleware)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            response = json_response({"errors": ["Internal server error"]}, 500)
            await response(scope, receive, send)
