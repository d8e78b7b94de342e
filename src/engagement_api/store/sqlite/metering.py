"""Rate-limit counts and usage on SQLite (mixed into SqliteStore).

A request is counted in the writer transaction (``BEGIN IMMEDIATE``: SQLite's write lock, so
the count is one for every process sharing the file) with one upsert that returns the new
count.
"""

from __future__ import annotations

from engagement_api.contract.ids import to_signed
from engagement_api.store.sqlite.connection import SqliteDatabase

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


class SqliteMetering:
    """Needs ``_db`` (a :class:`SqliteDatabase`) from the class it is mixed into."""

    _db: SqliteDatabase

    def count_request(self, consumer_key: str, endpoint: str, minute: int) -> int:
        with self._db.write() as conn:
            row = conn.execute(_COUNT, (consumer_key, endpoint, minute)).fetchone()
            count = int(row[0])
            if count == 1:
                conn.execute(_PRUNE, (consumer_key, endpoint, minute))
        return count

    def record_usage(self, consumer_key: str, month: str, user_id: int) -> bool:
        params = (consumer_key, month, to_signed(user_id))
        with self._db.read() as conn:
            seen = conn.execute(_SEEN, params).fetchone()
        if seen is not None:  # the common case: no write at all
            return False
        with self._db.write() as conn:
            return conn.execute(_RECORD, params).rowcount == 1

    def usage(self, consumer_key: str, month: str) -> int:
        with self._db.read() as conn:
            row = conn.execute(_USAGE, (consumer_key, month)).fetchone()
        return int(row[0])
