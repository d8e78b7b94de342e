"""The asynchronous client (asyncio, ``httpx.AsyncClient``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Generator, Iterable, Sequence
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


class AsyncEngagementClient:
    """The async twin of :class:`~engagement_api.client.EngagementClient`: the same methods,
    awaited; pieces run concurrently, at most ``max_concurrency`` at a time."""

    def __init__(
        self,
        base_url: str | httpx.URL = DEFAULT_BASE_URL,
        *,
        auth: httpx.Auth | None = None,
        timeout: float | httpx.Timeout = 30.0,
        max_concurrency: int = 4,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        http: httpx.AsyncClient | None = None,
        headers: dict[str, str] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
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
        self._http = http or httpx.AsyncClient(
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

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncEngagementClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def totals(
        self,
        tweet_ids: Iterable[str | int],
        engagement_types: Sequence[str],
        groupings: GroupingsArg | None = None,
        *,
        drop_unowned: bool = False,
    ) -> Result:
        return await self._call(
            plan("totals", tweet_ids, engagement_types, groupings, drop_unowned=drop_unowned)
        )

    async def last_28_hours(
        self,
        tweet_ids: Iterable[str | int],
        engagement_types: Sequence[str],
        groupings: GroupingsArg | None = None,
        *,
        drop_unowned: bool = False,
    ) -> Result:
        return await self._call(
            plan("28hr", tweet_ids, engagement_types, groupings, drop_unowned=drop_unowned)
        )

    async def historical(
        self,
        tweet_ids: Iterable[str | int],
        engagement_types: Sequence[str],
        groupings: GroupingsArg | None = None,
        *,
        start: DateLike | None = None,
        end: DateLike | None = None,
        drop_unowned: bool = False,
    ) -> Result:
        return await self._call(
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

    async def request(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self._drive(exchange(endpoint, body, self.retry, self._timing))

    async def _drive(self, flow: Generator[Action, Outcome, T]) -> T:
        try:
            action = next(flow)
            while True:
                if isinstance(action, Send):
                    outcome: Outcome
                    try:
                        outcome = await self._send(action)
                    except httpx.TransportError as exc:
                        outcome = exc
                    action = flow.send(outcome)
                else:
                    await self._sleep(action.seconds)
                    action = flow.send(None)
        except StopIteration as stop:
            value: T = stop.value
            return value

    async def _send(self, action: Send) -> httpx.Response:
        request = build_request(self._http, self.base_url, action)
        response = await self._http.send(request)
        await response.aread()
        return response

    async def _call(self, run: Run) -> Result:
        gate = asyncio.Semaphore(self.max_concurrency)

        async def one(flow: Generator[Action, Outcome, None]) -> None:
            async with gate:
                await self._drive(flow)

        flows = [piece_flow(run, piece, self.retry, self._timing) for piece in run.pieces]
        tasks = [asyncio.ensure_future(one(flow)) for flow in flows]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return run.result()
