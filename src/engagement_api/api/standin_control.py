"""The stand-in's control endpoints, under ``/_standin/``, without credentials (see
:mod:`engagement_api.api.standin`; only a stand-in has them):

- ``GET /_standin/info``: what ``engagement-api standin --json`` printed (credentials, Post IDs);
- ``GET|POST /_standin/clock``: the data clock; ``{"now": "..."}`` sets it,
  ``{"advance_seconds": N}`` moves it; answers ``{"now": "..."}``;
- ``GET|POST|DELETE /_standin/faults``: ``{"every": N, "fault": F}`` (the Nth, 2Nth, ... read or
  ingest request from now on) or ``{"next": K, "fault": F}`` (the next K); a new schedule
  replaces the old one, DELETE clears it; answers the schedule;
- ``GET|DELETE /_standin/requests``: the requests received, oldest first;
- ``POST /_standin/reset``: back to the seeded state (data, data clock, log, faults).

Bad bodies answer 400 with the contract's ``{"errors": [...]}``, naming the field.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engagement_api.api.errors import EXCEPTION_HANDLERS
from engagement_api.api.responses import json_response
from engagement_api.contract.errors import BadRequest
from engagement_api.contract.times import TimeFormatError, format_timestamp, parse_timestamp

if TYPE_CHECKING:
    from engagement_api.api.standin import StandinApp

FAULTS: Final = ("429", "500", "502", "503", "timeout", "reset")
#: The farthest one ``advance_seconds`` may move the data clock (100 years).
MAX_ADVANCE: Final = 100 * 366 * 86400


def check_fault(value: object, field_name: str) -> str:
    if not isinstance(value, str) or value not in FAULTS:
        raise BadRequest(f"{field_name} must be one of {', '.join(FAULTS)}, got {value!r}")
    return value


@dataclass
class FaultSchedule:
    """``every`` N: the Nth, 2Nth, ... counted request from when it was set; ``next`` K: the
    next K counted requests. One schedule at a time."""

    fault: str | None = None
    every: int = 0
    remaining: int = 0
    seen: int = 0

    def set(self, fault: str, *, every: int = 0, next_: int = 0) -> None:
        self.fault, self.every, self.remaining, self.seen = fault, every, next_, 0

    def clear(self) -> None:
        self.fault, self.every, self.remaining, self.seen = None, 0, 0, 0

    def take(self) -> str | None:
        """Count one request; the fault it gets, if any."""
        if self.fault is None:
            return None
        self.seen += 1
        if self.every:
            return self.fault if self.seen % self.every == 0 else None
        if self.remaining > 0:
            self.remaining -= 1
            return self.fault
        return None

    def describe(self) -> dict[str, object]:
        if self.fault is None:
            return {"fault": None}
        if self.every:
            return {"fault": self.fault, "every": self.every, "seen": self.seen}
        return {"fault": self.fault, "next": self.remaining}


async def _object(request: Request, allowed: set[str]) -> dict[str, Any]:
    raw = await request.body()
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadRequest("Request body must be a JSON object") from None
    if not isinstance(data, dict):
        raise BadRequest("Request body must be a JSON object")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise BadRequest([f"Unknown field: {name}" for name in unknown])
    return data


def _count(data: dict[str, Any], name: str) -> int:
    value = data[name]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BadRequest(f"{name} must be a whole number of at least 1, got {value!r}")
    return value


def control_app(standin: StandinApp) -> Starlette:
    """The control routes of one stand-in (an ASGI app of their own)."""

    def now() -> Response:
        return json_response({"now": format_timestamp(standin.clock.now())})

    async def info(request: Request) -> Response:
        base = str(request.base_url).rstrip("/")
        return json_response(standin.data.info(base))

    async def clock(request: Request) -> Response:
        if request.method == "GET":
            return now()
        data = await _object(request, {"now", "advance_seconds"})
        if len(data) != 1:
            raise BadRequest("Give exactly one of now, advance_seconds")
        if "now" in data:
            try:
                standin.clock.set(parse_timestamp(data["now"]))
            except TimeFormatError as exc:
                raise BadRequest(f"now {exc}") from None
            return now()
        seconds = data["advance_seconds"]
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            or not math.isfinite(seconds)
            or abs(seconds) > MAX_ADVANCE
        ):
            raise BadRequest(
                f"advance_seconds must be a number of seconds up to {MAX_ADVANCE} either way"
            )
        standin.clock.advance(timedelta(seconds=seconds))
        return now()

    async def faults(request: Request) -> Response:
        if request.method == "DELETE":
            standin.faults.clear()
        elif request.method == "POST":
            data = await _object(request, {"fault", "every", "next"})
            if "fault" not in data:
                raise BadRequest("fault is required")
            fault = check_fault(data["fault"], "fault")
            if ("every" in data) == ("next" in data):
                raise BadRequest("Give exactly one of every, next")
            if "every" in data:
                standin.faults.set(fault, every=_count(data, "every"))
            else:
                standin.faults.set(fault, next_=_count(data, "next"))
        return json_response(standin.faults.describe())

    async def requests(request: Request) -> Response:
        if request.method == "DELETE":
            standin.requests.clear()
        return json_response([entry.json() for entry in standin.requests])

    async def reset(request: Request) -> Response:
        standin.reset()
        return now()

    handlers: list[tuple[str, Callable[[Request], Any], list[str]]] = [
        ("/info", info, ["GET"]),
        ("/clock", clock, ["GET", "POST"]),
        ("/faults", faults, ["GET", "POST", "DELETE"]),
        ("/requests", requests, ["GET", "DELETE"]),
        ("/reset", reset, ["POST"]),
    ]
    app = Starlette(
        routes=[Route("/_standin" + path, fn, methods=m) for path, fn, m in handlers],
        exception_handlers=EXCEPTION_HANDLERS,
    )
    app.router.redirect_slashes = False
    return app
