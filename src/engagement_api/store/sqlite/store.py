"""The SQLite store: catalog, counters and credentials in one file, the embedded default, with
rate-limit counts, nonces and usage in the metering file beside it (:mod:`.metering`).
Connections and error mapping: :mod:`.connection`."""

from __future__ import annotations

import sqlite3

from engagement_api.store.migrations import migrations_for, refuse_newer, require_current
from engagement_api.store.sqlite.catalog import SqliteCatalog
from engagement_api.store.sqlite.connection import SqliteDatabase, sqlite_path
from engagement_api.store.sqlite.counters import SqliteCounters
from engagement_api.store.sqlite.credentials import SqliteCredentials
from engagement_api.store.sqlite.dashboard import SqliteDashboard
from engagement_api.store.sqlite.ledger import SqliteLedger
from engagement_api.store.sqlite.metering import SqliteMetering, open_metering

MIGRATIONS = "engagement_api.store.sqlite"  # the package whose sql/ holds the migrations
METERING_FILE = 4  # the migration that moves metering to its own file


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?", (name,)
    ).fetchone()
    return row is not None


def _version(conn: sqlite3.Connection) -> int:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
    )
    row = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
    return int(row[0] or 0)


class SqliteStore(
    SqliteCatalog,
    SqliteCounters,
    SqliteCredentials,
    SqliteMetering,
    SqliteLedger,
    SqliteDashboard,
):
    """Catalog, counters and credentials in one SQLite file; metering in the file beside it."""

    backend = "sqlite"
    local = True

    def __init__(self, url: str) -> None:
        self.url = url
        self._db = SqliteDatabase(sqlite_path(url))
        self._seqs = {}
        self._nonce_horizon = -(2**63)
        self.path = self._db.path
        try:
            self._metering = open_metering(self.path)
        except BaseException:
            self._db.close()
            raise

    def close(self) -> None:
        self._db.close()
        self._metering.close()

    def ping(self) -> None:
        self._db.ping()

    def schema_version(self) -> int:
        with self._db.writer() as conn:
            return _version(conn)

    def migrate(self) -> list[int]:
        applied = []
        with self._db.write() as conn:
            current = _version(conn)
            refuse_newer(current, MIGRATIONS)
            for migration in migrations_for(MIGRATIONS):
                if migration.version <= current:
                    continue
                if migration.version == METERING_FILE:
                    self._carry_usage_over(conn)
                for statement in migration.sql.split(";\n"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, strftime('%s','now'))",
                    (migration.version, migration.name),
                )
                applied.append(migration.version)
        return applied

    def check_schema(self) -> None:
        require_current(self.schema_version(), MIGRATIONS)

    def _carry_usage_over(self, conn: sqlite3.Connection) -> None:
        """Copy the store's usage rows into the metering file, committed there before the
        store's copy is dropped (a crash in between repeats the copy, which ignores rows that
        are there already: nothing lost, nothing counted twice)."""
        if not _has_table(conn, "usage_users"):
            return
        rows = conn.execute("SELECT consumer_key, month, user_id FROM usage_users").fetchall()
        with self._metering.write() as metering:
            metering.executemany(
                "INSERT INTO usage_users (consumer_key, month, user_id) VALUES (?, ?, ?) "
                "ON CONFLICT (consumer_key, month, user_id) DO NOTHING",
                rows,
            )
