"""PostgreSQL connections: the URL's own settings, a psycopg connection pool, and the mapping
of connection failures onto :class:`StoreUnavailable`.

URL query parameters read (and removed) here; every other parameter goes to libpq as given
(``sslmode``, ``connect_timeout``, ``application_name``, ``options`` ...):

``pool_min`` (default 1), ``pool_max`` (default 10)
    Connections kept open / opened at most, per process.
``pool_timeout`` (seconds, default 5)
    How long a request waits for a connection before failing with StoreUnavailable (503).
``statement_timeout_ms`` (default 0: none)
    Set on every connection; a statement cancelled by it fails with StoreUnavailable.

New connections get ``connect_timeout=5`` unless the URL sets one. When the server goes away,
broken connections are noticed when taken from the pool and replaced in the background, so
service resumes by itself once the server is back: a connection idle for more than
:data:`CHECK_AFTER` seconds is checked with an empty query before it is handed out (one more
round trip); one back from a request within that time is not (under load, every request would
otherwise pay a round trip for nothing). If the server went away within that second, the request
that finds out answers 503 and its connection is thrown away.
"""

from __future__ import annotations

import random
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg.rows import TupleRow
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout

from engagement_api.store.errors import StoreError, StoreUnavailable
from engagement_api.store.postgres.cooperative import CooperativeConnection

T = TypeVar("T")

#: A connection returned to the pool less than this many seconds ago is handed out unchecked.
CHECK_AFTER = 1.0

#: SQLSTATEs after which a whole transaction is simply tried again.
RETRYABLE = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected
ATTEMPTS = 6

Connection = psycopg.Connection[TupleRow]


@dataclass(frozen=True, slots=True)
class PoolSettings:
    conninfo: str
    pool_min: int = 1
    pool_max: int = 10
    pool_timeout: float = 5.0
    statement_timeout_ms: int = 0
    connect_timeout: bool = False  # whether the URL sets its own


def _number(
    params: dict[str, str], name: str, default: float, kind: type[int] | type[float]
) -> float:
    raw = params.pop(name, None)
    if raw is None:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise StoreError(f"database URL parameter {name}={raw!r} is not a number") from None
    if value < 0:
        raise StoreError(f"database URL parameter {name} must not be negative")
    return value


def parse_url(url: str) -> PoolSettings:
    """Split our pool settings from the libpq connection URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise StoreError(f"PostgreSQL URL must start with postgresql://, got {url!r}")
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    pool_min = int(_number(params, "pool_min", 1, int))
    pool_max = int(_number(params, "pool_max", max(10, pool_min), int))
    if pool_max < max(1, pool_min):
        raise StoreError("database URL parameter pool_max must be at least 1 and pool_min")
    pool_timeout = _number(params, "pool_timeout", 5.0, float)
    statement_timeout = int(_number(params, "statement_timeout_ms", 0, int))
    conninfo = urlunsplit(parts._replace(query=urlencode(params)))
    return PoolSettings(
        conninfo,
        pool_min,
        pool_max,
        pool_timeout,
        statement_timeout,
        "connect_timeout" in params,
    )


def _unavailable(exc: BaseException) -> StoreUnavailable:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return StoreUnavailable(f"PostgreSQL is unavailable: {first}")


class PgPool:
    """A connection pool whose failures come out as store errors."""

    def __init__(
        self,
        settings: PoolSettings,
        name: str = "engagement-api",
        session: dict[str, str] | None = None,
    ) -> None:
        """``session``: settings every connection of this pool gets (``set_config``), such as
        ``{"synchronous_commit": "off"}`` for the per-request pool."""
        self.settings = settings
        self._session = dict(session or {})
        self._last_returned: weakref.WeakKeyDictionary[Connection, float] = (
            weakref.WeakKeyDictionary()
        )
        kwargs: dict[str, object] = {"autocommit": True}
        if not settings.connect_timeout:
            kwargs["connect_timeout"] = 5
        self._pool: ConnectionPool[Connection] = ConnectionPool(
            settings.conninfo,
            # (each waits through the event loop in a call of Cooperative.run, else blocks)
            connection_class=CooperativeConnection,
            kwargs=kwargs,
            min_size=settings.pool_min,
            max_size=settings.pool_max,
            timeout=settings.pool_timeout,
            # After an outage, give up a background reconnection soon (its back-off sleeps 1 s,
            # 2 s, 4 s...): the next request then starts a new attempt at once, so service
            # resumes within about pool_timeout of the database coming back.
            reconnect_timeout=max(settings.pool_timeout, 1.0),
            configure=self._configure,
            check=self._check,
            # no reset callback: with one, psycopg_pool hands every returned connection to its
            # worker thread, and it is not back in the pool until that thread has run
            name=name,
            open=False,
        )
        self._pool.open(wait=False)

    def _check(self, conn: Connection) -> None:
        """Before a connection is handed out: check it unless it came back just now."""
        returned = self._last_returned.get(conn)
        if returned is not None and time.monotonic() - returned < CHECK_AFTER:
            return
        ConnectionPool.check_connection(conn)

    def _configure(self, conn: Connection) -> None:
        session = dict(self._session)
        if self.settings.statement_timeout_ms:
            session["statement_timeout"] = str(self.settings.statement_timeout_ms)
        for name, value in session.items():
            conn.execute("SELECT set_config(%s, %s, false)", (name, value))

    def close(self) -> None:
        self._pool.close()

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A pooled autocommit connection. Retryable transaction failures pass through as
        psycopg errors (see :meth:`transact`); every other operational failure (no server,
        broken connection, admin shutdown, statement timeout) becomes StoreUnavailable."""
        try:
            with self._pool.connection() as conn:
                yield conn
                # going back to the pool, healthy (a failure above skips this: checked next time)
                self._last_returned[conn] = time.monotonic()
        except PoolClosed as exc:
            raise StoreUnavailable("the store is closed") from exc
        except PoolTimeout as exc:
            raise _unavailable(exc) from exc
        except psycopg.OperationalError as exc:
            if exc.sqlstate in RETRYABLE:
                raise
            raise _unavailable(exc) from exc

    def read(self, work: Callable[[Connection], T]) -> T:
        """Run read-only ``work`` on a connection (each statement in its own snapshot)."""
        try:
            with self.connection() as conn:
                return work(conn)
        except psycopg.OperationalError as exc:  # a retryable failure while only reading
            raise _unavailable(exc) from exc

    def statements(self, work: Callable[[Connection], T]) -> T:
        """Run ``work``'s statements in autocommit (each its own transaction; pipeline them for
        one round trip). Failures come out as StoreUnavailable, as for :meth:`read`."""
        return self.read(work)

    def transact(
        self, work: Callable[[Connection], T], lock: int | None = None, attempts: int = ATTEMPTS
    ) -> T:
        """Run ``work`` in one transaction, committed when it returns; deadlocks and
        serialization failures roll it back and run it again (a bounded number of times).

        With ``lock``, the transaction begins only once this session holds that advisory lock
        (and ends before it is released), so it sees everything committed by the previous
        holder, catalog changes included.
        """
        for attempt in range(1, attempts + 1):
            try:
                with self.connection() as conn:
                    if lock is None:
                        with conn.transaction():
                            return work(conn)
                    conn.execute("SELECT pg_advisory_lock(%s)", (lock,))
                    try:
                        with conn.transaction():
                            return work(conn)
                    finally:
                        if not conn.broken:
                            conn.execute("SELECT pg_advisory_unlock(%s)", (lock,))
            except psycopg.OperationalError as exc:
                if attempt == attempts:
                    raise StoreUnavailable(
                        f"PostgreSQL transaction failed {attempts} times: {exc.sqlstate}"
                    ) from exc
                time.sleep(random.uniform(0.005, 0.02) * attempt)
        raise AssertionError("unreachable")  # pragma: no cover
