"""PostgreSQL-only behaviour: partitions, many writers at once, outages, schema versions.

The backend-neutral expectations are in test_store.py, which runs against PostgreSQL too.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import psycopg
import pytest

from engagement_api.contract.metrics import METRICS
from engagement_api.domain import PostRecord, User
from engagement_api.store import (
    IdempotencyConflict,
    Store,
    StoreError,
    StoreUnavailable,
    open_store,
)
from engagement_api.store.errors import SchemaError
from engagement_api.store.migrations import migrations_for
from engagement_api.store.postgres import PostgresStore
from engagement_api.store.postgres.partitions import SPAN, bounds, partition_name
from engagement_api.store.postgres.pool import parse_url
from tests.store import pgworkers
from tests.support import NOW
from tests.support.pg import PgServer, SharedCluster
from tests.support.processes import ignore_sigint

FAV = METRICS["favorites"].code
VV = METRICS["video_views"].code


@pytest.fixture
def pg(pg_url: str) -> Iterator[Store]:
    store = open_store(pg_url)
    yield store
    store.close()


def _partitions(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'counts_hourly'::regclass ORDER BY 1"
        ).fetchall()
    return [r[0] for r in rows]


def _spawn() -> multiprocessing.context.SpawnContext:
    return multiprocessing.get_context("spawn")


# -- URLs ------------------------------------------------------------------------------------


def test_url_pool_settings_are_taken_out_and_the_rest_goes_to_libpq() -> None:
    settings = parse_url(
        "postgresql://u@h:5/db?pool_min=2&pool_max=3&pool_timeout=1.5"
        "&statement_timeout_ms=100&sslmode=disable"
    )
    assert settings.conninfo == "postgresql://u@h:5/db?sslmode=disable"
    assert (settings.pool_min, settings.pool_max, settings.pool_timeout) == (2, 3, 1.5)
    assert settings.statement_timeout_ms == 100
    assert parse_url("postgres://h/db").pool_max == 10


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("pool_max=x", "not a number"),
        ("pool_min=-1", "must not be negative"),
        ("pool_min=5&pool_max=2", "pool_max must be at least"),
        ("pool_max=0", "pool_max must be at least"),
    ],
)
def test_bad_pool_settings_are_refused(query: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        parse_url(f"postgresql://h/db?{query}")


def test_both_schemes_open_postgres(pg_cluster: SharedCluster, pg_url: str) -> None:
    for url in (pg_url, pg_url.replace("postgresql://", "postgres://", 1)):
        store = open_store(url)
        assert isinstance(store, PostgresStore)
        store.ping()
        store.check_schema()
        store.close()


def test_statement_timeout_from_the_url(pg_url: str) -> None:
    store = PostgresStore(pg_url + "?statement_timeout_ms=50")
    try:
        with pytest.raises(StoreUnavailable, match="statement timeout"):
            store._db.read(lambda conn: conn.execute("SELECT pg_sleep(2)"))
        store.ping()  # the connection is still good
    finally:
        store.close()


def test_the_per_request_pool_keeps_plans_and_does_not_wait_for_the_wal(pg_url: str) -> None:
    """Rate counts, nonces, usage and the read road's Posts with their counts run on their own
    pool: no wait for the WAL flush, plans kept (generic); the store's pool keeps the server's
    settings (the tests' server runs without synchronous commits, for speed)."""
    store = PostgresStore(pg_url)
    show = "SELECT current_setting('synchronous_commit'), current_setting('plan_cache_mode')"
    try:
        assert store._per_request.read(lambda conn: conn.execute(show).fetchone()) == (
            "off",
            "force_generic_plan",
        )
        with psycopg.connect(pg_url) as plain:
            server = plain.execute(show).fetchone()
        assert server is not None and server[1] == "auto"
        assert store._db.read(lambda conn: conn.execute(show).fetchone()) == server
    finally:
        store.close()


# -- schema ----------------------------------------------------------------------------------


def test_concurrent_migrations_apply_once(pg_cluster: SharedCluster) -> None:
    name = pg_cluster.empty_database()
    try:
        stores = [open_store(pg_cluster.url(name)) for _ in range(3)]
        assert all(s.schema_version() == 0 for s in stores)
        with ThreadPoolExecutor(3) as pool:
            applied = sorted(pool.map(lambda s: s.migrate(), stores))
        versions = [m.version for m in migrations_for("engagement_api.store.postgres")]
        assert applied == [[], [], versions]
        for s in stores:
            s.check_schema()
            s.close()
    finally:
        pg_cluster.drop_database(name)


def test_refuses_a_newer_schema(pg: Store, pg_url: str) -> None:
    pg.check_schema()
    with psycopg.connect(pg_url) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (999, 'future', 0)")
    with pytest.raises(SchemaError, match="newer"):
        pg.check_schema()
    with pytest.raises(SchemaError, match="newer"):
        pg.migrate()


def test_an_empty_database_is_older(pg_cluster: SharedCluster) -> None:
    name = pg_cluster.empty_database()
    store = open_store(pg_cluster.url(name))
    try:
        with pytest.raises(SchemaError, match="older"):
            store.check_schema()
    finally:
        store.close()
        pg_cluster.drop_database(name)


def test_committed_batches_survive_reopen(pg: Store, pg_url: str) -> None:
    pg.apply_batch("k", "c", 1, 1, {(10, FAV, 100): 1}, NOW)
    pg.close()
    again = open_store(pg_url)
    assert again.totals([10], [FAV]) == {(10, FAV): 1}
    assert again.get_batch("k") is not None
    again.close()


# -- partitions ------------------------------------------------------------------------------


def test_partition_bounds_are_read_from_the_catalog() -> None:
    assert bounds("FOR VALUES FROM (720) TO (1440)") == (720, 1440)
    assert bounds("FOR VALUES FROM (MINVALUE) TO (0)")[1] == 0
    assert bounds("DEFAULT")[0] < -(2**62)
    assert partition_name(-1) == "counts_hourly_n1"


def test_partitions_are_made_on_demand_and_dropped_by_prune(pg: Store, pg_url: str) -> None:
    assert _partitions(pg_url) == []
    hours = [5, SPAN - 1, SPAN, SPAN + 10, 2 * SPAN + 3]
    pg.apply_batch("k", "c", 5, 1, {(10, FAV, h): 1 for h in hours}, NOW)
    assert _partitions(pg_url) == ["counts_hourly_p0", "counts_hourly_p1", "counts_hourly_p2"]
    # p0 is dropped whole (2 rows), p1 straddles the cut (1 row deleted), p2 stays.
    assert pg.prune_hourly(SPAN + 5) == 3
    assert _partitions(pg_url) == ["counts_hourly_p1", "counts_hourly_p2"]
    assert sorted(pg.hourly([10], [FAV], 0, 10 * SPAN)) == [
        (10, FAV, SPAN + 10, 1),
        (10, FAV, 2 * SPAN + 3, 1),
    ]
    assert pg.totals([10], [FAV]) == {(10, FAV): 5}
    # Writing into pruned time again brings its partition back.
    pg.apply_batch("k2", "c", 1, 1, {(10, FAV, 7): 2}, NOW)
    assert pg.hourly([10], [FAV], 0, SPAN) == [(10, FAV, 7, 2)]
    assert pg.prune_hourly(0) == 0


def test_a_partition_dropped_by_another_process_is_made_again(pg: Store, pg_url: str) -> None:
    other = open_store(pg_url)
    try:
        pg.apply_batch("a", "c", 1, 1, {(10, FAV, 3): 1}, NOW)  # pg now knows p0 exists
        assert other.prune_hourly(SPAN) == 1  # ... and other drops it
        assert pg.apply_batch("b", "c", 1, 1, {(10, FAV, 4): 1}, NOW)
        assert pg.hourly([10], [FAV], 0, SPAN) == [(10, FAV, 4, 1)]
        assert pg.totals([10], [FAV]) == {(10, FAV): 2}
    finally:
        other.close()


# -- many writers ----------------------------------------------------------------------------


def test_same_key_from_several_processes_applies_once(pg: Store, pg_url: str) -> None:
    deltas = pgworkers.batch_deltas(1, 200, (FAV, VV), (100, 101, SPAN + 1))
    ctx = _spawn()
    with ctx.Manager() as manager, ctx.Pool(4, ignore_sigint) as procs:
        barrier = manager.Barrier(4)
        results = procs.starmap(pgworkers.apply_same_key, [(pg_url, barrier, deltas)] * 4)
    assert sorted(results) == [False, False, False, True]
    expected = Counter[tuple[int, int]]()
    for (pid, metric, _hour), count in deltas.items():
        expected[(pid, metric)] += count
    assert pg.totals(range(1, 201), [FAV, VV]) == dict(expected)
    with pytest.raises(IdempotencyConflict):
        pg.apply_batch("same-key", "other", 1, 1, deltas, NOW)


def test_same_key_from_several_threads_applies_once(pg: Store) -> None:
    deltas = {(p, FAV, 100): 1 for p in range(1, 500)}
    barrier = threading.Barrier(6)

    def apply(_: int) -> bool:
        barrier.wait()
        return pg.apply_batch("k", "c", 1, 1, deltas, NOW)

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(apply, range(6)))
    assert sorted(results) == [False] * 5 + [True]
    assert pg.totals([1, 499], [FAV]) == {(1, FAV): 1, (499, FAV): 1}


def test_overlapping_batches_from_four_processes_stay_exact(pg: Store, pg_url: str) -> None:
    posts = 30
    metrics, hours = (FAV, VV), (100, 101, SPAN + 2)
    shape = {"posts": posts, "metrics": metrics, "hours": hours}
    pg.upsert_users([User(1, "author")])
    pg.upsert_posts([PostRecord(p, 1, NOW - timedelta(days=1), ()) for p in range(1, posts + 1)])
    # Process i applies its own 8 batches, then replays 3 of its neighbour's.
    jobs = [[(f"p{i}-{j}", 100 * i + j) for j in range(8)] for i in range(4)]
    work = [(jobs[i] + jobs[(i + 1) % 4][:3]) for i in range(4)]
    ctx = _spawn()
    with ctx.Manager() as manager, ctx.Pool(5, ignore_sigint) as procs:
        barrier = manager.Barrier(5)
        toggler = procs.apply_async(pgworkers.toggle_videos, (pg_url, barrier, posts, 40))
        applied = procs.starmap(pgworkers.apply_many, [(pg_url, barrier, w, shape) for w in work])
        assert toggler.get(timeout=120) == 40
    keys = [key for chunk in applied for key in chunk]
    assert sorted(keys) == sorted(key for chunk in jobs for key, _seed in chunk)  # once each

    hourly = Counter[tuple[int, int, int]]()
    for chunk in jobs:
        for _key, seed in chunk:
            hourly.update(pgworkers.batch_deltas(seed, posts, metrics, hours))
    totals = Counter[tuple[int, int]]()
    for (pid, metric, _hour), count in hourly.items():
        totals[(pid, metric)] += count
    ids = list(range(1, posts + 1))
    assert sorted(pg.hourly(ids, [FAV, VV], 0, 10 * SPAN)) == sorted(
        (p, m, h, c) for (p, m, h), c in hourly.items() if c
    )
    assert pg.totals(ids, [FAV, VV]) == dict(totals)
    # Every video's views are the lifetime views of the Posts that carry it now.
    carried = {pid: post.video_key for pid, post in pg.get_posts(ids).items()}
    by_video = Counter[str]()
    for pid, key in carried.items():
        if key is not None:
            by_video[key] += totals[(pid, VV)]
    videos = pg.video_totals(ids)
    assert set(videos) == {pid for pid, key in carried.items() if key is not None}
    assert videos == {pid: by_video[key] for pid, key in carried.items() if key is not None}


# -- outages ---------------------------------------------------------------------------------


def test_store_unavailable_while_the_server_is_down_and_back_after(pg_own_server: PgServer) -> None:
    server = pg_own_server  # a server of its own: the shared one stays up
    try:
        server.start()
        with server.admin() as conn:
            conn.execute("CREATE DATABASE outage")
        store = open_store(server.url("outage", pool_timeout=0.5))
        try:
            store.migrate()
            assert store.apply_batch("before", "c", 1, 1, {(10, FAV, 100): 3}, NOW)

            server.stop()
            started = time.monotonic()
            with pytest.raises(StoreUnavailable):
                store.ping()
            assert time.monotonic() - started < 5
            with pytest.raises(StoreUnavailable):
                store.totals([10], [FAV])
            with pytest.raises(StoreUnavailable):
                store.apply_batch("during", "c", 1, 1, {(10, FAV, 100): 1}, NOW)
            with pytest.raises(StoreUnavailable):
                store.check_schema()

            server.start()
            deadline = time.monotonic() + 20
            while True:
                try:
                    store.ping()
                    break
                except StoreUnavailable:
                    assert time.monotonic() < deadline, "the store did not come back"
            assert store.totals([10], [FAV]) == {(10, FAV): 3}
            assert store.apply_batch("during", "c", 1, 1, {(10, FAV, 100): 1}, NOW)
            assert store.totals([10], [FAV]) == {(10, FAV): 4}
        finally:
            store.close()
    finally:
        server.destroy()


def test_store_opened_with_no_server_there() -> None:
    store = open_store("postgresql://postgres@127.0.0.1:1/none?pool_timeout=0.5")
    try:
        with pytest.raises(StoreUnavailable, match="unavailable"):
            store.check_schema()
    finally:
        store.close()


def test_a_deadlocked_transaction_is_run_again(pg: PostgresStore) -> None:
    pg.upsert_users([User(1, "one"), User(2, "two")])
    barrier = threading.Barrier(2)
    runs = Counter[int]()

    def crossing(first: int, second: int) -> None:
        def work(conn: psycopg.Connection[tuple[object, ...]]) -> None:
            runs[first] += 1
            conn.execute("UPDATE users SET handle = handle WHERE id = %s", (first,))
            if runs[first] == 1:
                barrier.wait(timeout=10)
            conn.execute("UPDATE users SET handle = handle WHERE id = %s", (second,))

        pg._db.transact(work)

    with ThreadPoolExecutor(2) as pool:
        done = [pool.submit(crossing, 1, 2), pool.submit(crossing, 2, 1)]
        for future in done:
            future.result(timeout=30)
    assert sorted(runs.values()) == [1, 2]  # one of them was chosen as the victim, and rerun
