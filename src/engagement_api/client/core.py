"""What the sync and async clients share: the pieces of a request, each piece's conversation
with the server (retries, unowned IDs, wholly unavailable pieces) as a sans-I/O generator, and
the final merge. The clients only send requests and sleep."""

from __future__ import annotations

import random as _random
import threading
import time
from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from engagement_api.client.errors import (
    UNAVAILABLE_MESSAGE,
    ForbiddenError,
    RateLimitedError,
    TransportError,
    ValidationError,
    error_for,
)
from engagement_api.client.merge import merge, sorted_ids
from engagement_api.client.plan import (
    MAX_IDS,
    DateLike,
    GroupingsArg,
    chunks,
    normalise_groupings,
    normalise_ids,
    split_range,
)
from engagement_api.client.result import Result
from engagement_api.client.retry import RetryPolicy

PREFIX = "/insights/engagement"
DEFAULT_BASE_URL = "http://127.0.0.1:8000" + PREFIX


def base_url_of(url: str | httpx.URL) -> httpx.URL:
    """The base URL, ``/insights/engagement`` added when it has no path at all."""
    parsed = httpx.URL(str(url))
    path = parsed.path.rstrip("/")
    return parsed.copy_with(path=(path or PREFIX) + "/")


@dataclass(frozen=True)
class Send:
    endpoint: str
    body: dict[str, Any]


@dataclass(frozen=True)
class Sleep:
    seconds: float


Action = Send | Sleep
Outcome = httpx.Response | httpx.TransportError | None


@dataclass
class Piece:
    """One request of a split: a chunk of IDs and (on /historical) one window."""

    endpoint: str
    ids: list[str]
    body: dict[str, Any]
    index: int = 0


@dataclass
class Run:
    """The state of one (possibly split) call, shared by its pieces."""

    endpoint: str
    groupings: dict[str, dict[str, list[str]]]
    pieces: list[Piece]
    drop_unowned: bool
    #: (piece index, answer): merged in piece order, whatever order they arrived in.
    answers: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)
    dropped: set[str] = field(default_factory=set)
    last_forbidden: ForbiddenError | None = None
    last_unavailable: ValidationError | None = None
    requests: int = 0
    #: Pieces of a sync call run on threads: their updates of this state go through it.
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def result(self) -> Result:
        if not self.answers:
            if self.last_unavailable is not None:
                raise self.last_unavailable
            if self.last_forbidden is not None:
                raise self.last_forbidden
        return Result(
            endpoint=self.endpoint,
            groupings=self.groupings,
            merged=merge(
                [a for _, a in sorted(self.answers, key=lambda ia: ia[0])],
                self.groupings,
                self.unavailable,
            ),
            dropped_tweet_ids=sorted_ids(self.dropped),
            requests=self.requests,
        )


@dataclass
class Timing:
    """Injectable time: ``sleep`` is supplied by each client (sync or async)."""

    monotonic: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    random: Callable[[], float] = _random.random

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.wall(), UTC)


def plan(
    endpoint: str,
    tweet_ids: Iterable[str | int],
    engagement_types: Sequence[str],
    groupings: GroupingsArg | None,
    *,
    start: DateLike | None = None,
    end: DateLike | None = None,
    drop_unowned: bool = False,
    now: datetime | None = None,
) -> Run:
    if isinstance(engagement_types, str):
        raise TypeError("engagement_types must be a list of names, not a string")
    if isinstance(tweet_ids, str | int):
        raise TypeError("tweet_ids must be a list of IDs, not a single value")
    ids = normalise_ids(tweet_ids)
    if not ids:
        raise ValueError("give at least one Tweet ID")
    shaped = normalise_groupings(groupings)
    windows = split_range(start, end, now or datetime.now(UTC)) if endpoint == "historical" else []
    pieces: list[Piece] = []
    for chunk in chunks(ids, MAX_IDS[endpoint]):
        base: dict[str, Any] = {
            "tweet_ids": chunk,
            "engagement_types": list(engagement_types),
            "groupings": shaped,
        }
        if not windows:
            pieces.append(Piece(endpoint, chunk, base))
        for window in windows:
            body = dict(base)
            if window.start is not None:
                body["start"] = window.start
            if window.end is not None:
                body["end"] = window.end
            pieces.append(Piece(endpoint, chunk, body))
    for index, piece in enumerate(pieces):
        piece.index = index
    return Run(endpoint, shaped, pieces, drop_unowned)


def exchange(
    endpoint: str, body: dict[str, Any], policy: RetryPolicy, timing: Timing
) -> Generator[Action, Outcome, dict[str, Any]]:
    """One request with its retries: yields Send/Sleep, returns the 200 body or raises."""
    started = timing.monotonic()
    failures = 0
    while True:
        outcome = yield Send(endpoint, body)
        error: Exception
        if isinstance(outcome, httpx.Response):
            if outcome.status_code == 200:
                answer: dict[str, Any] = outcome.json()
                return answer
            error = error_for(outcome)
            if outcome.status_code not in policy.statuses:
                raise error
        elif isinstance(outcome, httpx.TransportError):
            error = TransportError(f"{type(outcome).__name__}: {outcome}", outcome)
        else:  # pragma: no cover - drivers always answer a Send
            raise RuntimeError("no outcome for a request")
        failures += 1
        if failures >= policy.max_attempts:
            raise error
        reset = error.reset if isinstance(error, RateLimitedError) else None
        wait = (
            policy.rate_limit_wait(reset, timing.wall(), timing.random)
            if reset is not None
            else policy.backoff(failures, timing.random)
        )
        if timing.monotonic() + wait - started > policy.max_total:
            raise error
        yield Sleep(wait)


def piece_flow(
    run: Run, piece: Piece, policy: RetryPolicy, timing: Timing
) -> Generator[Action, Outcome, None]:
    """One piece: its request, minus unowned IDs when asked to drop them."""
    ids = list(piece.ids)
    while True:
        with run.lock:
            ids = [i for i in ids if i not in run.dropped]
        if not ids:
            return
        body = {**piece.body, "tweet_ids": ids}
        try:
            answer = yield from exchange(piece.endpoint, body, policy, timing)
        except ForbiddenError as exc:
            named = set(exc.forbidden_tweet_ids) & set(ids)
            if not run.drop_unowned or not named:
                raise
            with run.lock:
                run.dropped.update(named)
                run.last_forbidden = exc
            continue
        except ValidationError as exc:
            if exc.messages != [UNAVAILABLE_MESSAGE]:
                raise
            # One big request would list these as unavailable next to the other Posts.
            with run.lock:
                run.unavailable.extend(ids)
                run.last_unavailable = exc
            return
        with run.lock:
            run.answers.append((piece.index, answer))
            run.requests += 1
        return


def build_request(
    http: httpx.Client | httpx.AsyncClient, base: httpx.URL, send: Send
) -> httpx.Request:
    return http.build_request(
        "POST",
        base.join(send.endpoint),
        json=send.body,
        headers={"Accept-Encoding": "gzip", "Content-Type": "application/json"},
    )
