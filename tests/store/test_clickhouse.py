"""What only the ClickHouse counters have: their URL, their schema on the whole cluster, the
error map, the claims of the exactly-once protocol and the server's sweep of them. The counters'
behaviour as a store is the shared suite's (tests/store/test_store.py runs on it too)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from clickhouse_driver import Client
from clickhouse_driver import errors as driver_errors

from engagement_api.api.sweep import sweep_once
from engagement_api.domain import PostRecord, User
from engagement_api.store import (
    IdempotencyConflict,
    SchemaError,
    StoreError,
    StoreUnavailable,
    open_store,
)
from engagement_api.store.clickhouse import ClickHouseCounters
from engagement_api.store.clickhouse.client import map_error
from engagement_api.store.clickhouse.url import parse_url, redact
from engagement_api.store.deltas import DeltaTable
from engagement_api.store.migrations import latest_version
from engagement_api.store.split import SplitStore, decode_deltas, encode_deltas, new_batch_id
from tests.support import NOW
from tests.support.clickhouse import SharedClickHouse

MIGRATIONS = "engagement_api.store.clickhouse"


@pytest.mark.parametrize(
    ("url", "hosts", "database", "cluster"),
    [
        ("clickhouse://h:9000/db?cluster=c", (("h", 9000),), "db", "c"),
        (
            "clickhouse://a:1,b.example:2,[::1]:3/engagement?cluster=prod_1",
            (("a", 1), ("b.example", 2), ("::1", 3)),
            "engagement",
            "prod_1",
        ),
        ("clickhouse://u:p%40ss@h:9000/db/?cluster=c", (("h", 9000),), "db", "c"),
    ],
)
def test_counters_urls_are_read(
    url: str, hosts: tuple[tuple[str, int], ...], database: str, cluster: str
) -> None:
    settings = parse_url(url)
    assert (settings.hosts, settings.database, settings.cluster) == (hosts, database, cluster)


def test_url_options_and_credentials() -> None:
    settings = parse_url(
        "clickhouse://me:s3cret@h:9000/db?cluster=c&connect_timeout=0.5&receive_timeout=3"
        "&pool_max=4&ddl_timeout=9"
    )
    assert (settings.user, settings.password) == ("me", "s3cret")
    assert (settings.connect_timeout, settings.receive_timeout) == (0.5, 3.0)
    assert (settings.pool_max, settings.ddl_timeout) == (4, 9)
    assert redact("clickhouse://me:s3cret@h:9000/db?cluster=c") == (
        "clickhouse://me:***@h:9000/db?cluster=c"
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://h:1/db?cluster=c", "must start with clickhouse://"),
        ("clickhouse://h/db?cluster=c", "host 'h' is not HOST:PORT"),
        ("clickhouse://h:0/db?cluster=c", "port 0 is out of range"),
        ("clickhouse://h:1/db;drop?cluster=c", "must be a plain name"),
        ("clickhouse://h:1/?cluster=c", "database '' must be a plain name"),
        ("clickhouse://h:1/db", "cluster=NAME is required"),
        ("clickhouse://h:1/db?cluster=a-b", "cluster=NAME is required"),
        ("clickhouse://h:1/db?cluster=c&colour=red", "unknown option 'colour'"),
        ("clickhouse://h:1/db?cluster=c&pool_max=0", "pool_max must be from 1 to 1000"),
        ("clickhouse://h:1/db?cluster=c&connect_timeout=x", "connect_timeout must be a number"),
    ],
)
def test_bad_counters_urls_name_the_part_that_is_wrong(url: str, message: str) -> None:
    with pytest.raises(StoreError, match="counters URL") as info:
        parse_url(url)
    assert message in str(info.value)


def test_an_unknown_counters_scheme_is_refused() -> None:
    with pytest.raises(StoreError, match="counters URL scheme 'redis' is not supported"):
        open_store("sqlite:///:memory:", "redis://h:1/db")


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (driver_errors.ServerException("All connection tries failed", 279), StoreUnavailable),
        (driver_errors.ServerException("Table is in readonly mode", 242), StoreUnavailable),
        (driver_errors.ServerException("ZooKeeper session expired", 225), StoreUnavailable),
        (driver_errors.ServerException("Database x doesn't exist", 81), SchemaError),
        (driver_errors.ServerException("Table x doesn't exist", 60), SchemaError),
        (driver_errors.ServerException("Syntax error", 62), StoreError),
        (driver_errors.NetworkError("refused"), StoreUnavailable),
        (driver_errors.SocketTimeoutError("timed out"), StoreUnavailable),
        (EOFError(), StoreUnavailable),
        (ConnectionResetError(), StoreUnavailable),
    ],
)
def test_driver_errors_become_the_stores(error: Exception, kind: type[StoreError]) -> None:
    mapped = map_error(error, "read")
    assert type(mapped) is kind


def test_an_unexpected_error_is_not_swallowed() -> None:
    with pytest.raises(ZeroDivisionError):
        map_error(ZeroDivisionError(), "read")


def test_deltas_survive_the_claim() -> None:
    table = DeltaTable.from_mapping({(1, 2, 3): 4, (2**64 - 1, 5, 6): -7})
    assert dict(decode_deltas(encode_deltas(table))) == dict(table)
    ids = {new_batch_id() for _ in range(100)}
    assert len(ids) == 100 and all(0 < i < 2**63 for i in ids)


@pytest.fixture
def fresh_counters(ch_cluster: SharedClickHouse) -> Iterator[ClickHouseCounters]:
    """Counters on a database that does not exist yet (dropped afterwards)."""
    name = f"m_{datetime.now(UTC):%H%M%S%f}"
    counters = ClickHouseCounters(ch_cluster.url(name))
    yield counters
    counters.close()
    client = ch_cluster.client()
    try:
        client.execute(f"DROP DATABASE IF EXISTS {name} ON CLUSTER {ch_cluster.cluster.name}")
    finally:
        client.disconnect()


def test_migrate_makes_the_schema_on_every_node(
    fresh_counters: ClickHouseCounters, ch_cluster: SharedClickHouse
) -> None:
    assert fresh_counters.schema_version() == 0
    with pytest.raises(SchemaError, match="older than"):
        fresh_counters.check_schema()
    assert fresh_counters.migrate() == list(range(1, latest_version(MIGRATIONS) + 1))
    assert fresh_counters.migrate() == []  # nothing left to do
    fresh_counters.check_schema()
    database = fresh_counters.settings.database
    for node in ch_cluster.cluster.nodes:  # each node has the tables, replicated per shard
        local = Client("127.0.0.1", port=node.tcp_port)
        try:
            tables = {
                row[0]
                for row in local.execute(
                    "SELECT name FROM system.tables WHERE database = %(d)s", {"d": database}
                )
            }
            replicas = local.execute(
                "SELECT zookeeper_path FROM system.replicas WHERE database = %(d)s "
                "AND table = 'hourly_local'",
                {"d": database},
            )
        finally:
            local.disconnect()
        assert tables == {"hourly", "hourly_local", "totals", "totals_local", "schema_migrations"}
        assert replicas == [(f"/clickhouse/tables/{node.shard:02d}/{database}/hourly",)]


def test_schema_changes_wait_for_the_ddl_timeout_not_the_receive_timeout(
    fresh_counters: ClickHouseCounters, ch_cluster: SharedClickHouse
) -> None:
    """An ``ON CLUSTER`` statement answers once every node ran it (seconds, on a busy
    cluster): its socket waits for ``ddl_timeout``, not for a query's ``receive_timeout``
    (with which a slow one failed as "ClickHouse cannot change the schema: TimeoutError")."""
    url = fresh_counters.url + "&receive_timeout=1&ddl_timeout=120"
    counters = ClickHouseCounters(url)
    made: list[float] = []
    real = counters._pool._new_client

    def watched(receive_timeout: float | None = None) -> Client:
        client = real(receive_timeout)
        made.append(client.connection.send_receive_timeout)
        return client

    try:
        counters._pool._new_client = watched  # type: ignore[method-assign]
        assert counters.migrate() == list(range(1, latest_version(MIGRATIONS) + 1))
    finally:
        counters.close()
    assert 130 in made  # every DDL: ddl_timeout + 10 s
    assert set(made) <= {1, 130}  # the version reads: the query's own


def test_a_cluster_migrated_by_a_newer_version_is_refused(
    fresh_counters: ClickHouseCounters,
) -> None:
    fresh_counters.migrate()
    database = fresh_counters.settings.database
    fresh_counters._pool.execute(
        "test",
        f"INSERT INTO {database}.schema_migrations (version, name, applied_at) VALUES",
        [(99, "9999_future.sql", 0)],
    )
    with pytest.raises(SchemaError, match="newer than this engagement-api knows"):
        fresh_counters.check_schema()
    with pytest.raises(SchemaError, match="newer"):
        fresh_counters.migrate()


@pytest.fixture
def split(pg_url: str, ch_url: str) -> Iterator[SplitStore]:
    store = open_store(pg_url, ch_url)
    assert isinstance(store, SplitStore)
    store.migrate()
    store.upsert_users([User(1, "a")])
    store.upsert_posts([PostRecord(10, 1, NOW, ()), PostRecord(11, 1, NOW, ())])
    yield store
    store.close()


def test_a_claim_left_by_a_crash_is_written_and_finished_by_the_sweep(split: SplitStore) -> None:
    table = DeltaTable.from_mapping({(10, 1, 500): 3, (11, 1, 501): 2})
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    claim = split.catalog.claim_batch("lost", "c", 2, 10, encode_deltas(table), 77, long_ago)
    assert claim is not None and split.pending() == [claim]
    assert split.totals([10, 11], [1]) == {}  # a claim alone counts nothing
    assert asyncio.run(sweep_once(split)) == 1
    assert split.pending() == []
    assert split.totals([10, 11], [1]) == {(10, 1): 3, (11, 1): 2}
    assert split.get_batch("lost") is not None
    # the client's resend is a duplicate: nothing changes
    assert split.apply_batch("lost", "c", 2, 10, dict(table), NOW) is False
    assert split.totals([10, 11], [1]) == {(10, 1): 3, (11, 1): 2}


def test_a_claim_holds_its_checksum(split: SplitStore) -> None:
    table = DeltaTable.from_mapping({(10, 1, 500): 3})
    split.catalog.claim_batch("k", "c1", 1, 1, encode_deltas(table), 5, datetime.now(UTC))
    with pytest.raises(IdempotencyConflict):
        split.apply_batch("k", "c2", 1, 1, dict(table), NOW)
    assert split.apply_batch("k", "c1", 1, 1, dict(table), NOW) is True
    with pytest.raises(IdempotencyConflict):
        split.apply_batch("k", "c2", 1, 1, dict(table), NOW)


def test_the_sweep_waits_while_the_counters_are_down(split: SplitStore) -> None:
    table = DeltaTable.from_mapping({(10, 1, 500): 3})
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    split.catalog.claim_batch("late", "c", 1, 1, encode_deltas(table), 9, long_ago)
    split.counters.close()
    assert asyncio.run(sweep_once(split)) == 0  # logged, tried again at the next sweep
    assert [c.key for c in split.pending()] == ["late"]
    assert split.parts()["counters"] == "down"
