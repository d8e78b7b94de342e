"""Store calls run on the event loop, their PostgreSQL waits awaited there (no worker thread).

The read road's store calls are plain synchronous code (the same that the CLI, ingest and
tests run). Handed to a worker thread, each read request paid for the hand-off and back (about
0.1 ms of CPU here, more than one of its statements). :meth:`Cooperative.run` runs such a call
in a greenlet on the event loop's thread instead: where psycopg would block on the socket
(:meth:`CooperativeConnection.wait`), the greenlet hands psycopg's own asyncio wait
(:func:`psycopg.waiting.wait_async`) to the event loop, which awaits it while it serves other
requests, then switches back with the result. Everywhere else (threads, the CLI) the same
connections block as usual.

A suspended call holds at most one connection of a pool (the store's calls take one, run their
statements and give it back), and a call that finds its pool empty blocks the loop's thread
until a connection comes back. So :meth:`Cooperative.run` lets at most ``limit`` calls run at
once per event loop: with ``limit`` no more than the pool's size, connections held by suspended
calls can never be all a waiting call needs (it waits only for a thread's, or a new one).
"""

from __future__ import annotations

import asyncio
import contextvars
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar, cast

import psycopg
from greenlet import getcurrent, greenlet
from psycopg import waiting
from psycopg.abc import PQGen
from psycopg.rows import TupleRow
from psycopg.waiting import Wait

T = TypeVar("T")


class _Call(greenlet):
    """A store call run by :meth:`Cooperative.run` (its greenlet's parent awaits for it)."""


def cooperating() -> bool:
    """Whether this code runs in a call of :meth:`Cooperative.run`."""
    return isinstance(getcurrent(), _Call)


def wait_for(awaitable: Awaitable[T]) -> T:
    """In a call of :meth:`Cooperative.run`: the event loop awaits ``awaitable`` (serving other
    requests meanwhile), and its result (or exception) comes back here."""
    parent = getcurrent().parent
    if not cooperating() or parent is None:
        if isinstance(awaitable, Coroutine):
            awaitable.close()  # (never to be awaited)
        raise RuntimeError("wait_for is for calls of Cooperative.run")
    return cast(T, parent.switch(awaitable))


class CooperativeConnection(psycopg.Connection[TupleRow]):
    """A psycopg connection whose waits on the server go through the event loop when it is used
    in a call of :meth:`Cooperative.run`, and block as usual everywhere else."""

    def wait(
        self,
        gen: PQGen[T],
        interval: float = 0.1,
        timeout: float | None = None,
    ) -> T:
        if not cooperating():
            return super().wait(gen, interval, timeout)
        try:  # (many finish without a wait: a commit in autocommit, say; no switch for them)
            first = next(gen)
        except StopIteration as done:
            return cast(T, done.value)
        resumed = _resumed(first, gen)
        return wait_for(
            waiting.wait_async(resumed, self.pgconn.socket, interval=interval, timeout=timeout)
        )


def _resumed(first: Wait, gen: PQGen[T]) -> PQGen[T]:
    """``gen``, of which ``first`` was taken already."""
    ready = yield first
    while True:
        try:
            state = gen.send(ready)
        except StopIteration as done:
            return cast(T, done.value)
        ready = yield state


class Cooperative:
    """Runs synchronous store calls on the running event loop, at most ``limit`` at once per
    loop (see the module's notes)."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self._gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    def _gate(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        gate = self._gates.get(loop)
        if gate is None:
            gate = self._gates[loop] = asyncio.Semaphore(self.limit)
        return gate

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)``, in a copy of the caller's context, its waits awaited by the loop."""
        async with self._gate():
            call = _Call(fn)
            call.gr_context = contextvars.copy_context()
            step: Any = call.switch(*args)
            while not call.dead:
                try:
                    result = await step
                except BaseException as exc:  # (cancellation included) raised where it waited
                    step = call.throw(exc)
                else:
                    step = call.switch(result)
            return cast(T, step)
