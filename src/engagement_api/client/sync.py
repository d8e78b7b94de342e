"""The synchronous client."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from types import TracebackType
from typing import Any, TypeVar

import httpx

from engagement_api.client.core import (
    DEFAULT_BASE_URL,
    Action,
    Outcome,
    Run,
    Send,
    Timing,
    base_url_of,
    build_request,
    exchange,
    piece_flow,
    plan,
)
from engagement_api.client.plan import DateLike, GroupingsArg
from engagement_api.client.result import Result
from engagement_api.client.retry import RetryPolicy

T = TypeVar("T")


class EngagementClient:
    """A client for the three read endpoints, on one ``httpx.Client`` (connections reused).

    ``base_url`` includes the path prefix (``https://host/insights/engagement``); a URL with no
    path gets ``/insights/engagement``. Pieces of a split request run on up to
    ``max_concurrency`` threads. ``sleep``, ``monotonic``, ``wall_clock`` and ``random`` are
    injectable for tests; ``transport`` (e.g. ``httpx.MockTransport``) or a ready ``http``
    client replace the network.
    """

    def __init__(
        self,
        base_url: str | httpx.URL = DEFAULT_BASE_URL,
        *,
        auth: httpx.Auth | None = None,
        timeout: float | httpx.Timeout = 30.0,
        max_concurrency: int = 4,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        http: httpx.Client | None = None,
        headers: dict[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        random: Callable[[], float] | None = None,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.base_url = base_url_of(base_url)
        self.max_concurrency = max_concurrency
        self.retry = retry or RetryPolicy()
        self._owns_http = http is None
        self._http = http or httpx.Client(
            auth=auth,
            timeout=timeout,
            transport=transport,
            headers=headers,
            limits=httpx.Limits(max_connections=max(10, max_concurrency)),
        )
        if http is not None and auth is not None:
            self._http.auth = auth
        self._sleep = sleep
        self._timing = Timing(monotonic, wall_clock)
        if random is not None:
            self._timing.random = random

    # -- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> EngagementClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the three endpoints -------------------------------------------------------------------

    def totals(
        self,
        tweet_ids: Iterable[str | int],
        engagement_types: Sequence[str],
        groupings: GroupingsArg | None = None,
        *,
        drop_unowned: bool = False,
    ) -> Result:
        """Lifetime totals of any number of Posts (250 per request)."""
        return self._call(
            plan("totals", tweet_ids, engagement_types, groupings, drop_unowned=drop_unowned)
        )

    def last_28_hours(
        self,
        tweet_ids: Iterable[str | int],
        engagement_types: Sequence[str],
        groupings: GroupingsArg | None = None,
        *,
        drop_unowned: bool = False,
    ) -> Result:
        """The last 28 hours (plus the current one) of any number of Posts (25 per request)."""
        return self._call(
            plan("28hr", tweet_ids, engagement_types, groupings, drop_unowned=drop_unowned)
        )

    def historical(
        self,
        tweet_ids: Iterable[str | int],
        engagement_types: Sequence[str],
        groupings: GroupingsArg | None = None,
        *,
        start: DateLike | None = None,
        end: DateLike | None = None,
        drop_unowned: bool = False,
    ) -> Result:
        """Any range of any number of Posts: 25 IDs and 28 days per request, merged."""
        return self._call(
            plan(
                "historical",
                tweet_ids,
                engagement_types,
                groupings,
                start=start,
                end=end,
                drop_unowned=drop_unowned,
                now=self._timing.now(),
            )
        )

    def request(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        """One raw request (no splitting, no merging), with retries; the 200 body."""
        return self._drive(exchange(endpoint, body, self.retry, self._timing))

    # -- driving -------------------------------------------------------------------------------

    def _drive(self, flow: Generator[Action, Outcome, T]) -> T:
        try:
            action = next(flow)
            while True:
                if isinstance(action, Send):
                    outcome: Outcome
                    try:
                        outcome = self._send(action)
                    except httpx.TransportError as exc:
                        outcome = exc
                    action = flow.send(outcome)
                else:
                    self._sleep(action.seconds)
                    action = flow.send(None)
        except StopIteration as stop:
            value: T = stop.value
            return value

    def _send(self, action: Send) -> httpx.Response:
        request = build_request(self._http, self.base_url, action)
        response = self._http.send(request)
        response.read()
        return response

    def _call(self, run: Run) -> Result:
        flows = [piece_flow(run, piece, self.retry, self._timing) for piece in run.pieces]
        if len(flows) == 1 or self.max_concurrency == 1:
            for flow in flows:
                self._drive(flow)
            return run.result()
        with ThreadPoolExecutor(max_workers=self.max_concurrency) as pool:
            futures = [pool.submit(self._drive, flow) for flow in flows]
            done, pending = wait(futures, return_when=FIRST_EXCEPTION)
            for future in pending:
                future.cancel()
            for future in futures:
                if future in done and future.exception() is not None:
                    raise future.exception()  # type: ignore[misc]  # not None: checked above
            for future in futures:
                future.result()
        return run.result()
