"""Hourly counts and lifetime totals on a ClickHouse cluster: the schema (versioned migrations
applied ``ON CLUSTER``), the writes of a batch's deltas, the reads (always ``sum() ... GROUP
BY``), pruning by partitions. The batch ledger and the per-video totals are composed with the
catalog in :mod:`engagement_api.store.split`.
"""

from __future__ import annotations

import string
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from clickhouse_driver import Client

from engagement_api.contract.ids import from_signed
from engagement_api.store.clickhouse.client import ClickHousePool
from engagement_api.store.clickhouse.url import parse_url, redact
from engagement_api.store.deltas import DeltaTable
from engagement_api.store.errors import SchemaError, StoreError, StoreUnavailable
from engagement_api.store.migrations import (
    latest_version,
    migrations_for,
    refuse_newer,
    require_current,
)
from engagement_api.store.rows import counts_by_key

MIGRATIONS = "engagement_api.store.clickhouse"  # the package whose sql/ holds the migrations
#: Hours per partition of ``hourly`` (30 days): ``prune --before`` drops whole partitions.
PARTITION_HOURS = 720


def _unsigned_ids(ids: Sequence[int]) -> tuple[int, ...]:
    return tuple(sorted({i & 0xFFFF_FFFF_FFFF_FFFF for i in ids}))


class ClickHouseCounters:
    """The counters of one ``clickhouse://`` URL (see :mod:`.url`)."""

    local = False

    def __init__(self, url: str) -> None:
        self.url = url
        self.settings = parse_url(url)
        self._pool = ClickHousePool(self.settings)
        self._db = self.settings.database
        self._nodes: list[tuple[str, int]] = []
        self._executor: ThreadPoolExecutor | None = None

    def close(self) -> None:
        self._pool.close()
        if self._executor is not None:
            self._executor.shutdown(wait=False)

    def __repr__(self) -> str:
        return f"<ClickHouseCounters {redact(self.url)}>"

    # -- schema --------------------------------------------------------------------------------

    def _ddl(self, sql: str) -> None:
        timeout = self.settings.ddl_timeout
        settings = {"distributed_ddl_task_timeout": timeout}
        # the answer comes once every node ran it: the socket waits for the DDL's own timeout
        self._pool.execute("change the schema", sql, wait=timeout + 10, settings=settings)

    def _statements(self, text: str) -> list[str]:
        body = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
        names = {"database": self._db, "cluster": self.settings.cluster}
        filled = string.Template(body).substitute(names)
        return [part.strip() for part in filled.split(";") if part.strip()]

    def schema_version(self) -> int:
        try:
            rows = self._pool.execute(
                "read the schema version",
                f"SELECT max(version), count() FROM {self._db}.schema_migrations",  # noqa: S608 (a checked name)
            )
        except SchemaError:
            return 0
        return int(rows[0][0]) if rows and rows[0][1] else 0

    def migrate(self) -> list[int]:
        current = self.schema_version()
        refuse_newer(current, MIGRATIONS)
        if current == latest_version(MIGRATIONS):
            return []  # nothing to do: no DDL (each ON CLUSTER statement waits for every node)
        cluster = self.settings.cluster
        self._ddl(f"CREATE DATABASE IF NOT EXISTS {self._db} ON CLUSTER {cluster}")
        self._ddl(
            f"CREATE TABLE IF NOT EXISTS {self._db}.schema_migrations ON CLUSTER {cluster} "
            "(version UInt32, name String, applied_at DateTime) "
            "ENGINE = ReplicatedReplacingMergeTree("
            f"'/clickhouse/tables/all/{self._db}/schema_migrations', '{{replica}}') "
            "ORDER BY version"
        )
        current = self.schema_version()
        refuse_newer(current, MIGRATIONS)
        applied = []
        for migration in migrations_for(MIGRATIONS):
            if migration.version <= current:
                continue
            for statement in self._statements(migration.sql):
                self._ddl(statement)
            self._pool.execute(
                "record the schema version",
                f"INSERT INTO {self._db}.schema_migrations (version, name, applied_at) VALUES",
                [(migration.version, migration.name, int(time.time()))],
            )
            applied.append(migration.version)
        return applied

    def check_schema(self) -> None:
        require_current(self.schema_version(), MIGRATIONS)

    def ping(self) -> None:
        """Every shard answers (a read through the Distributed table reaches one replica of
        each): else :class:`StoreUnavailable`."""
        self._pool.execute(
            "reach every shard",
            f"SELECT count() FROM {self._db}.totals WHERE post_id = 0",  # noqa: S608
        )

    def ping_zookeeper(self) -> None:
        """ZooKeeper answers the node we talk to (inserts into replicated tables need it)."""
        try:
            self._pool.execute(
                "reach ZooKeeper", "SELECT count() FROM system.zookeeper WHERE path = '/'"
            )
        except StoreError as exc:
            raise StoreUnavailable(f"ZooKeeper: {exc}") from exc

    # -- writes --------------------------------------------------------------------------------

    def insert_hourly(self, batch: int, table: DeltaTable) -> None:
        """Write a batch's hourly rows in one insert through the Distributed table,
        synchronously (every shard has its part when it returns). The same ``batch`` (the
        claim's ID) and ``table`` written again make the same blocks on each shard, which its
        replicated table counts once (docs/scaling.md)."""
        if not table:
            return
        import polars as pl

        rows = table.frame.select(
            pl.col("post_id").reinterpret(signed=False), "metric", "hour", "count"
        )
        self._insert("hourly", ("post_id", "metric", "hour", "n"), rows, batch)

    def insert_totals(self, batch: int, table: DeltaTable) -> None:
        """Write the lifetime sums of a batch's deltas (per Post and metric), as
        :meth:`insert_hourly` does."""
        if not table:
            return
        import polars as pl

        rows = (
            table.frame.group_by("post_id", "metric")
            .agg(pl.col("count").sum())
            .sort("post_id", "metric")
            .select(pl.col("post_id").reinterpret(signed=False), "metric", "count")
        )
        self._insert("totals", ("post_id", "metric", "n"), rows, batch)

    def sync_replicas(self) -> list[str]:
        """Until every replica of every shard that answers has fetched what its siblings took
        (``SYSTEM SYNC REPLICA``, all at once): called before a batch is acknowledged, so that
        losing the replica that took an insert loses no acknowledged count. A replica that is
        down, or has not caught up within the profile's ``receive_timeout``, is passed over;
        the names of those passed over are returned (it catches up when it can)."""
        if self._executor is None:
            self._nodes = [
                (str(host), int(port))
                for host, port in self._pool.execute(
                    "list the cluster's nodes",
                    "SELECT host_address, port FROM system.clusters WHERE cluster = %(c)s",
                    {"c": self.settings.cluster},
                )
            ]
            self._executor = ThreadPoolExecutor(max(1, len(self._nodes)), "clickhouse-sync")
        return [
            name for name in self._executor.map(self._sync_one, self._nodes) if name is not None
        ]

    def _sync_one(self, node: tuple[str, int]) -> str | None:
        host, port = node
        client = Client(
            host,
            port=port,
            user=self.settings.user,
            password=self.settings.password,
            connect_timeout=self.settings.connect_timeout,
            send_receive_timeout=self.settings.receive_timeout,
        )
        try:
            for table in ("hourly_local", "totals_local"):
                client.execute(f"SYSTEM SYNC REPLICA {self._db}.{table}")
        except Exception:
            return f"{host}:{port}"
        finally:
            client.disconnect()
        return None

    def _insert(self, name: str, columns: Sequence[str], rows: Any, batch: int) -> None:
        data: list[list[int]] = [rows.get_column(c).to_list() for c in rows.columns]
        data += [[1] * rows.height, [batch] * rows.height]
        self._pool.execute(
            f"write {name}",
            f"INSERT INTO {self._db}.{name} ({', '.join(columns)}, rows, batch) VALUES",
            data,
            columnar=True,
        )

    # -- reads ---------------------------------------------------------------------------------

    def hourly(
        self, post_ids: Sequence[int], metric_codes: Sequence[int], start_hour: int, end_hour: int
    ) -> list[tuple[int, int, int, int]]:
        if not post_ids or not metric_codes or start_hour >= end_hour:
            return []
        start, end = max(start_hour, 0), min(end_hour, 0xFFFF_FFFF)
        if start >= end:
            return []
        rows = self._pool.execute(
            "read hourly counts",
            f"SELECT post_id, metric, hour, sum(n) AS c FROM {self._db}.hourly "  # noqa: S608
            "WHERE post_id IN %(ids)s AND metric IN %(metrics)s "
            "AND hour >= %(start)s AND hour < %(end)s "
            "GROUP BY post_id, metric, hour HAVING c != 0",
            {
                "ids": _unsigned_ids(post_ids),
                "metrics": tuple(sorted(set(metric_codes))),
                "start": start,
                "end": end,
            },
        )
        return [(from_signed(p), m, h, c) for p, m, h, c in rows]

    def totals(
        self, post_ids: Sequence[int], metric_codes: Sequence[int]
    ) -> dict[tuple[int, int], int]:
        if not post_ids or not metric_codes:
            return {}
        rows = self._pool.execute(
            "read lifetime totals",
            f"SELECT post_id, metric, sum(n) FROM {self._db}.totals "  # noqa: S608
            "WHERE post_id IN %(ids)s AND metric IN %(metrics)s GROUP BY post_id, metric",
            {"ids": _unsigned_ids(post_ids), "metrics": tuple(sorted(set(metric_codes)))},
        )
        return counts_by_key(rows)

    # -- pruning -------------------------------------------------------------------------------

    def prune_hourly(self, before_hour: int) -> int:
        """Remove hourly rows with ``hour < before_hour``; returns how many keys they were.

        Partitions wholly before the cut are dropped ``ON CLUSTER``; the rows of the one that
        straddles it are deleted by a mutation, waited for on every node."""
        cut = max(0, min(before_hour, 0xFFFF_FFFF))
        found = self._pool.execute(
            "count the hours to prune",
            "SELECT count(), min(hour) FROM (SELECT post_id, metric, hour "  # noqa: S608
            f"FROM {self._db}.hourly WHERE hour < %(cut)s GROUP BY post_id, metric, hour)",
            {"cut": cut},
        )
        removed, first = int(found[0][0]), found[0][1]
        if not removed:
            return 0
        cluster = self.settings.cluster
        whole_before = cut // PARTITION_HOURS
        for partition in range(int(first) // PARTITION_HOURS, whole_before):
            self._ddl(
                f"ALTER TABLE {self._db}.hourly_local ON CLUSTER {cluster} "
                f"DROP PARTITION {partition}"
            )
        if cut % PARTITION_HOURS:
            self._ddl(
                f"ALTER TABLE {self._db}.hourly_local ON CLUSTER {cluster} "
                f"DELETE WHERE hour < {cut}"
            )
            self._wait_for_mutations()
        return removed

    def _wait_for_mutations(self, timeout: float = 120.0) -> None:
        """Until no node has an unfinished mutation of ``hourly_local``."""
        deadline = time.monotonic() + timeout
        query = (
            "SELECT count() FROM remote(%(hosts)s, system.mutations) "
            "WHERE database = %(db)s AND table = 'hourly_local' AND is_done = 0"
        )
        nodes = self._pool.execute(
            "list the cluster's nodes",
            "SELECT host_address, port FROM system.clusters WHERE cluster = %(c)s",
            {"c": self.settings.cluster},
        )
        hosts = ",".join(f"{host}:{port}" for host, port in nodes)
        while time.monotonic() < deadline:
            rows = self._pool.execute("wait for the prune", query, {"hosts": hosts, "db": self._db})
            if not rows[0][0]:
                return
            time.sleep(0.1)
        raise StoreUnavailable("the prune's deletion did not finish on every node in time")
