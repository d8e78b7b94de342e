"""The cooperative runner (PostgreSQL's read road on the event loop): a synchronous call runs
in a greenlet whose waits the loop awaits, while other calls go on; results, exceptions and the
caller's context pass through; at most ``limit`` calls at once per loop; and, on a real
PostgreSQL, a call waiting on the server never stops the loop, nor do more calls than the pool
has connections."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Iterator

import psycopg
import pytest

from engagement_api.store import open_store
from engagement_api.store.postgres import PostgresStore
from engagement_api.store.postgres.cooperative import (
    Cooperative,
    CooperativeConnection,
    cooperating,
    wait_for,
)

_WAITING = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
WHO: contextvars.ContextVar[str] = contextvars.ContextVar("who", default="nobody")


def test_a_call_gets_its_awaits_results_and_exceptions() -> None:
    runner = Cooperative(4)

    async def value(x: int) -> int:
        await asyncio.sleep(0)
        return x * 2

    async def fails() -> None:
        raise KeyError("from the loop")

    def call(x: int) -> tuple[bool, int, str, str]:
        got = wait_for(value(x))
        try:
            wait_for(fails())
        except KeyError as exc:
            caught = str(exc)
        return cooperating(), got, caught, WHO.get()

    async def main() -> None:
        WHO.set("caller")
        assert await runner.run(call, 21) == (True, 42, "'from the loop'", "caller")
        assert not cooperating()

        def broken() -> None:
            wait_for(value(1))
            raise ValueError("from the call")

        with pytest.raises(ValueError, match="from the call"):
            await runner.run(broken)

    asyncio.run(main())
    with pytest.raises(RuntimeError, match=r"Cooperative\.run"):
        wait_for(value(1))  # (not in a call: nothing to await it; the coroutine is not run)
    with pytest.raises(ValueError, match="at least 1"):
        Cooperative(0)


def test_calls_interleave_and_at_most_limit_run_at_once() -> None:
    runner = Cooperative(2)
    inside: list[int] = []
    most = 0
    order: list[str] = []

    def call(name: str, release: asyncio.Event) -> str:
        nonlocal most
        inside.append(1)
        most = max(most, len(inside))
        order.append(f"{name} waits")
        wait_for(release.wait())
        inside.pop()
        order.append(f"{name} done")
        return name

    async def main() -> list[str]:
        events = [asyncio.Event() for _ in range(5)]
        tasks = [
            asyncio.create_task(runner.run(call, str(i), event)) for i, event in enumerate(events)
        ]
        for _ in range(5):
            await asyncio.sleep(0)
        assert order == ["0 waits", "1 waits"]  # the gate holds the other three back
        for event in reversed(events):
            event.set()
            await asyncio.sleep(0)
        return list(await asyncio.gather(*tasks))

    assert asyncio.run(main()) == ["0", "1", "2", "3", "4"]
    assert most == 2


@pytest.fixture
def small_pool(pg_url: str) -> Iterator[PostgresStore]:
    store = open_store(pg_url + ("&" if "?" in pg_url else "?") + "pool_max=2")
    assert isinstance(store, PostgresStore)
    yield store
    store.close()


def test_a_call_waiting_on_postgresql_leaves_the_loop_to_others(
    small_pool: PostgresStore, pg_url: str
) -> None:
    """One call waits for an advisory lock that another connection holds; a second call runs
    to its end meanwhile, and only then is the lock let go: were the loop blocked by the first
    wait, the second could not run and the lock would never be let go (the test times out)."""
    holder = psycopg.connect(pg_url, autocommit=True)
    holder.execute("SELECT pg_advisory_lock(42)")
    done: list[str] = []

    def locker() -> None:
        # (were the loop blocked, the lock would time out and the order be wrong, not hang)
        timeout = "-c lock_timeout=20000"
        with CooperativeConnection.connect(pg_url, autocommit=True, options=timeout) as conn:
            conn.execute("SELECT pg_advisory_lock(42)")
            done.append("locker")

    def other() -> None:
        assert small_pool.count_request("ck", "totals", 1) == 2
        done.append("other")

    async def main() -> None:
        runner = small_pool.cooperative
        first = asyncio.create_task(runner.run(locker))
        for _ in range(3000):  # until the locker waits on the lock (30 s at most)
            await asyncio.sleep(0.01)
            if holder.execute(_WAITING).fetchone() == (1,):
                break
        assert small_pool.count_request("ck", "totals", 1) == 1
        await asyncio.wait_for(runner.run(other), 30)
        holder.execute("SELECT pg_advisory_unlock(42)")
        await asyncio.wait_for(first, 30)

    try:
        asyncio.run(main())
    finally:
        holder.close()
    assert done == ["other", "locker"]


def test_more_calls_than_connections_all_get_one(small_pool: PostgresStore) -> None:
    """16 calls at once on a pool of 2: the runner lets 2 in at a time, so a call that finds
    the pool empty never waits for a connection held by a call that cannot go on."""

    def call() -> int:
        return small_pool.count_request("ck", "28hr", 7)

    async def main() -> list[int]:
        runner = small_pool.cooperative
        return list(
            await asyncio.wait_for(asyncio.gather(*(runner.run(call) for _ in range(16))), 60)
        )

    assert sorted(asyncio.run(main())) == list(range(1, 17))
