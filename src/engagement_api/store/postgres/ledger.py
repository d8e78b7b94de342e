"""The batch ledger's side of counters kept in another store (ClickHouse), on PostgreSQL (mixed
into PostgresStore): pending batches with their deltas, and the Posts sharing a video. The
protocol they serve is :mod:`engagement_api.store.split`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from engagement_api.contract.ids import from_signed
from engagement_api.domain import PendingBatch
from engagement_api.store.errors import IdempotencyConflict
from engagement_api.store.postgres.catalog import dt, id_array, ts
from engagement_api.store.postgres.pool import Connection, PgPool
from engagement_api.store.rows import PENDING_SELECT, pending_from_row


class PostgresLedger:
    """Needs ``_db`` (a :class:`PgPool`) from the class it is mixed into."""

    _db: PgPool

    def claim_batch(
        self,
        key: str,
        checksum: str,
        events: int,
        size: int,
        deltas: bytes,
        batch_id: int,
        now: datetime,
    ) -> PendingBatch | None:
        claim = (key, checksum, events, size, ts(now), batch_id, deltas)

        def work(conn: Connection) -> PendingBatch | None:
            done = conn.execute("SELECT checksum FROM batches WHERE key = %s", (key,)).fetchone()
            if done is not None:
                if done[0] != checksum:
                    raise IdempotencyConflict(key)
                return None
            # a concurrent claim of the same key waits here, then finds the row
            inserted = conn.execute(
                "INSERT INTO pending_batches "
                "(key, checksum, events, size, claimed_at, batch_id, deltas) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (key) DO NOTHING RETURNING 1",
                claim,
            ).fetchone()
            if inserted is not None:
                return PendingBatch(key, checksum, events, size, dt(ts(now)), batch_id, deltas)
            row = conn.execute(PENDING_SELECT + " WHERE key = %s", (key,)).fetchone()
            if row is None:  # finished meanwhile by another ingester
                again = conn.execute(
                    "SELECT checksum FROM batches WHERE key = %s", (key,)
                ).fetchone()
                if again is not None and again[0] != checksum:
                    raise IdempotencyConflict(key)
                return None
            if row[1] != checksum:
                raise IdempotencyConflict(key)
            return pending_from_row(row)

        return self._db.transact(work)

    def pending_batches(self, claimed_before: datetime) -> list[PendingBatch]:
        rows = self._db.read(
            lambda conn: conn.execute(
                PENDING_SELECT + " WHERE claimed_at <= %s ORDER BY claimed_at, key",
                (ts(claimed_before),),
            ).fetchall()
        )
        return [pending_from_row(row) for row in rows]

    def finish_batch(self, key: str, now: datetime) -> bool:
        def work(conn: Connection) -> bool:
            moved = conn.execute(
                "INSERT INTO batches (key, checksum, events, size, applied_at) "
                "SELECT key, checksum, events, size, %s FROM pending_batches WHERE key = %s "
                "ON CONFLICT (key) DO NOTHING RETURNING 1",
                (ts(now), key),
            ).fetchone()
            conn.execute("DELETE FROM pending_batches WHERE key = %s", (key,))
            return moved is not None

        return self._db.transact(work)

    def video_sharers(self, post_ids: Iterable[int]) -> list[tuple[int, int]]:
        wanted = id_array(list(post_ids))
        rows = self._db.read(
            lambda conn: conn.execute(
                "SELECT p.id, q.id FROM posts p JOIN posts q ON q.video_key = p.video_key "
                "WHERE p.id = ANY(%s::bigint[]) AND p.video_key IS NOT NULL",
                (wanted,),
            ).fetchall()
        )
        return [(from_signed(p), from_signed(q)) for p, q in rows]
