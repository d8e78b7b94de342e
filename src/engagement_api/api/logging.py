"""Structured request logs: one JSON line per HTTP request on the ``engagement_api.access`` logger.

Fields: ``ts`` (UTC, ISO 8601), ``method``, ``route`` (the route template, ``<unmatched>`` for
unknown paths), ``path`` (without the query string), ``status``, ``duration_ms``, ``app`` (the
consumer key of the app whose credentials were proven, else null), ``auth`` (``oauth1_user``,
``oauth1_app``, ``bearer``, ``ingest`` or null) and ``client`` (the client's address, as uvicorn
sees it: behind a trusted proxy, the forwarded one).

Never logged: headers, query strings, bodies, signatures, nonces, tokens, secrets or ingest
keys. A route whose path carries a secret (``{token}``: the dashboard's one-time sign-in link)
is logged by its template, never by its path. The consumer key is an identifier, not a secret
(it travels in clear in every OAuth header). The ``serve`` command sends this logger to
standard output, one line per request, and turns uvicorn's own access log off (it would log
query strings).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from engagement_api.api.prometheus import StatusRecorder, route_template
from engagement_api.auth import Authenticator
from engagement_api.auth.authenticator import Claim
from engagement_api.auth.identity import Identity
from engagement_api.domain import App

ACCESS_LOGGER: Final = "engagement_api.access"


@dataclass
class RequestNote:
    """What the handler learns about the caller, for the log line (mutable: the handler runs in
    a worker thread with a copy of the context, which still points at this same object)."""

    app: str | None = None
    auth: str | None = None


_note: ContextVar[RequestNote | None] = ContextVar("engagement_api_request_note", default=None)


def note_caller(app: str | None, auth: str) -> None:
    note = _note.get()
    if note is not None:
        note.app = app
        note.auth = auth


class LoggingAuthenticator(Authenticator):
    """The authenticator, noting each proven caller for the request's log line."""

    def admitted(self, claim: Claim, app: App | None, fresh: bool) -> Identity:
        identity = super().admitted(claim, app, fresh)
        note_caller(identity.app.consumer_key, identity.scheme)
        return identity

    def authenticate_ingest(self, headers: Mapping[str, str]) -> None:
        super().authenticate_ingest(headers)
        note_caller(None, "ingest")


def _client(scope: Scope) -> str | None:
    client = scope.get("client")
    if client:
        return str(client[0])
    return None


class AccessLogMiddleware:
    """Writes one JSON line per HTTP request when its answer is complete."""

    def __init__(self, app: ASGIApp, logger: logging.Logger | None = None) -> None:
        self.app = app
        self.logger = logger or logging.getLogger(ACCESS_LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        note = RequestNote()
        token = _note.set(note)
        started = time.perf_counter()
        recorder = StatusRecorder(send)
        try:
            await self.app(scope, receive, recorder)
        finally:
            _note.reset(token)
            if self.logger.isEnabledFor(logging.INFO):
                self.logger.info(
                    "%s",
                    line(scope, recorder.status, (time.perf_counter() - started) * 1000.0, note),
                )


#: A path parameter that is a secret: such a route's path is logged as its template.
SECRET_PARAMETER: Final = "{token}"  # noqa: S105 (a parameter's name, not a secret)


def line(scope: Scope, status: int, duration_ms: float, note: RequestNote) -> str:
    route = route_template(scope)
    path = route if SECRET_PARAMETER in route else str(scope.get("path", ""))[:512]
    record: dict[str, Any] = {
        "ts": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "method": scope.get("method"),
        "route": route,
        "path": path,
        "status": status,
        "duration_ms": round(duration_ms, 3),
        "app": note.app,
        "auth": note.auth,
        "client": _client(scope),
    }
    return orjson.dumps(record).decode()


def access_log_config(level: str) -> dict[str, Any]:
    """``logging.config.dictConfig`` entries for the access logger (``serve`` adds them to
    uvicorn's configuration, so every worker process logs the same way)."""
    return {
        "formatters": {"engagement_api_json": {"format": "%(message)s"}},
        "handlers": {
            "engagement_api_access": {
                "class": "logging.StreamHandler",
                "formatter": "engagement_api_json",
                "stream": "ext://sys.stdout",
            }
        },
        "loggers": {
            ACCESS_LOGGER: {
                "handlers": ["engagement_api_access"],
                "level": level.upper(),
                "propagate": False,
            }
        },
    }
