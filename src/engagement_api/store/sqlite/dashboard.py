"""The dashboard's sessions, one-time links and cookie secret, and the ingest log, on SQLite
(mixed into SqliteStore). The same statements and results as
:mod:`engagement_api.store.postgres.dashboard`."""

from __future__ import annotations

from datetime import datetime

from engagement_api.contract.ids import from_signed, to_signed
from engagement_api.domain import BatchRecord, DashboardSession, IngestMinute
from engagement_api.store.rows import (
    SESSION_COLUMNS,
    ingest_minutes_from_rows,
    session_from_row,
)
from engagement_api.store.sqlite.connection import SqliteDatabase
from engagement_api.store.sqlite.statements import dt, ts

_GET_SESSION = (
    f"SELECT {SESSION_COLUMNS} FROM dashboard_sessions s "  # noqa: S608 (our names)
    "WHERE s.session_hash = ? AND s.expires_at > ? AND (s.admin_key_hash IS NULL OR EXISTS "
    "(SELECT 1 FROM admin_keys k WHERE k.key_hash = s.admin_key_hash AND k.revoked = 0))"
)


class SqliteDashboard:
    """Needs ``_db`` (the store's :class:`SqliteDatabase`) from the class it is mixed into."""

    _db: SqliteDatabase

    def session_secret(self, candidate: str) -> str:
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO dashboard_secret (id, secret) VALUES (1, ?) "
                "ON CONFLICT (id) DO NOTHING",
                (candidate,),
            )
            row = conn.execute("SELECT secret FROM dashboard_secret WHERE id = 1").fetchone()
        secret: str = row[0]
        return secret

    def create_session(self, session_hash: str, session: DashboardSession) -> None:
        began = ts(session.created_at)
        user = None if session.user_id is None else to_signed(session.user_id)
        with self._db.write() as conn:
            conn.execute("DELETE FROM dashboard_sessions WHERE expires_at <= ?", (began,))
            conn.execute("DELETE FROM dashboard_links WHERE expires_at <= ?", (began,))
            conn.execute(
                "INSERT INTO dashboard_sessions (session_hash, role, user_id, admin_key_hash, "
                "created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    session_hash,
                    session.role,
                    user,
                    session.admin_key_hash,
                    began,
                    ts(session.expires_at),
                ),
            )

    def get_session(self, session_hash: str, now: datetime) -> DashboardSession | None:
        with self._db.read() as conn:
            row = conn.execute(_GET_SESSION, (session_hash, ts(now))).fetchone()
        return None if row is None else session_from_row(row)

    def end_session(self, session_hash: str) -> bool:
        with self._db.write() as conn:
            cur = conn.execute(
                "DELETE FROM dashboard_sessions WHERE session_hash = ?", (session_hash,)
            )
            return cur.rowcount == 1

    def create_link(
        self, token_hash: str, user_id: int, now: datetime, expires_at: datetime
    ) -> None:
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO dashboard_links (token_hash, user_id, created_at, expires_at) "
                "VALUES (?, ?, ?, ?)",
                (token_hash, to_signed(user_id), ts(now), ts(expires_at)),
            )

    def spend_link(self, token_hash: str, now: datetime) -> int | None:
        with self._db.write() as conn:
            row = conn.execute(
                "UPDATE dashboard_links SET used_at = ? "
                "WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING user_id",
                (ts(now), token_hash, ts(now)),
            ).fetchone()
        return None if row is None else from_signed(row[0])

    def record_rejection(self, kind: str, lines: int, size: int, now: datetime) -> None:
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO ingest_rejections (at, kind, lines, size) VALUES (?, ?, ?, ?)",
                (ts(now), kind, lines, size),
            )

    def recent_batches(self, limit: int) -> list[BatchRecord]:
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT key, checksum, events, size, applied_at FROM batches "
                "ORDER BY applied_at DESC, key DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [BatchRecord(r[0], r[1], r[2], r[3], dt(r[4])) for r in rows]

    def ingest_minutes(self, since: datetime, until: datetime) -> list[IngestMinute]:
        bounds = (ts(since), ts(until))
        with self._db.read() as conn:
            applied = conn.execute(
                "SELECT applied_at / 60, count(*), sum(events) FROM batches "
                "WHERE applied_at >= ? AND applied_at < ? GROUP BY 1",
                bounds,
            ).fetchall()
            rejected = conn.execute(
                "SELECT at / 60, count(*), sum(lines) FROM ingest_rejections "
                "WHERE at >= ? AND at < ? GROUP BY 1",
                bounds,
            ).fetchall()
        return ingest_minutes_from_rows(applied, rejected)
