"""Rate-limit counts and usage in the store, on every backend (real databases)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from engagement_api.store import Store, open_store
from tests.support import SINGLE_DATABASE, backends

# What this module tests is the catalog's alone: the ClickHouse configuration runs the same code
# on its PostgreSQL catalog.
backend = backends(SINGLE_DATABASE)

MINUTE = 29_928_270  # 2026-11-26 12:30 UTC, in minutes since the epoch


def test_counts_are_per_app_endpoint_and_minute(store: Store) -> None:
    assert [store.count_request("a", "totals", MINUTE) for _ in range(3)] == [1, 2, 3]
    assert store.count_request("a", "28hr", MINUTE) == 1
    assert store.count_request("b", "totals", MINUTE) == 1
    assert store.count_request("a", "totals", MINUTE + 1) == 1
    assert store.count_request("a", "totals", MINUTE + 1) == 2


def test_the_first_request_of_a_minute_drops_older_minutes_of_its_app_and_endpoint(
    store: Store,
) -> None:
    for key, endpoint in (("a", "totals"), ("a", "28hr"), ("b", "totals")):
        for minute in (MINUTE, MINUTE + 1):
            store.count_request(key, endpoint, minute)
            store.count_request(key, endpoint, minute)
    assert store.count_request("a", "totals", MINUTE + 2) == 1  # prunes ("a", "totals") < +1
    assert store.count_request("a", "totals", MINUTE + 1) == 3  # the minute before is kept
    assert store.count_request("a", "totals", MINUTE) == 1  # gone: counting starts again
    assert store.count_request("a", "28hr", MINUTE) == 3  # other endpoint kept
    assert store.count_request("b", "totals", MINUTE) == 3  # other app kept


def test_concurrent_counts_from_two_store_instances_are_each_seen_once(store: Store) -> None:
    """Two instances on one database stand in for two server processes: every increment is
    atomic, so the answers are exactly 1..N, each once."""
    others = [open_store(store.url) for _ in range(2)]
    start = threading.Barrier(8)

    def hit(i: int) -> list[int]:
        mine = others[i % 2]
        start.wait(timeout=30)
        return [mine.count_request("app", "totals", MINUTE) for _ in range(25)]

    try:
        with ThreadPoolExecutor(8) as pool:
            seen = sorted(n for counts in pool.map(hit, range(8)) for n in counts)
    finally:
        for other in others:
            other.close()
    assert seen == list(range(1, 201))


def test_usage_counts_distinct_users_per_app_and_month(store: Store) -> None:
    assert store.usage("a", "2026-11") == 0
    assert store.record_usage("a", "2026-11", 42) is True
    assert store.record_usage("a", "2026-11", 42) is False  # idempotent
    assert store.record_usage("a", "2026-11", 2**64 - 1) is True  # the largest ID there is
    assert store.record_usage("a", "2026-12", 42) is True
    assert store.record_usage("b", "2026-11", 42) is True
    assert store.usage("a", "2026-11") == 2
    assert store.usage("a", "2026-12") == 1
    assert store.usage("b", "2026-11") == 1
    assert store.usage("b", "2026-10") == 0
    assert store.usage("nope", "2026-11") == 0


def test_usage_users_are_listed_by_unsigned_id(store: Store) -> None:
    """IDs are stored signed: 2**64 - 1 sorts last, as the number it is, not as -1."""
    for user in (2**64 - 1, 7, 2**63, 42):
        store.record_usage("a", "2026-11", user)
    store.record_usage("a", "2026-10", 3)
    store.record_usage("b", "2026-11", 5)
    assert store.usage_users("a", "2026-11") == [7, 42, 2**63, 2**64 - 1]
    assert store.usage_users("a", "2026-12") == []


def test_concurrent_records_of_one_user_count_once(store: Store) -> None:
    others = [open_store(store.url) for _ in range(2)]
    start = threading.Barrier(6)

    def record(i: int) -> list[bool]:
        start.wait(timeout=30)
        return [others[i % 2].record_usage("a", "2026-11", user) for user in range(20)]

    try:
        with ThreadPoolExecutor(6) as pool:
            results = [r for rs in pool.map(record, range(6)) for r in rs]
    finally:
        for other in others:
            other.close()
    assert results.count(True) == 20
    assert store.usage("a", "2026-11") == 20
