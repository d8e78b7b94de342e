"""SQLite connections, and the one place where the driver's errors become store errors.

As in Datasette, every write goes through one writer connection (serialised by a lock and by
SQLite's own write lock with ``BEGIN IMMEDIATE``, so several processes may share a file), and
reads use one connection per thread, opened query-only. WAL journal, ``synchronous=FULL``: a
committed batch survives a crash of the process or the machine.

The store needs SQLite :data:`MIN_SQLITE_VERSION` or newer (``INSERT ... RETURNING``); opening
a store on an older library fails with a clear :class:`StoreError`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Generic, TypeVar

from engagement_api.contract.policy import PostFacts
from engagement_api.store.errors import StoreError, StoreUnavailable

#: ``RETURNING`` (rate-limit counts) came in SQLite 3.35.0.
MIN_SQLITE_VERSION = (3, 35, 0)

WRITER_CACHE_KIB = 256 * 1024  # the writer connection's page cache (an upper bound)

T = TypeVar("T")

#: Primary result codes that mean "the database cannot serve us now", not "our SQL is wrong".
_UNAVAILABLE_CODES = frozenset(
    {
        sqlite3.SQLITE_BUSY,  # locked out by another process past busy_timeout
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_NOMEM,
        sqlite3.SQLITE_READONLY,  # the file or its directory is not writable
        sqlite3.SQLITE_INTERRUPT,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_CORRUPT,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_PROTOCOL,
        sqlite3.SQLITE_NOTADB,
        sqlite3.SQLITE_PERM,
        sqlite3.SQLITE_AUTH,
    }
)


#: Entries a thread's :class:`ReadCache` holds before it starts again (Posts' facts and
#: lifetime rows: a few hundred bytes each).
READ_CACHE_SIZE = 200_000
#: Whole windowed reads kept by a :class:`ReadCache` (their rows are the per-key lists' own).
WINDOW_READS = 1_000


class ReadCache:
    """What the read road read through one connection (each Post's facts, its lifetime counts,
    its hours of a window per metric; the apps and access tokens it authenticated with), kept
    while the database stays as it was: ``PRAGMA data_version`` changes when any other
    connection, of this process or another, commits to the file, and every use checks it first
    (:meth:`SqliteDatabase.read_cached`), so nothing is served that a commit changed.

    A value read just after a commit that the check did not see yet is kept under the version
    before it; the next check sees the new version and drops it, so nothing is ever older than
    the check of the request that reads it."""

    __slots__ = ("facts", "hourly", "lifetime", "rows", "version", "windows")

    def __init__(self) -> None:
        self.version: int | None = None
        self.facts: dict[int, PostFacts | None] = {}  # Post ID -> its facts; None: no such Post
        self.lifetime: dict[int, list[int]] = {}  # Post ID -> its lifetime counts, by code
        # (signed Post ID, metric, start hour, end hour) -> its rows in that window
        self.hourly: dict[tuple[int, int, int, int], list[tuple[int, int, int, int]]] = {}
        # (Post IDs, metric codes, start hour, end hour) of a whole read -> its rows, in order
        # (:data:`WINDOW_READS` at most: a read asked again answers from one lookup)
        self.windows: dict[
            tuple[tuple[int, ...], tuple[int, ...], int, int], list[tuple[int, int, int, int]]
        ] = {}
        # (statement, parameters) -> what its one row made (an app, an access token), or None
        self.rows: dict[tuple[str, tuple[str, ...]], object] = {}

    def check(self, version: int) -> None:
        parts: tuple[dict[Any, Any], ...] = (
            self.facts,
            self.lifetime,
            self.hourly,
            self.windows,
            self.rows,
        )
        if version != self.version or sum(map(len, parts)) > READ_CACHE_SIZE:
            for part in parts:
                part.clear()
            self.version = version


def _version_text(version: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in version)


def check_library(version: tuple[int, int, int] = sqlite3.sqlite_version_info) -> None:
    """Raise StoreError when the SQLite library is older than the store needs."""
    if version < MIN_SQLITE_VERSION:
        raise StoreError(
            f"the SQLite store needs SQLite {_version_text(MIN_SQLITE_VERSION)} or newer; "
            f"this Python links SQLite {_version_text(version)}"
        )


def _unavailable(exc: sqlite3.Error) -> StoreUnavailable:
    return StoreUnavailable(f"SQLite is unavailable: {exc}")


class _ErrorMap:
    """The context manager of :func:`map_sqlite_errors` (a class: a generator-based one costs
    a generator and its frames per use, and every store call enters one or two)."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        if isinstance(exc, sqlite3.ProgrammingError):
            if "closed" in str(exc):
                raise StoreUnavailable("the SQLite store is closed") from exc
        elif isinstance(exc, sqlite3.Error):
            code = getattr(exc, "sqlite_errorcode", None)
            if code is not None and code & 0xFF in _UNAVAILABLE_CODES:
                raise _unavailable(exc) from exc
        # anything else (a constraint, our own SQL) passes through unchanged


_ERROR_MAP = _ErrorMap()


def map_sqlite_errors() -> _ErrorMap:
    """Turn the driver's "cannot serve" errors into :class:`StoreUnavailable` (503): a closed
    connection, a file that cannot be opened, read or written, a lock held past the busy
    timeout. Everything else (a constraint, our own SQL) passes through unchanged."""
    return _ERROR_MAP


class _Using(Generic[T]):
    """``with``: ``value``, the driver's errors mapped as by :func:`map_sqlite_errors`, and
    ``lock`` (if any) held."""

    __slots__ = ("lock", "value")

    def __init__(self, value: T, lock: threading.RLock | None = None) -> None:
        self.value = value
        self.lock = lock

    def __enter__(self) -> T:
        if self.lock is not None:
            self.lock.acquire()
        return self.value

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        try:
            _ERROR_MAP.__exit__(kind, exc, tb)
        finally:
            if self.lock is not None:
                self.lock.release()


def sqlite_path(url: str) -> str:
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        raise StoreError(f"SQLite URL must look like sqlite:///PATH, got {url!r}")
    path = url[len(prefix) :]
    if not path:
        raise StoreError("SQLite URL has no path")
    return path


class SqliteDatabase:
    """One SQLite file: the writer connection, a query-only reader per thread, closing.

    ``synchronous`` is ``FULL`` for the store (a commit waits for its fsync) and ``NORMAL`` for
    the metering file (in WAL mode a commit does not wait for the disk; the WAL is synced at
    checkpoints: nothing is lost when a process dies, the last commits may be on a power cut).
    """

    def __init__(
        self, path: str, synchronous: str = "FULL", writer_cache_kib: int = WRITER_CACHE_KIB
    ) -> None:
        check_library()
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError(f"synchronous must be FULL or NORMAL, not {synchronous!r}")
        self.path = path
        self._synchronous = synchronous
        if self.path != ":memory:":
            parent = Path(self.path).parent
            if not parent.exists():
                raise StoreUnavailable(f"directory {parent} does not exist")
        self._write_lock = threading.RLock()
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._closed = False
        self._writer = self._connect(query_only=False)
        # A large page cache for the writer: batches upsert many rows of a big table.
        self._writer.execute(f"PRAGMA cache_size=-{int(writer_cache_kib)}")

    def _connect(self, query_only: bool) -> sqlite3.Connection:
        with map_sqlite_errors():
            try:
                conn = sqlite3.connect(
                    self.path, timeout=30.0, isolation_level=None, check_same_thread=False
                )
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"cannot open SQLite database {self.path}: {exc}") from exc
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self._synchronous}")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=30000")
            if query_only:
                conn.execute("PRAGMA query_only=ON")
        with self._all_lock:
            self._all.append(conn)
        return conn

    def _check_open(self) -> None:
        if self._closed:
            raise StoreUnavailable("the SQLite store is closed")

    def _reader(self) -> sqlite3.Connection:
        self._check_open()
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect(query_only=True)
        return conn

    def read(self) -> _Using[sqlite3.Connection]:
        """This thread's query-only connection (each statement sees the latest commit)."""
        return _Using(self._reader())

    def read_cached(self) -> _Using[tuple[sqlite3.Connection, ReadCache]]:
        """:meth:`read`, and this thread's :class:`ReadCache`, emptied if the database changed
        since its last use."""
        conn = self._reader()
        cache: ReadCache | None = getattr(self._local, "cache", None)
        if cache is None:
            cache = self._local.cache = ReadCache()
        with _ERROR_MAP:
            [(version,)] = conn.execute("PRAGMA data_version").fetchall()
        cache.check(int(version))
        return _Using((conn, cache))

    def writer(self) -> _Using[sqlite3.Connection]:
        """The writer connection, held by this thread, outside any transaction (the lock is
        taken when the ``with`` is entered)."""
        self._check_open()
        return _Using(self._writer, self._write_lock)

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``), committed on success."""
        with self.writer() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def ping(self) -> None:
        with self.read() as conn:
            conn.execute("SELECT 1").fetchone()

    def close(self) -> None:
        with self._all_lock:
            self._closed = True
            for conn in self._all:
                conn.close()
            self._all.clear()
