"""A model server for unit tests: answers the three endpoints from hourly counts, through
``httpx.MockTransport``, with the endpoint limits enforced (so that a client that sends too
much fails the test) and the policy rules the client reacts to (unavailable, unowned); and fake
time for the client's clocks and sleeps.

Grouping trees come from ``tests.support.model.tree``, the independent model of the API tests;
the same model answers the *whole* request (no limits), which is what the client's merge must
equal.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict

import httpx

from tests.support import NOW
from tests.support.model import hours_between, tree

HOUR = timedelta(hours=1)
MAX_IDS = {"totals": 250, "28hr": 25, "historical": 25}
MAX_SPAN = timedelta(days=28)


class Window(TypedDict):
    """A window as request bodies have it: ``start`` and ``end`` strings (see :func:`z`)."""

    start: str
    end: str


class FakeTime:
    """A monotonic clock and a wall clock that move only when the client sleeps."""

    def __init__(self, wall: float = NOW.timestamp()) -> None:
        self.mono = 0.0
        self.wall_start = wall
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.mono

    def wall(self) -> float:
        return self.wall_start + self.mono

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.mono += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


def floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def ceil_hour(moment: datetime) -> datetime:
    f = floor_hour(moment)
    return f if f == moment else f + HOUR


def parse(text: str) -> datetime:
    text = text.replace("Z", "+00:00")
    moment = datetime.fromisoformat(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def error(status: int, *messages: str, headers: Mapping[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"errors": list(messages)}, headers=headers)


@dataclass
class FakeServer:
    """Hourly counts per (post, metric, hour); every Post of ``owned`` belongs to the caller."""

    hourly: dict[tuple[int, str, datetime], int] = field(default_factory=dict)
    available: set[int] = field(default_factory=set)
    owned: set[int] | None = None  # None: the caller owns every available Post
    now: datetime = NOW
    #: Every request body the server answered (limits checked), in order.
    bodies: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    #: Queued answers to give before the model's (status or exception), for retry tests.
    script: list[httpx.Response | Exception] = field(default_factory=list)
    on_request: Callable[[httpx.Request], None] | None = None

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    # -- the model -----------------------------------------------------------------------------

    def window(self, endpoint: str, body: Mapping[str, Any]) -> tuple[datetime, datetime] | None:
        if endpoint == "totals":
            return None
        if endpoint == "28hr":
            return floor_hour(self.now) - 28 * HOUR, floor_hour(self.now) + HOUR
        start = floor_hour(parse(body["start"])) if body.get("start") else None
        end = ceil_hour(parse(body["end"])) if body.get("end") else None
        if start is None and end is None:
            end = ceil_hour(self.now)
        if start is None:
            assert end is not None
            start = end - MAX_SPAN
        if end is None:
            end = min(start + MAX_SPAN, ceil_hour(self.now))
        return start, end

    def answer(self, endpoint: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """What the model answers (no limits): the tree of every grouping, metadata."""
        ids = sorted({int(str(i).strip()) for i in body["tweet_ids"]})
        posts = [p for p in ids if p in self.available]
        gone = [p for p in ids if p not in self.available]
        metrics = list(dict.fromkeys(body["engagement_types"]))
        window = self.window(endpoint, body)
        out: dict[str, Any] = {}
        hours: list[datetime] | None = None
        if window is not None:
            out["start"], out["end"] = z(window[0]), z(window[1])
            hours = hours_between(*window)

        def series(post: int, metric: str) -> list[int]:
            if hours is None:
                return [sum(v for (p, m, _), v in self.hourly.items() if p == post and m == metric)]
            return [self.hourly.get((post, metric, h), 0) for h in hours]

        for name, spec in body["groupings"].items():
            out[name] = tree(spec["group_by"], posts, metrics, hours, series)
        if gone:
            out["errors"] = [f"{len(gone)} Tweet ID(s) are unavailable"]
            out["unavailable_tweet_ids"] = [str(p) for p in gone]
        return out

    # -- the transport -------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.on_request is not None:
            self.on_request(request)
        if self.script:
            scripted = self.script.pop(0)
            if isinstance(scripted, Exception):
                raise scripted
            return scripted
        endpoint = request.url.path.rsplit("/", 1)[1]
        assert request.url.path == f"/insights/engagement/{endpoint}", request.url
        body = json.loads(request.content)
        ids = {int(str(i).strip()) for i in body["tweet_ids"]}
        if len(ids) > MAX_IDS[endpoint]:
            return error(400, f"Too many Tweet IDs: {len(ids)} given")
        window = self.window(endpoint, body)
        if window is not None:
            start, end = window
            if not start < end or end - start > MAX_SPAN:
                return error(400, f"bad window {start} to {end}")
            if end > ceil_hour(self.now):
                return error(400, "end: in the future")
        self.bodies.append((endpoint, body))
        posts = sorted(p for p in ids if p in self.available)
        if not posts:
            return error(400, "Tweet ID(s) are unavailable")
        if self.owned is not None:
            unowned = [p for p in posts if p not in self.owned]
            if unowned:
                return error(403, "Forbidden to access tweets: " + ", ".join(map(str, unowned)))
        return httpx.Response(200, json=self.answer(endpoint, body))


def ids_from(start: int, count: int) -> list[int]:
    return list(range(start, start + count))


def whole(
    server: FakeServer,
    endpoint: str,
    ids: Iterable[int],
    types: list[str],
    groupings: Mapping[str, list[str]],
    **window: str,
) -> dict[str, Any]:
    """The model's answer to the whole request, as one unlimited request."""
    body: dict[str, Any] = {
        "tweet_ids": [str(i) for i in ids],
        "engagement_types": types,
        "groupings": {n: {"group_by": g} for n, g in groupings.items()},
        **window,
    }
    return server.answer(endpoint, body)
