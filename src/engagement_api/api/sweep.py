"""The server's sweep of unfinished batch claims, when the counters live in ClickHouse: every
:data:`SWEEP_EVERY` seconds each server process writes and finishes the claims older than
``STALE_AFTER`` (of an ingester that crashed, or whose writes failed and was never retried), so
that no batch stays half applied for longer (docs/scaling.md). Several processes sweeping the
same claim count it once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool

from engagement_api.store.errors import StoreError
from engagement_api.store.protocols import PartedStore, Store

SWEEP_EVERY = 5.0

log = logging.getLogger("engagement_api.api")


async def sweep_once(store: PartedStore) -> int:
    """Finish the stale claims; how many (0, logged, when a part of the store is down)."""
    try:
        return await run_in_threadpool(store.finish_stale)
    except StoreError as exc:
        log.warning("unfinished batches wait: %s", type(exc).__name__)
        return 0


async def _sweep_forever(store: PartedStore, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        await sweep_once(store)


def lifespan(
    store: Store, every: float = SWEEP_EVERY
) -> Callable[[Starlette], contextlib.AbstractAsyncContextManager[None]]:
    """The app's lifespan: the sweep runs while it serves (only with a split store)."""

    @contextlib.asynccontextmanager
    async def run(app: Starlette) -> AsyncIterator[None]:
        task = None
        if isinstance(store, PartedStore):
            task = asyncio.create_task(_sweep_forever(store, every))
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    return run
