"""The stand-in: the real app over a seeded store, a data clock that moves only when told, and
control endpoints under ``/_standin/`` (no credentials), for client test suites.

:class:`StandinApp` is an ASGI app that wraps :func:`~engagement_api.api.app.create_app`'s:

- ``/_standin/*`` is answered here (:mod:`engagement_api.api.standin_control`); a normal
  server has no such routes (404 whatever the headers), since only this wrapper has them;
- every other request is recorded (``GET /_standin/requests``) and, when a fault is due, answered
  with the fault instead of being passed on (nothing is counted, recorded or loaded then);
- the data clock (:class:`~engagement_api.clock.ManualClock`) is every time rule's "now";
  OAuth 1.0a timestamps and nonces are checked against the wall clock (``auth_clock``), since
  real clients sign with the real time.

Faults: ``429``, ``500``, ``502``, ``503`` answer the server's own error bodies (429 with its
``x-per-minute-*`` headers); ``timeout`` holds the request ``X-Standin-Delay`` seconds (30 by
default, less when the client gives up first) and closes the connection without an answer;
``reset`` closes it at once (a TCP reset). Closing without an answer needs the connection
itself: the app must be served by uvicorn and be the outermost app (it takes the transport from
uvicorn's ``send``; elsewhere those two faults answer 500).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final

from oauthlib.oauth1.rfc5849 import utils as oauth_utils
from starlette.datastructures import Headers
from starlette.types import Message, Receive, Scope, Send

from engagement_api.api.app import create_app
from engagement_api.api.reading import PREFIX
from engagement_api.api.responses import error_response
from engagement_api.api.standin_control import FaultSchedule, check_fault, control_app
from engagement_api.auth import headers as hdr
from engagement_api.auth.secrets import hash_secret
from engagement_api.clock import ManualClock, SystemClock
from engagement_api.contract.errors import (
    ApiError,
    BadGateway,
    BadRequest,
    InternalError,
    RateLimited,
    ServiceUnavailable,
)
from engagement_api.contract.ratelimit import RateLimit, minute_of
from engagement_api.service.standin import RATE_LIMIT, SeededStandin, StandinData
from engagement_api.settings import Settings
from engagement_api.store.protocols import Store

CONTROL_PREFIX: Final = "/_standin"
FAULT_HEADER: Final = "x-standin-fault"
DELAY_HEADER: Final = "x-standin-delay"
#: How long ``timeout`` holds a request without ``X-Standin-Delay``, in seconds.
DEFAULT_DELAY: Final = 30.0
MAX_DELAY: Final = 3600.0


def counted_path(path: str) -> bool:
    """The read and ingest endpoints: the requests a fault schedule counts."""
    return path.startswith(PREFIX + "/") or path.startswith("/ingest/")


@dataclass
class Caller:
    auth: str
    app: str | None


def caller_of(headers: Headers, path: str, store: Store) -> Caller:
    """What the request's ``Authorization`` carried (not whether it was accepted): ``oauth_user``
    or ``oauth_app`` with the consumer key it names, ``bearer`` with the app whose token it is
    (null if none), ``ingest`` (a bearer on ``/ingest/*``) or ``none``."""
    scheme, rest = hdr.split_scheme(hdr.authorization(headers) or "")
    if scheme == "oauth":
        params: dict[str, str] = {}
        for item in oauth_utils.parse_http_list(rest):
            name, _, value = item.partition("=")
            params[name.strip()] = oauth_utils.unescape(value.strip().strip('"'))
        kind = "oauth_user" if params.get("oauth_token") else "oauth_app"
        return Caller(kind, params.get("oauth_consumer_key"))
    if scheme == "bearer":
        if path.startswith("/ingest/"):
            return Caller("ingest", None)
        app = store.app_by_bearer(hash_secret(rest)) if rest.isascii() else None
        return Caller("bearer", None if app is None else app.consumer_key)
    return Caller("none", None)


@dataclass
class RecordedRequest:
    method: str
    path: str
    auth: str
    app: str | None
    body: str
    status: int | None = None
    fault: str | None = None

    def json(self) -> dict[str, object]:
        return {
            "method": self.method,
            "path": self.path,
            "auth": self.auth,
            "app": self.app,
            "body": self.body,
            "status": self.status,
            "fault": self.fault,
        }


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client went away
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _fault_error(fault: str, clock: ManualClock) -> tuple[ApiError, dict[str, str]]:
    if fault == "429":
        limit = RateLimit(RATE_LIMIT, RATE_LIMIT + 1, minute_of(clock.now()))
        return RateLimited(), limit.headers()
    if fault == "500":
        return InternalError(), {}
    if fault == "502":
        return BadGateway(), {}
    return ServiceUnavailable(), {}


def _delay_of(headers: Headers) -> float:
    raw = headers.get(DELAY_HEADER)
    if raw is None:
        return DEFAULT_DELAY
    try:
        delay = float(raw)
    except ValueError:
        delay = -1.0
    if not 0 <= delay <= MAX_DELAY:
        raise BadRequest(f"X-Standin-Delay must be a number of seconds from 0 to {MAX_DELAY:g}")
    return delay


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def _drop_connection(send: Send, reset: bool) -> bool:
    """Close the connection under this request without an answer (uvicorn only: its ``send`` is
    a method of the request's cycle, which holds the transport). False when it cannot."""
    cycle: Any = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None or not hasattr(cycle, "disconnected"):
        return False
    if reset:  # SO_LINGER 0: close() sends a RST instead of a FIN
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    cycle.disconnected = True  # uvicorn then sends nothing more for this request
    transport.abort() if reset else transport.close()
    return True


@dataclass
class StandinApp:
    """The stand-in's ASGI app; ``data`` is what a client needs (credentials, Post IDs)."""

    seeded: SeededStandin
    settings: Settings = field(default_factory=Settings)
    clock: ManualClock = field(init=False)
    faults: FaultSchedule = field(default_factory=FaultSchedule)
    requests: list[RecordedRequest] = field(default_factory=list)
    _inner: Any = field(init=False, repr=False)
    _store: Store = field(init=False, repr=False)
    _control: Callable[[Scope, Receive, Send], Awaitable[None]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.clock = ManualClock(self.seeded.data.now)
        self.settings = self.settings.with_(clock=self.clock, auth_clock=SystemClock())
        self._store = self.seeded.fresh()
        self._inner = create_app(self.settings.with_(database_url=self._store.url), self._store)
        self._control = control_app(self)

    @property
    def data(self) -> StandinData:
        return self.seeded.data

    def reset(self) -> None:
        """Back to the seeded state: data, data clock, request log, fault schedule."""
        old = self._store
        self._store = self.seeded.fresh()
        self._inner = create_app(self.settings.with_(database_url=self._store.url), self._store)
        self.seeded.discard(old)
        self.clock.set(self.seeded.data.now)
        self.faults.clear()
        self.requests.clear()

    def close(self) -> None:
        self.seeded.discard(self._store)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._inner(scope, receive, send)
            return
        path: str = scope["path"]
        if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
            await self._control(scope, receive, send)
            return
        headers = Headers(scope=scope)
        body = await _read_body(receive)
        caller = caller_of(headers, path, self._store)
        entry = RecordedRequest(
            scope["method"], path, caller.auth, caller.app, body.decode("utf-8", "replace")
        )
        self.requests.append(entry)
        try:
            fault = self._fault_for(headers, path)
            delay = _delay_of(headers) if fault == "timeout" else 0.0
        except ApiError as exc:
            entry.status = exc.status
            await error_response(exc)(scope, receive, send)
            return
        if fault is None:
            await self._inner(scope, _replay(body, receive), self._recording(entry, send))
            return
        entry.fault = fault
        if fault in ("timeout", "reset"):
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(_until_disconnect(receive), delay)
            if _drop_connection(send, reset=fault == "reset"):
                return
            fault = "500"  # not on uvicorn: the nearest thing
        error, extra = _fault_error(fault, self.clock)
        entry.status = error.status
        await error_response(error, extra)(scope, receive, send)

    def _fault_for(self, headers: Headers, path: str) -> str | None:
        asked = headers.get(FAULT_HEADER)
        scheduled = self.faults.take() if counted_path(path) else None
        if asked is not None:
            return check_fault(asked.strip(), "X-Standin-Fault")
        return scheduled

    @staticmethod
    def _recording(entry: RecordedRequest, send: Send) -> Send:
        async def recording(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry.status = int(message["status"])
            await send(message)

        return recording
