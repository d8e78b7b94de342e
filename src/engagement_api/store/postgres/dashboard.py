"""The dashboard's sessions, one-time links and cookie secret, and the ingest log, on
PostgreSQL (mixed into PostgresStore). The same statements and results as
:mod:`engagement_api.store.sqlite.dashboard`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engagement_api.contract.ids import from_signed, to_signed
from engagement_api.domain import BatchRecord, DashboardSession, IngestMinute
from engagement_api.store.postgres.catalog import dt, ts
from engagement_api.store.postgres.pool import Connection, PgPool
from engagement_api.store.rows import (
    SESSION_COLUMNS,
    ingest_minutes_from_rows,
    session_from_row,
)

_GET_SESSION = (
    f"SELECT {SESSION_COLUMNS} FROM dashboard_sessions s "  # noqa: S608 (our names)
    "WHERE s.session_hash = %s AND s.expires_at > %s AND (s.admin_key_hash IS NULL OR EXISTS "
    "(SELECT 1 FROM admin_keys k WHERE k.key_hash = s.admin_key_hash AND NOT k.revoked))"
)
_PER_MINUTE = (
    "SELECT applied_at / 60, count(*), sum(events) FROM batches "
    "WHERE applied_at >= %s AND applied_at < %s GROUP BY 1"
)
_REJECTED_PER_MINUTE = (
    "SELECT at / 60, count(*), sum(lines) FROM ingest_rejections "
    "WHERE at >= %s AND at < %s GROUP BY 1"
)


class PostgresDashboard:
    """Needs ``_db`` (the store's pool) from the class it is mixed into."""

    _db: PgPool

    def session_secret(self, candidate: str) -> str:
        def work(conn: Connection) -> str:
            conn.execute(
                "INSERT INTO dashboard_secret (id, secret) VALUES (1, %s) "
                "ON CONFLICT (id) DO NOTHING",
                (candidate,),
            )
            row = conn.execute("SELECT secret FROM dashboard_secret WHERE id = 1").fetchone()
            assert row is not None  # (inserted above, or there already)
            secret: str = row[0]
            return secret

        return self._db.transact(work)

    def create_session(self, session_hash: str, session: DashboardSession) -> None:
        began = ts(session.created_at)
        user = None if session.user_id is None else to_signed(session.user_id)
        params = (
            session_hash,
            session.role,
            user,
            session.admin_key_hash,
            began,
            ts(session.expires_at),
        )

        def work(conn: Connection) -> None:
            conn.execute("DELETE FROM dashboard_sessions WHERE expires_at <= %s", (began,))
            conn.execute("DELETE FROM dashboard_links WHERE expires_at <= %s", (began,))
            conn.execute(
                "INSERT INTO dashboard_sessions (session_hash, role, user_id, admin_key_hash, "
                "created_at, expires_at) VALUES (%s, %s, %s, %s, %s, %s)",
                params,
            )

        self._db.transact(work)

    def get_session(self, session_hash: str, now: datetime) -> DashboardSession | None:
        row = self._db.read(
            lambda conn: conn.execute(_GET_SESSION, (session_hash, ts(now))).fetchone()
        )
        return None if row is None else session_from_row(row)

    def end_session(self, session_hash: str) -> bool:
        return self._db.transact(
            lambda conn: (
                conn.execute(
                    "DELETE FROM dashboard_sessions WHERE session_hash = %s", (session_hash,)
                ).rowcount
                == 1
            )
        )

    def create_link(
        self, token_hash: str, user_id: int, now: datetime, expires_at: datetime
    ) -> None:
        params = (token_hash, to_signed(user_id), ts(now), ts(expires_at))
        self._db.transact(
            lambda conn: conn.execute(
                "INSERT INTO dashboard_links (token_hash, user_id, created_at, expires_at) "
                "VALUES (%s, %s, %s, %s)",
                params,
            )
        )

    def spend_link(self, token_hash: str, now: datetime) -> int | None:
        params = (ts(now), token_hash, ts(now))
        row: tuple[Any, ...] | None = self._db.transact(
            lambda conn: conn.execute(
                "UPDATE dashboard_links SET used_at = %s WHERE token_hash = %s "
                "AND used_at IS NULL AND expires_at > %s RETURNING user_id",
                params,
            ).fetchone()
        )
        return None if row is None else from_signed(row[0])

    def record_rejection(self, kind: str, lines: int, size: int, now: datetime) -> None:
        self._db.transact(
            lambda conn: conn.execute(
                "INSERT INTO ingest_rejections (at, kind, lines, size) VALUES (%s, %s, %s, %s)",
                (ts(now), kind, lines, size),
            )
        )

    def recent_batches(self, limit: int) -> list[BatchRecord]:
        rows = self._db.read(
            lambda conn: conn.execute(
                "SELECT key, checksum, events, size, applied_at FROM batches "
                'ORDER BY applied_at DESC, key COLLATE "C" DESC LIMIT %s',
                (limit,),
            ).fetchall()
        )
        return [BatchRecord(r[0], r[1], r[2], r[3], dt(r[4])) for r in rows]

    def ingest_minutes(self, since: datetime, until: datetime) -> list[IngestMinute]:
        bounds = (ts(since), ts(until))

        def work(conn: Connection) -> list[IngestMinute]:
            applied = conn.execute(_PER_MINUTE, bounds).fetchall()
            rejected = conn.execute(_REJECTED_PER_MINUTE, bounds).fetchall()
            return ingest_minutes_from_rows(applied, rejected)

        return self._db.read(work)
