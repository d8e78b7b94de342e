"""The SQLite store: catalog, counters, credentials and metering in one file, the embedded
default. Connections and error mapping: :mod:`.connection`."""

from __future__ import annotations

import sqlite3

from engagement_api.store.migrations import migrations_for, refuse_newer, require_current
from engagement_api.store.sqlite.catalog import SqliteCatalog
from engagement_api.store.sqlite.connection import SqliteDatabase
from engagement_api.store.sqlite.counters import SqliteCounters
from engagement_api.store.sqlite.credentials import SqliteCredentials
from engagement_api.store.sqlite.metering import SqliteMetering

MIGRATIONS = "engagement_api.store.sqlite"  # the package whose sql/ holds the migrations


def _version(conn: sqlite3.Connection) -> int:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
    )
    row = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
    return int(row[0] or 0)


class SqliteStore(SqliteCatalog, SqliteCounters, SqliteCredentials, SqliteMetering):
    """Catalog, counters, credentials and metering in one SQLite file."""

    backend = "sqlite"

    def __init__(self, url: str) -> None:
        self.url = url
        self._db = SqliteDatabase(url)
        self.path = self._db.path

    def close(self) -> None:
        self._db.close()

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
