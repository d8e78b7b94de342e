"""The batch ledger's side of counters kept in another store (ClickHouse), on SQLite (mixed into
SqliteStore): pending batches with their deltas, and the Posts sharing a video. The protocol
they serve is :mod:`engagement_api.store.split`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from engagement_api.contract.ids import from_signed, to_signed
from engagement_api.domain import PendingBatch
from engagement_api.store.errors import IdempotencyConflict
from engagement_api.store.rows import PENDING_SELECT, pending_from_row
from engagement_api.store.sqlite.connection import SqliteDatabase
from engagement_api.store.sqlite.statements import chunks, dt, marks, ts


class SqliteLedger:
    """Needs ``_db`` (a :class:`SqliteDatabase`) from the class it is mixed into."""

    _db: SqliteDatabase

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
        with self._db.write() as conn:
            done = conn.execute("SELECT checksum FROM batches WHERE key = ?", (key,)).fetchone()
            if done is not None:
                if done[0] != checksum:
                    raise IdempotencyConflict(key)
                return None
            row = conn.execute(PENDING_SELECT + " WHERE key = ?", (key,)).fetchone()
            if row is not None:
                if row[1] != checksum:
                    raise IdempotencyConflict(key)
                return pending_from_row(row)
            conn.execute(
                "INSERT INTO pending_batches "
                "(key, checksum, events, size, claimed_at, batch_id, deltas) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (key, checksum, events, size, ts(now), batch_id, deltas),
            )
        return PendingBatch(key, checksum, events, size, dt(ts(now)), batch_id, deltas)

    def pending_batches(self, claimed_before: datetime) -> list[PendingBatch]:
        with self._db.read() as conn:
            rows = conn.execute(
                PENDING_SELECT + " WHERE claimed_at <= ? ORDER BY claimed_at, key",
                (ts(claimed_before),),
            ).fetchall()
        return [pending_from_row(row) for row in rows]

    def finish_batch(self, key: str, now: datetime) -> bool:
        with self._db.write() as conn:
            moved = conn.execute(
                "INSERT INTO batches (key, checksum, events, size, applied_at) "
                "SELECT key, checksum, events, size, ? FROM pending_batches WHERE key = ? "
                "ON CONFLICT (key) DO NOTHING",
                (ts(now), key),
            ).rowcount
            conn.execute("DELETE FROM pending_batches WHERE key = ?", (key,))
        return moved == 1

    def video_sharers(self, post_ids: Iterable[int]) -> list[tuple[int, int]]:
        wanted = sorted({to_signed(p) for p in post_ids})
        found: list[tuple[int, int]] = []
        with self._db.read() as conn:
            for chunk in chunks(wanted):
                found.extend(
                    conn.execute(
                        "SELECT p.id, q.id FROM posts p JOIN posts q ON q.video_key = p.video_key "  # noqa: S608
                        f"WHERE p.id IN ({marks(len(chunk))}) AND p.video_key IS NOT NULL",
                        chunk,
                    ).fetchall()
                )
        return [(from_signed(p), from_signed(q)) for p, q in found]
