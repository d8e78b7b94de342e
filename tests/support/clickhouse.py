"""The tests' ClickHouse cluster: one ZooKeeper and 2 shards x 2 replicas of Debian's
``clickhouse-server`` (:class:`devtools.clickhouse_cluster.LocalCluster`), started once per run
for every xdist worker (:class:`ClickHouseResource`, see :mod:`tests.support.shared`), and
private clusters for the fault tests, which stop nodes (:func:`private_cluster`).

Each store a test asks for gets a database of its own on the shared cluster
(:class:`SharedClickHouse`): made by the real ``migrate`` (``ON CLUSTER``) the first time, then
emptied (``TRUNCATE ... ON CLUSTER``) and handed to the next test of the same worker. A reused
database cannot hide a count: every claim carries a random batch ID, so no block of one test
equals a block of another.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Iterator
from pathlib import Path

from clickhouse_driver import Client
from devtools.clickhouse_cluster import LocalCluster, stop_dir

from engagement_api.store.clickhouse import ClickHouseCounters
from tests.support.shared import SharedResource, State

__all__ = ["ClickHouseResource", "SharedClickHouse", "private_cluster"]


class ClickHouseResource(SharedResource):
    """The run's shared cluster (in ``<workdir>/cluster``); private ones go beside it."""

    name = "clickhouse"

    def start(self, workdir: Path) -> State:
        cluster = LocalCluster(workdir / "cluster")
        cluster.start()
        return cluster.as_state()

    def stop(self, workdir: Path, state: State | None, *, urgent: bool) -> None:
        for child in sorted(workdir.iterdir()):
            if child.is_dir():
                stop_dir(child)


class SharedClickHouse:
    """A worker's client of the shared cluster: databases for stores, reused within the worker."""

    def __init__(self, state: State) -> None:
        self.cluster = LocalCluster.from_state(dict(state))
        self._names = itertools.count(1)
        self._idle: list[str] = []

    def url(self, database: str) -> str:
        return self.cluster.counters_url(database)

    def checkout(self) -> str:
        """An empty, migrated database's name."""
        if self._idle:
            return self._idle.pop()
        name = f"t_{os.getpid()}_{next(self._names)}"
        counters = ClickHouseCounters(self.url(name))
        try:
            counters.migrate()
        finally:
            counters.close()
        return name

    def checkin(self, name: str) -> None:
        """Empty the database on every node; it goes to the next test."""
        client = self.client()
        try:
            for table in ("hourly_local", "totals_local"):
                client.execute(f"TRUNCATE TABLE {name}.{table} ON CLUSTER {self.cluster.name}")
        except Exception:
            return
        finally:
            client.disconnect()
        self._idle.append(name)

    def client(self) -> Client:
        return Client("127.0.0.1", port=self.cluster.nodes[0].tcp_port, connect_timeout=2)


@contextlib.contextmanager
def private_cluster(parent: Path, name: str, shards: int = 2) -> Iterator[LocalCluster]:
    """A cluster of the caller's own (2 replicas per shard) in ``parent/name``, for tests that
    stop its nodes; stopped and removed afterwards (and by the run's end, if interrupted)."""
    cluster = LocalCluster(parent / name, shards=shards)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.destroy()
