"""The one place where errors become HTTP answers, every one the contract's
``{"errors": [...]}`` body:

- :class:`~engagement_api.contract.errors.ApiError` (the contract's 4xx/5xx): its status and
  messages, with its headers (``x-per-minute-*`` on 429);
- Starlette's 404 and 405: ``No such path``, ``Method ... is not allowed``;
- :class:`~engagement_api.store.errors.StoreUnavailable`, whatever the backend: 503
  ``Store unavailable`` (counted in ``engagement_api_store_errors``);
- anything else: 500 ``Internal server error``, logged, never a traceback
  (:class:`CatchAllMiddleware`).
"""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, ExceptionHandler, Message, Receive, Scope, Send

from engagement_api.api.answers import Error
from engagement_api.api.prometheus import metrics_of, route_template
from engagement_api.api.responses import error_response, json_response
from engagement_api.contract.errors import (
    ApiError,
    InternalError,
    MethodNotAllowed,
    NotFound,
    ServiceUnavailable,
)
from engagement_api.store.errors import StoreUnavailable

log = logging.getLogger("engagement_api.api")


async def handle_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc, getattr(exc, "headers", None))


def not_found(path: str) -> NotFound:
    return NotFound(f"No such path: {path}")


def method_not_allowed(method: str, path: str) -> MethodNotAllowed:
    return MethodNotAllowed(f"Method {method} is not allowed on {path}")


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error_response(not_found(request.url.path))
    if exc.status_code == 405:
        return error_response(method_not_allowed(request.method, request.url.path), exc.headers)
    return json_response(Error([str(exc.detail)]), exc.status_code)


async def handle_store_unavailable(request: Request, exc: Exception) -> Response:
    log.warning("store unavailable: %s", type(exc).__name__)
    metrics_of(request).store_errors.labels(route_template(request.scope)).inc()
    return error_response(ServiceUnavailable())


EXCEPTION_HANDLERS: dict[type[Exception], ExceptionHandler] = {
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
            response = error_response(InternalError())
            await response(scope, receive, send)
