"""Apps, access tokens, ingest and admin keys, OAuth nonces on SQLite (mixed into SqliteStore)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar, cast

from engagement_api.contract.ids import to_signed
from engagement_api.domain import AccessToken, App
from engagement_api.store.protocols import NONCE_RETENTION
from engagement_api.store.rows import APP_COLUMNS, GRANT_COLUMNS, app_from_row, token_from_row
from engagement_api.store.sqlite.connection import SqliteDatabase

T = TypeVar("T")

_APP_BY_KEY = f"SELECT {APP_COLUMNS} FROM apps WHERE consumer_key = ?"  # noqa: S608 (constants)
_APP_BY_BEARER = f"SELECT {APP_COLUMNS} FROM apps WHERE bearer_hash = ?"  # noqa: S608 (constants)
_TOKEN = f"SELECT {GRANT_COLUMNS} FROM access_tokens WHERE token = ?"  # noqa: S608 (constants)


def _cached_row(
    db: SqliteDatabase, query: str, params: tuple[str, ...], made: Callable[[Any], T]
) -> T | None:
    """What ``made`` makes of the one row of ``query`` (None: no row), kept in the
    connection's :class:`ReadCache`: read once after each commit to the file, by any
    connection."""
    key = (query, params)
    with db.read_cached() as (conn, cache):
        if key in cache.rows:
            return cast("T | None", cache.rows[key])
        row = conn.execute(query, params).fetchone()
        found = cache.rows[key] = None if row is None else made(row)
    return found


class SqliteCredentials:
    """Needs ``_db`` (the store's :class:`SqliteDatabase`) and ``_metering`` (the metering
    file's, for nonces) from the class it is mixed into."""

    _db: SqliteDatabase
    _metering: SqliteDatabase
    _nonce_horizon: int  # the horizon this store last removed older nonces below

    def create_app(
        self,
        consumer_key: str,
        name: str,
        consumer_secret: str,
        bearer_hash: str,
        rate_limit: int,
        now: datetime,
    ) -> App:
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO apps (consumer_key, name, consumer_secret, bearer_hash, enabled, "
                "rate_limit, created_at) VALUES (?, ?, ?, ?, 1, ?, ?)",
                (
                    consumer_key,
                    name,
                    consumer_secret,
                    bearer_hash,
                    rate_limit,
                    int(now.timestamp()),
                ),
            )
        return App(consumer_key, name, consumer_secret, True, rate_limit, now)

    def get_app(self, consumer_key: str) -> App | None:
        """Through the read cache (see :func:`_cached_row`): a change (disabled, a new limit)
        is seen by the next request."""
        return _cached_row(self._db, _APP_BY_KEY, (consumer_key,), app_from_row)

    def app_by_bearer(self, bearer_hash: str) -> App | None:
        """Through the read cache, as :meth:`get_app`."""
        return _cached_row(self._db, _APP_BY_BEARER, (bearer_hash,), app_from_row)

    def list_apps(self) -> list[App]:
        query = f"SELECT {APP_COLUMNS} FROM apps ORDER BY created_at, consumer_key"  # noqa: S608
        with self._db.read() as conn:
            rows = conn.execute(query).fetchall()
        return [app_from_row(r) for r in rows]

    def set_app_enabled(self, consumer_key: str, enabled: bool) -> bool:
        with self._db.write() as conn:
            cur = conn.execute(
                "UPDATE apps SET enabled = ? WHERE consumer_key = ?", (int(enabled), consumer_key)
            )
            return cur.rowcount == 1

    def set_rate_limit(self, consumer_key: str, rate_limit: int) -> bool:
        with self._db.write() as conn:
            cur = conn.execute(
                "UPDATE apps SET rate_limit = ? WHERE consumer_key = ?", (rate_limit, consumer_key)
            )
            return cur.rowcount == 1

    def create_token(
        self, token: str, secret: str, consumer_key: str, user_id: int, now: datetime
    ) -> AccessToken:
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO access_tokens (token, secret, consumer_key, user_id, revoked, "
                "created_at) VALUES (?, ?, ?, ?, 0, ?)",
                (token, secret, consumer_key, to_signed(user_id), int(now.timestamp())),
            )
        return AccessToken(token, secret, consumer_key, user_id, False, now)

    def get_token(self, token: str) -> AccessToken | None:
        """Through the read cache, as :meth:`get_app` (a revocation is seen by the next
        request)."""
        return _cached_row(self._db, _TOKEN, (token,), token_from_row)

    def app_and_token(
        self, consumer_key: str, token: str | None
    ) -> tuple[App | None, AccessToken | None]:
        """Two lookups of the read cache (no round trip to make one of)."""
        return self.get_app(consumer_key), None if token is None else self.get_token(token)

    def revoke_token(self, token: str) -> bool:
        with self._db.write() as conn:
            cur = conn.execute("UPDATE access_tokens SET revoked = 1 WHERE token = ?", (token,))
            return cur.rowcount == 1

    def create_ingest_key(self, key_hash: str, now: datetime) -> None:
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO ingest_keys (key_hash, created_at) VALUES (?, ?)",
                (key_hash, int(now.timestamp())),
            )

    def has_ingest_key(self, key_hash: str) -> bool:
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT 1 FROM ingest_keys WHERE key_hash = ?", (key_hash,)
            ).fetchone()
        return row is not None

    def create_admin_key(self, key_hash: str, now: datetime) -> None:
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO admin_keys (key_hash, created_at, revoked) VALUES (?, ?, 0)",
                (key_hash, int(now.timestamp())),
            )

    def has_admin_key(self, key_hash: str) -> bool:
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT 1 FROM admin_keys WHERE key_hash = ? AND revoked = 0", (key_hash,)
            ).fetchone()
        return row is not None

    def revoke_admin_key(self, key_hash: str) -> bool:
        with self._db.write() as conn:
            cur = conn.execute(
                "UPDATE admin_keys SET revoked = 1 WHERE key_hash = ? AND revoked = 0",
                (key_hash,),
            )
            conn.execute("DELETE FROM dashboard_sessions WHERE admin_key_hash = ?", (key_hash,))
            return cur.rowcount == 1

    def use_nonce(self, consumer_key: str, nonce: str, timestamp: int, now: datetime) -> bool:
        """In the metering file (:mod:`.metering`): spent without waiting for the disk."""
        horizon = int(now.timestamp()) - NONCE_RETENTION
        # Each statement its own transaction (autocommit). The nonces older than the horizon
        # go first, when the horizon has moved since this store last removed them: a nonce
        # spent since then has a timestamp within the window of its "now", so it is not older
        # (and another process removes its own in the same way).
        with self._metering.writer() as conn:
            if horizon > self._nonce_horizon:
                conn.execute("DELETE FROM oauth_nonces WHERE ts < ?", (horizon,))
                self._nonce_horizon = horizon
            cur = conn.execute(
                "INSERT INTO oauth_nonces (consumer_key, nonce, ts) VALUES (?, ?, ?) "
                "ON CONFLICT (consumer_key, nonce) DO NOTHING",
                (consumer_key, nonce, timestamp),
            )
            return cur.rowcount == 1
