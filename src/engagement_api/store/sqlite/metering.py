"""Rate-limit counts, OAuth nonces and monthly usage on SQLite, in a file of their own beside the
store: the **metering file** (``engagement.db`` -> ``engagement-metering.db``).

They are written on the read road (every request counts against its app's limit, every OAuth
request spends a nonce, a user's first request of a month is recorded), so they must neither
wait for the disk nor queue behind a batch being applied to the store. Their own file has its
own write lock, held for the few microseconds of one upsert, and commits without waiting for an
fsync (WAL, ``synchronous=NORMAL``):

- nothing is lost when a server process dies; the WAL is synced at each checkpoint, so a power
  cut may lose the last commits before it: rate-limit counts of the current minute, nonces of
  the last moments (replays of those stay refused by the timestamp window only), usage recorded
  since the last checkpoint (such a user is counted again at their next request of the month;
  never twice);
- every process sharing the store shares the file, so the limit holds across processes: a
  request is counted by one upsert that returns the new count (a statement is a transaction,
  taken under the file's write lock).

The file's tables are created when a store opens (``CREATE TABLE IF NOT EXISTS``); migration
0004 of the store carries usage recorded before over, and drops the store's old copies.
"""

from __future__ import annotations

from pathlib import Path

from engagement_api.contract.ids import from_signed, to_signed
from engagement_api.store.sqlite.connection import SqliteDatabase

#: The metering file's tables (no versioned migrations: created when missing).
SCHEMA = (
    """CREATE TABLE IF NOT EXISTS rate_counts (
        consumer_key TEXT NOT NULL,
        endpoint     TEXT NOT NULL,
        minute       INTEGER NOT NULL,
        count        INTEGER NOT NULL,
        PRIMARY KEY (consumer_key, endpoint, minute)
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS oauth_nonces (
        consumer_key TEXT NOT NULL,
        nonce        TEXT NOT NULL,
        ts           INTEGER NOT NULL,
        PRIMARY KEY (consumer_key, nonce)
    ) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS oauth_nonces_ts ON oauth_nonces (ts)",
    """CREATE TABLE IF NOT EXISTS usage_users (
        consumer_key TEXT NOT NULL,
        month        TEXT NOT NULL,
        user_id      INTEGER NOT NULL,
        PRIMARY KEY (consumer_key, month, user_id)
    ) WITHOUT ROWID""",
)

_COUNT = (
    "INSERT INTO rate_counts (consumer_key, endpoint, minute, count) VALUES (?, ?, ?, 1) "
    "ON CONFLICT (consumer_key, endpoint, minute) DO UPDATE SET count = count + 1 "
    "RETURNING count"
)
# Older than the minute before: a request that read "now" just before the minute turned may
# still count in that one.
_PRUNE = "DELETE FROM rate_counts WHERE consumer_key = ? AND endpoint = ? AND minute < ? - 1"
_SEEN = "SELECT 1 FROM usage_users WHERE consumer_key = ? AND month = ? AND user_id = ?"
_RECORD = (
    "INSERT INTO usage_users (consumer_key, month, user_id) VALUES (?, ?, ?) "
    "ON CONFLICT (consumer_key, month, user_id) DO NOTHING"
)
_USAGE = "SELECT count(*) FROM usage_users WHERE consumer_key = ? AND month = ?"
_USAGE_USERS = "SELECT user_id FROM usage_users WHERE consumer_key = ? AND month = ?"


def metering_path(store_path: str) -> str:
    """``dir/name.db`` -> ``dir/name-metering.db`` (``:memory:`` stays in memory)."""
    if store_path == ":memory:":
        return store_path
    path = Path(store_path)
    return str(path.with_name(f"{path.stem}-metering{path.suffix}"))


def open_metering(store_path: str) -> SqliteDatabase:
    """The metering file of the store at ``store_path``, its tables created when missing."""
    database = SqliteDatabase(
        metering_path(store_path), synchronous="NORMAL", writer_cache_kib=2048
    )
    with database.write() as conn:
        for statement in SCHEMA:
            conn.execute(statement)
    return database


class SqliteMetering:
    """Needs ``_metering`` (the metering file's :class:`SqliteDatabase`) from the class it is
    mixed into."""

    _metering: SqliteDatabase

    def count_request(self, consumer_key: str, endpoint: str, minute: int) -> int:
        # one statement, its own transaction (autocommit): no BEGIN and COMMIT round trips;
        # fetchall() steps it to its end, which commits it
        with self._metering.writer() as conn:
            [(count,)] = conn.execute(_COUNT, (consumer_key, endpoint, minute)).fetchall()
            if count == 1:  # the minute's first request: the old minutes go (idempotent)
                conn.execute(_PRUNE, (consumer_key, endpoint, minute))
        return int(count)

    def record_usage(self, consumer_key: str, month: str, user_id: int) -> bool:
        params = (consumer_key, month, to_signed(user_id))
        with self._metering.read() as conn:
            seen = conn.execute(_SEEN, params).fetchone()
        if seen is not None:  # the common case: no write at all
            return False
        with self._metering.write() as conn:
            return conn.execute(_RECORD, params).rowcount == 1

    def usage(self, consumer_key: str, month: str) -> int:
        with self._metering.read() as conn:
            row = conn.execute(_USAGE, (consumer_key, month)).fetchone()
        return int(row[0])

    def usage_users(self, consumer_key: str, month: str) -> list[int]:
        # IDs are stored signed (to_signed): sorted here, as the unsigned IDs they are.
        with self._metering.read() as conn:
            rows = conn.execute(_USAGE_USERS, (consumer_key, month)).fetchall()
        return sorted(from_signed(int(row[0])) for row in rows)
