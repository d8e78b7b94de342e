"""Shared fixtures: a real store per backend, every backend in BACKENDS.

SQLite stores are files in the test's temporary directory. PostgreSQL stores are fresh
databases on one throwaway server for the whole session (``tests/store/pgserver.py``), started
on 127.0.0.1 the first time a test needs it and removed at the end; if it cannot start, those
tests fail (they are never skipped).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engagement_api.clock import ManualClock
from engagement_api.store import Store, open_store

#: A fixed "now" for tests: Thursday 2026-11-26 12:30 UTC.
NOW = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)

BACKENDS = ["sqlite", "postgresql"]


def make_store(backend: str, tmp_path: Path) -> Store:
    """A migrated, empty store of ``backend`` (for PostgreSQL, a new database each call)."""
    if backend == "sqlite":
        store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    elif backend == "postgresql":
        from tests.store.pgserver import shared_cluster

        cluster = shared_cluster()
        store = open_store(cluster.url(cluster.new_database()))
    else:  # pragma: no cover - new backends register here
        raise ValueError(backend)
    store.migrate()
    return store


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s = make_store(request.param, tmp_path)
    yield s
    s.close()
    if request.param == "postgresql":
        from tests.store.pgserver import shared_cluster

        shared_cluster().drop_database(s.url.rsplit("/", 1)[1])


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    from tests.store.pgserver import stop_shared_cluster

    stop_shared_cluster()
