"""Rate-limit counts and usage on PostgreSQL (mixed into PostgresStore).

The same statements and results as :mod:`engagement_api.store.sqlite.metering`. Concurrent
``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` on one row are serialised by its row lock,
so each request sees its own count, whichever server process it reached.

They run on the per-request pool (``_per_request``): autocommit statements, one round trip
each, on connections with ``synchronous_commit = off``, so a request never waits for the WAL to
reach the disk. The rate counts are in an unlogged table (a crash empties it: at most the current
minute's counts are lost); usage is durable once the WAL writer flushes, within a second (a
crash before that forgets the users first seen in that second, who are counted again at their
next request of the month, never twice).
"""

from __future__ import annotations

from engagement_api.contract.ids import from_signed, to_signed
from engagement_api.store.postgres.pool import Connection, PgPool

#: A request counted again in its minute (rate_counts AS r): the count, this one included.
RATE_CONFLICT = (
    "ON CONFLICT (consumer_key, endpoint, minute) DO UPDATE SET count = r.count + 1 RETURNING count"
)
_COUNT = (
    "INSERT INTO rate_counts AS r (consumer_key, endpoint, minute, count) "
    "VALUES (%s, %s, %s, 1) " + RATE_CONFLICT
)
# Older than the minute before: a request that read "now" just before the minute turned may
# still count in that one.
PRUNE = "DELETE FROM rate_counts WHERE consumer_key = %s AND endpoint = %s AND minute < %s - 1"
_SEEN = "SELECT 1 FROM usage_users WHERE consumer_key = %s AND month = %s AND user_id = %s"
_RECORD = (
    "INSERT INTO usage_users (consumer_key, month, user_id) VALUES (%s, %s, %s) "
    "ON CONFLICT (consumer_key, month, user_id) DO NOTHING"
)


class PostgresMetering:
    """Needs ``_db`` and ``_per_request`` (:class:`PgPool`: the store's, the per-request one)
    from the class it is mixed into."""

    _db: PgPool
    _per_request: PgPool

    def count_request(self, consumer_key: str, endpoint: str, minute: int) -> int:
        params = (consumer_key, endpoint, minute)

        def work(conn: Connection) -> int:
            row = conn.execute(_COUNT, params).fetchone()
            count = int(row[0]) if row else 0
            if count == 1:  # the minute's first request: drop the older minutes
                conn.execute(PRUNE, params)
            return count

        return self._per_request.statements(work)

    def record_usage(self, consumer_key: str, month: str, user_id: int) -> bool:
        params = (consumer_key, month, to_signed(user_id))
        if self._per_request.read(lambda conn: conn.execute(_SEEN, params).fetchone()) is not None:
            return False
        return self._per_request.statements(
            lambda conn: conn.execute(_RECORD, params).rowcount == 1
        )

    def usage(self, consumer_key: str, month: str) -> int:
        row = self._db.read(
            lambda conn: conn.execute(
                "SELECT count(*) FROM usage_users WHERE consumer_key = %s AND month = %s",
                (consumer_key, month),
            ).fetchone()
        )
        return int(row[0]) if row else 0

    def usage_users(self, consumer_key: str, month: str) -> list[int]:
        # IDs are stored signed (to_signed): sorted here, as the unsigned IDs they are.
        rows = self._db.read(
            lambda conn: conn.execute(
                "SELECT user_id FROM usage_users WHERE consumer_key = %s AND month = %s",
                (consumer_key, month),
            ).fetchall()
        )
        return sorted(from_signed(int(row[0])) for row in rows)
