"""Apps, access tokens, ingest and admin keys, nonces on PostgreSQL (mixed into PostgresStore).

The same statements and results as :mod:`engagement_api.store.sqlite.credentials`.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from engagement_api.contract.ids import to_signed
from engagement_api.domain import AccessToken, App
from engagement_api.store.postgres.pool import Connection, PgPool
from engagement_api.store.protocols import NONCE_RETENTION
from engagement_api.store.rows import APP_COLUMNS, GRANT_COLUMNS, app_from_row, token_from_row

_GET_APP = (
    f"SELECT {APP_COLUMNS} FROM apps "  # noqa: S608
    "WHERE consumer_key = %s"
)
_APP_BY_BEARER = (
    f"SELECT {APP_COLUMNS} FROM apps "  # noqa: S608
    "WHERE bearer_hash = %s"
)
# The app and the token in one row (NULLs for either not found; no token: the NULL matches none).
_APP_AND_TOKEN = (
    "SELECT "  # noqa: S608 (constants only)
    + ", ".join(f"a.{column}" for column in APP_COLUMNS.split(", "))
    + ", "
    + ", ".join(f"t.{column}" for column in GRANT_COLUMNS.split(", "))
    + " FROM (SELECT) one LEFT JOIN apps a ON a.consumer_key = %s "
    "LEFT JOIN access_tokens t ON t.token = %s"
)
_APP_WIDTH = len(APP_COLUMNS.split(", "))
_NO_ROW = (None,) * (_APP_WIDTH + len(GRANT_COLUMNS.split(", ")))  # (it always answers one)
# Text compared byte by byte (COLLATE "C"), as SQLite does, so both list in the same order.
_LIST_APPS = (
    f"SELECT {APP_COLUMNS} FROM apps "  # noqa: S608
    'ORDER BY created_at, consumer_key COLLATE "C"'
)


_FORGET_NONCES = "DELETE FROM oauth_nonces WHERE ts < %s"
#: A nonce spent again is unused only when it is older than the horizon (the last parameter):
#: whether the expired ones were deleted yet makes no difference (oauth_nonces AS o).
NONCE_CONFLICT = (
    "ON CONFLICT (consumer_key, nonce) DO UPDATE SET ts = excluded.ts WHERE o.ts < %s RETURNING 1"
)
_SPEND_NONCE = (
    "INSERT INTO oauth_nonces AS o (consumer_key, nonce, ts) VALUES (%s, %s, %s) "  # noqa: S608
    + NONCE_CONFLICT  # (constants only)
)
#: How often a process deletes the expired nonces (seconds).
FORGET_EVERY = 1.0
_forgotten_at = float("-inf")  # (monotonic time, in this process)


def forget_expired_nonces(db: PgPool, horizon: int) -> None:
    """Delete the nonces older than ``horizon``, unless this process did less than
    :data:`FORGET_EVERY` ago (housekeeping only: see :data:`NONCE_CONFLICT`)."""
    global _forgotten_at
    moment = time.monotonic()
    if moment - _forgotten_at < FORGET_EVERY:
        return
    _forgotten_at = moment
    db.statements(lambda conn: conn.execute(_FORGET_NONCES, (horizon,)))


def _one(conn: Connection, query: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
    return conn.execute(query, params).fetchone()


#: How many (consumer key, token) a process remembers before it starts over.
REMEMBERED_GRANTS = 10_000


class PostgresCredentials:
    """Needs ``_db`` and ``_per_request`` (the per-request pool: nonces, and the app and token
    lookups of every read request) and ``_remembered_grants`` (a dict) from the class it is
    mixed into."""

    _db: PgPool
    _per_request: PgPool
    _remembered_grants: dict[tuple[str, str | None], tuple[App | None, AccessToken | None]]

    def create_app(
        self,
        consumer_key: str,
        name: str,
        consumer_secret: str,
        bearer_hash: str,
        rate_limit: int,
        now: datetime,
    ) -> App:
        params = (
            consumer_key,
            name,
            consumer_secret,
            bearer_hash,
            rate_limit,
            int(now.timestamp()),
        )
        self._db.transact(
            lambda conn: conn.execute(
                "INSERT INTO apps (consumer_key, name, consumer_secret, bearer_hash, enabled, "
                "rate_limit, created_at) VALUES (%s, %s, %s, %s, true, %s, %s)",
                params,
            )
        )
        return App(consumer_key, name, consumer_secret, True, rate_limit, now)

    def get_app(self, consumer_key: str) -> App | None:
        row = self._per_request.read(lambda conn: _one(conn, _GET_APP, (consumer_key,)))
        return app_from_row(row) if row else None

    def app_by_bearer(self, bearer_hash: str) -> App | None:
        row = self._per_request.read(lambda conn: _one(conn, _APP_BY_BEARER, (bearer_hash,)))
        return app_from_row(row) if row else None

    def list_apps(self) -> list[App]:
        rows = self._db.read(lambda conn: conn.execute(_LIST_APPS).fetchall())
        return [app_from_row(r) for r in rows]

    def _update(self, query: str, params: tuple[Any, ...]) -> bool:
        return self._db.transact(lambda conn: conn.execute(query, params).rowcount == 1)

    def set_app_enabled(self, consumer_key: str, enabled: bool) -> bool:
        return self._update(
            "UPDATE apps SET enabled = %s WHERE consumer_key = %s", (enabled, consumer_key)
        )

    def set_rate_limit(self, consumer_key: str, rate_limit: int) -> bool:
        return self._update(
            "UPDATE apps SET rate_limit = %s WHERE consumer_key = %s", (rate_limit, consumer_key)
        )

    def create_token(
        self, token: str, secret: str, consumer_key: str, user_id: int, now: datetime
    ) -> AccessToken:
        params = (token, secret, consumer_key, to_signed(user_id), int(now.timestamp()))
        self._db.transact(
            lambda conn: conn.execute(
                "INSERT INTO access_tokens (token, secret, consumer_key, user_id, revoked, "
                "created_at) VALUES (%s, %s, %s, %s, false, %s)",
                params,
            )
        )
        return AccessToken(token, secret, consumer_key, user_id, False, now)

    def get_token(self, token: str) -> AccessToken | None:
        query = (
            f"SELECT {GRANT_COLUMNS} "  # noqa: S608
            "FROM access_tokens WHERE token = %s"
        )
        row = self._per_request.read(lambda conn: _one(conn, query, (token,)))
        if row is None:
            return None
        return token_from_row(row)

    def app_and_token(
        self, consumer_key: str, token: str | None
    ) -> tuple[App | None, AccessToken | None]:
        """One statement on the per-request pool; what it finds is remembered for
        :meth:`remembered_app_and_token` (or forgotten, when it is not all there)."""
        params = (consumer_key, token)
        row = self._per_request.read(lambda conn: _one(conn, _APP_AND_TOKEN, params)) or _NO_ROW
        app_row, grant_row = row[:_APP_WIDTH], row[_APP_WIDTH:]
        app = None if app_row[0] is None else app_from_row(app_row)
        grant = None if grant_row[0] is None else token_from_row(grant_row)
        found = (app, grant)
        remembered = self._remembered_grants
        if app is None or (token is not None and (grant is None or grant.revoked)):
            remembered.pop(params, None)
        else:
            if len(remembered) >= REMEMBERED_GRANTS:
                remembered.clear()
            remembered[params] = found
        return found

    def remembered_app_and_token(
        self, consumer_key: str, token: str | None
    ) -> tuple[App | None, AccessToken | None]:
        """:meth:`app_and_token`, from memory when this process found them before: for the
        admission of a read request, which checks them again in its statement (an app or a
        token changed since is looked up anew, see :mod:`.admission`)."""
        found = self._remembered_grants.get((consumer_key, token))
        return found if found is not None else self.app_and_token(consumer_key, token)

    def revoke_token(self, token: str) -> bool:
        return self._update("UPDATE access_tokens SET revoked = true WHERE token = %s", (token,))

    def create_ingest_key(self, key_hash: str, now: datetime) -> None:
        self._db.transact(
            lambda conn: conn.execute(
                "INSERT INTO ingest_keys (key_hash, created_at) VALUES (%s, %s)",
                (key_hash, int(now.timestamp())),
            )
        )

    def has_ingest_key(self, key_hash: str) -> bool:
        query = "SELECT 1 FROM ingest_keys WHERE key_hash = %s"
        return self._db.read(lambda conn: _one(conn, query, (key_hash,))) is not None

    def create_admin_key(self, key_hash: str, now: datetime) -> None:
        self._db.transact(
            lambda conn: conn.execute(
                "INSERT INTO admin_keys (key_hash, created_at, revoked) VALUES (%s, %s, false)",
                (key_hash, int(now.timestamp())),
            )
        )

    def has_admin_key(self, key_hash: str) -> bool:
        query = "SELECT 1 FROM admin_keys WHERE key_hash = %s AND NOT revoked"
        return self._db.read(lambda conn: _one(conn, query, (key_hash,))) is not None

    def revoke_admin_key(self, key_hash: str) -> bool:
        def work(conn: Connection) -> bool:
            cur = conn.execute(
                "UPDATE admin_keys SET revoked = true WHERE key_hash = %s AND NOT revoked",
                (key_hash,),
            )
            conn.execute("DELETE FROM dashboard_sessions WHERE admin_key_hash = %s", (key_hash,))
            return cur.rowcount == 1

        return self._db.transact(work)

    def use_nonce(self, consumer_key: str, nonce: str, timestamp: int, now: datetime) -> bool:
        """On the per-request pool (see :mod:`.metering`): one round trip, no wait for the WAL
        flush (a crash may forget the last moment's nonces; their replays stay refused by the
        timestamp window only); the expired ones deleted at most once a second."""
        horizon = int(now.timestamp()) - NONCE_RETENTION
        forget_expired_nonces(self._per_request, horizon)
        params = (consumer_key, nonce, timestamp, horizon)
        return self._per_request.statements(
            lambda conn: conn.execute(_SPEND_NONCE, params).fetchone() is not None
        )
