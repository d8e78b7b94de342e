"""SQLite backend: the embedded default.

As in Datasette, every write goes through one writer connection (serialised by a lock and by
SQLite's own write lock with ``BEGIN IMMEDIATE``, so several processes may share a file), and
reads use one connection per thread. WAL journal, ``synchronous=FULL``: a committed batch
survives a crash of the process or the machine.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from engagement_api.contract.ids import from_signed, to_signed
from engagement_api.contract.metrics import BY_CODE as METRICS_BY_CODE
from engagement_api.contract.metrics import VIDEO_VIEWS
from engagement_api.store.migrations import migrations_for, refuse_newer, require_current
from engagement_api.store.protocols import (
    BatchRecord,
    Deltas,
    IdempotencyConflict,
    MediaItem,
    Post,
    PostRecord,
    StoreError,
    StoreUnavailable,
    User,
)
from engagement_api.store.sqlite_credentials import SqliteCredentials
from engagement_api.store.sqlite_metering import SqliteMetering

if TYPE_CHECKING:
    from engagement_api.store.deltas import DeltaTable

T = TypeVar("T")

_CHUNK = 500  # IDs per IN (...) list, well under SQLite's variable limit
ROWS_PER_STATEMENT = 500  # rows per multi-row INSERT of a batch's counts
WRITER_CACHE_KIB = 256 * 1024  # the writer connection's page cache (an upper bound)


def _ts(moment: datetime) -> int:
    return int(moment.timestamp())


def _dt(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _chunks(values: Sequence[T]) -> Iterator[Sequence[T]]:
    for i in range(0, len(values), _CHUNK):
        yield values[i : i + _CHUNK]


def _marks(count: int) -> str:
    return ",".join("?" * count)


def _insert_rows(
    conn: sqlite3.Connection, head: str, tail: str, values: Sequence[int], width: int
) -> None:
    """``head VALUES (...), (...) tail`` for rows of ``width`` laid end to end in ``values``,
    up to :data:`ROWS_PER_STATEMENT` rows (and the driver's variable limit) per statement."""
    limit = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width
    per_statement = max(1, min(ROWS_PER_STATEMENT, limit)) * width
    group = f"({_marks(width)})"

    def statement(size: int) -> str:
        return f"{head} VALUES {','.join([group] * (size // width))} {tail}"

    full = statement(per_statement)
    for start in range(0, len(values), per_statement):
        chunk = values[start : start + per_statement]
        conn.execute(full if len(chunk) == per_statement else statement(len(chunk)), chunk)


# The packed key of counts_hourly (sql/sqlite/0003_packed_hourly_counts.sql):
#     key = seq << 32 | metric << 26 | (hour + 2^25)
_HOUR_OFFSET = 1 << 25
_SEQ_SHIFT, _METRIC_SHIFT = 32, 26
_HOUR_MASK = (1 << _METRIC_SHIFT) - 1
MAX_POST_SEQ = (1 << 31) - 1
assert max(METRICS_BY_CODE) < 1 << (_SEQ_SHIFT - _METRIC_SHIFT)  # the metric's bits


def _hour_bits(hour: int) -> int:
    bits = hour + _HOUR_OFFSET
    if not 0 <= bits <= _HOUR_MASK:
        raise StoreError(
            f"hour {hour} is outside what the SQLite store can key (years 1970 +- 3800)"
        )
    return bits


def _unpack(key: int) -> tuple[int, int, int]:
    """``(seq, metric, hour)`` of a packed key."""
    metric = (key >> _METRIC_SHIFT) & ((1 << (_SEQ_SHIFT - _METRIC_SHIFT)) - 1)
    return key >> _SEQ_SHIFT, metric, (key & _HOUR_MASK) - _HOUR_OFFSET


def _base(seq: int, metric: int) -> int:
    """The packed key of a Post's hour 0 - 2^25 of a metric (add :func:`_hour_bits`)."""
    return seq << _SEQ_SHIFT | metric << _METRIC_SHIFT


def _post_seqs(conn: sqlite3.Connection, post_ids: Iterable[int]) -> dict[int, int]:
    """Signed Post ID -> its ``seq`` (only Posts that were loaded have one)."""
    found: dict[int, int] = {}
    for chunk in _chunks(sorted({to_signed(p) for p in post_ids})):  # (to_signed: idempotent)
        sql = f"SELECT post_id, seq FROM post_keys WHERE post_id IN ({_marks(len(chunk))})"  # noqa: S608
        found.update(conn.execute(sql, chunk).fetchall())
    return found


def _numbered(conn: sqlite3.Connection, post_ids: Sequence[int]) -> dict[int, int]:
    """:func:`_post_seqs`, numbering first the Posts that have none (the store takes counts of
    any Post ID; ingest only sends those of loaded Posts, which are numbered when loaded)."""
    seqs = _post_seqs(conn, post_ids)
    missing = sorted(set(post_ids) - seqs.keys())
    if missing:
        conn.executemany("INSERT INTO post_keys (post_id) VALUES (?)", [(p,) for p in missing])
        seqs.update(_post_seqs(conn, missing))
    return seqs


def _packed_rows(table: DeltaTable, seqs: dict[int, int]) -> list[int]:
    """``key, count`` of every hourly delta, laid end to end in key order."""
    if not table:
        return []
    if max(seqs.values()) > MAX_POST_SEQ:
        raise StoreError("the SQLite store keys at most 2^31 Posts; use PostgreSQL")
    import polars as pl  # only where batches are applied (commands that never ingest skip it)

    for hour in table.hour_span():
        _hour_bits(hour)  # raises for an hour the key cannot hold
    c = pl.col
    packed = (
        table.frame.lazy()
        .select(
            key=(c("post_id").replace_strict(seqs, return_dtype=pl.Int64) * (1 << _SEQ_SHIFT))
            + c("metric") * (1 << _METRIC_SHIFT)
            + c("hour")
            + _HOUR_OFFSET,
            count="count",
        )
        .sort("key")
        .collect()
    )
    keys, counts = packed.get_column("key").to_list(), packed.get_column("count").to_list()
    return list(chain.from_iterable(zip(keys, counts, strict=True)))


def sqlite_path(url: str) -> str:
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        raise StoreError(f"SQLite URL must look like sqlite:///PATH, got {url!r}")
    path = url[len(prefix) :]
    if not path:
        raise StoreError("SQLite URL has no path")
    return path


class SqliteStore(SqliteCredentials, SqliteMetering):
    """Catalog, counters and credentials in one SQLite file."""

    backend = "sqlite"

    def __init__(self, url: str) -> None:
        self.url = url
        self.path = sqlite_path(url)
        if self.path != ":memory:":
            parent = Path(self.path).parent
            if not parent.exists():
                raise StoreUnavailable(f"directory {parent} does not exist")
        self._write_lock = threading.RLock()
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._writer = self._connect()
        # A large page cache for the writer: batches upsert many rows of a big table.
        self._writer.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")

    # -- connections -------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=30000")
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open SQLite database {self.path}: {exc}") from exc
        with self._all_lock:
            self._all.append(conn)
        return conn

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``), committed on success."""
        with self._write_lock:
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        with self._all_lock:
            for conn in self._all:
                conn.close()
            self._all.clear()

    def ping(self) -> None:
        try:
            self._reader().execute("SELECT 1").fetchone()
        except sqlite3.Error as exc:
            raise StoreUnavailable(str(exc)) from exc

    # -- schema ------------------------------------------------------------------------------

    def _version(self, conn: sqlite3.Connection) -> int:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
        )
        row = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    def schema_version(self) -> int:
        with self._write_lock:
            return self._version(self._writer)

    def migrate(self) -> list[int]:
        applied = []
        with self._write() as conn:
            current = self._version(conn)
            refuse_newer(current, self.backend)
            for migration in migrations_for(self.backend):
                if migration.version <= current:
                    continue
                for statement in migration.sql.split(";\n"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, strftime('%s','now'))",
                    (migration.version, migration.name),
                )
                applied.append(migration.version)
        return applied

    def check_schema(self) -> None:
        require_current(self.schema_version(), self.backend)

    # -- catalog -----------------------------------------------------------------------------

    def upsert_users(self, users: Sequence[User]) -> int:
        with self._write() as conn:
            conn.executemany(
                "INSERT INTO users (id, handle, handle_lc) VALUES (?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET handle = excluded.handle, "
                "handle_lc = excluded.handle_lc",
                [(to_signed(u.id), u.handle, u.handle.lower()) for u in users],
            )
        return len(users)

    def get_users(self, ids: Iterable[int]) -> dict[int, User]:
        wanted = sorted({to_signed(i) for i in ids})
        found: dict[int, User] = {}
        conn = self._reader()
        for chunk in _chunks(wanted):
            sql = f"SELECT id, handle FROM users WHERE id IN ({_marks(len(chunk))})"  # noqa: S608
            for uid, handle in conn.execute(sql, chunk):
                found[from_signed(uid)] = User(from_signed(uid), handle)
        return found

    def users_by_handle(self, handles: Iterable[str]) -> dict[str, User]:
        wanted = sorted({h.lower() for h in handles})
        found: dict[str, User] = {}
        conn = self._reader()
        for i in range(0, len(wanted), _CHUNK):
            chunk = wanted[i : i + _CHUNK]
            sql = (
                f"SELECT id, handle, handle_lc FROM users WHERE handle_lc IN ({_marks(len(chunk))})"  # noqa: S608
            )
            for uid, handle, handle_lc in conn.execute(sql, chunk):
                found[handle_lc] = User(from_signed(uid), handle)
        return found

    def upsert_posts(self, posts: Sequence[PostRecord]) -> int:
        with self._write() as conn:
            for record in posts:
                self._upsert_post(conn, record)
        return len(posts)

    def _upsert_post(self, conn: sqlite3.Connection, record: PostRecord) -> None:
        pid = to_signed(record.id)
        row = conn.execute("SELECT video_key FROM posts WHERE id = ?", (pid,)).fetchone()
        old_video: str | None = row[0] if row else None
        if row is None:
            conn.execute(
                "INSERT INTO posts (id, author_id, created_at, protected, deleted) "
                "VALUES (?, ?, ?, 0, 0)",
                (pid, to_signed(record.author_id), _ts(record.created_at)),
            )
            conn.execute("INSERT OR IGNORE INTO post_keys (post_id) VALUES (?)", (pid,))
        if record.protected is not None:
            conn.execute("UPDATE posts SET protected = ? WHERE id = ?", (record.protected, pid))
        if record.deleted is not None:
            conn.execute("UPDATE posts SET deleted = ? WHERE id = ?", (record.deleted, pid))
        if record.media is None:
            return
        conn.execute("DELETE FROM post_media WHERE post_id = ?", (pid,))
        conn.executemany(
            "INSERT INTO post_media (post_id, position, media_key, type) VALUES (?, ?, ?, ?)",
            [(pid, pos, m.media_key, m.type) for pos, m in enumerate(record.media)],
        )
        new_video = next((m.media_key for m in record.media if m.type == "video"), None)
        if new_video == old_video:
            return
        conn.execute("UPDATE posts SET video_key = ? WHERE id = ?", (new_video, pid))
        # Keep video_totals[key] == sum of lifetime views of the Posts whose video is key.
        own = conn.execute(
            "SELECT count FROM counts_total WHERE post_id = ? AND metric = ?",
            (pid, VIDEO_VIEWS.code),
        ).fetchone()
        views = int(own[0]) if own else 0
        if views:
            if old_video is not None:
                self._add_video(conn, {old_video: -views})
            if new_video is not None:
                self._add_video(conn, {new_video: views})

    @staticmethod
    def _add_video(conn: sqlite3.Connection, by_key: dict[str, int]) -> None:
        conn.executemany(
            "INSERT INTO video_totals (media_key, views) VALUES (?, ?) "
            "ON CONFLICT (media_key) DO UPDATE SET views = views + excluded.views",
            list(by_key.items()),
        )

    def get_posts(self, ids: Iterable[int]) -> dict[int, Post]:
        wanted = sorted({to_signed(i) for i in ids})
        rows: dict[int, tuple[int, int, int, int]] = {}
        media: dict[int, list[MediaItem]] = defaultdict(list)
        conn = self._reader()
        for chunk in _chunks(wanted):
            marks = _marks(len(chunk))
            for pid, author, created, protected, deleted in conn.execute(
                f"SELECT id, author_id, created_at, protected, deleted FROM posts "  # noqa: S608
                f"WHERE id IN ({marks})",
                chunk,
            ):
                rows[pid] = (author, created, protected, deleted)
            for pid, key, kind in conn.execute(
                f"SELECT post_id, media_key, type FROM post_media "  # noqa: S608
                f"WHERE post_id IN ({marks}) ORDER BY post_id, position",
                chunk,
            ):
                media[pid].append(MediaItem(key, kind))
        return {
            from_signed(pid): Post(
                id=from_signed(pid),
                author_id=from_signed(author),
                created_at=_dt(created),
                media=tuple(media.get(pid, ())),
                protected=bool(protected),
                deleted=bool(deleted),
            )
            for pid, (author, created, protected, deleted) in rows.items()
        }

    def posts_by_author(self, author_id: int) -> list[int]:
        rows = self._reader().execute(
            "SELECT id FROM posts WHERE author_id = ?", (to_signed(author_id),)
        )
        return sorted(from_signed(r[0]) for r in rows)

    # -- counters ----------------------------------------------------------------------------

    def get_batch(self, key: str) -> BatchRecord | None:
        row = (
            self._reader()
            .execute(
                "SELECT key, checksum, events, size, applied_at FROM batches WHERE key = ?", (key,)
            )
            .fetchone()
        )
        if row is None:
            return None
        return BatchRecord(row[0], row[1], row[2], row[3], _dt(row[4]))

    def apply_batch(
        self, key: str, checksum: str, events: int, size: int, deltas: Deltas, now: datetime
    ) -> bool:
        from engagement_api.store.deltas import DeltaTable

        table = DeltaTable.from_mapping(deltas)
        totals = list(chain.from_iterable(table.totals()))
        video_by_post = table.sums_of(VIDEO_VIEWS.code)
        with self._write() as conn:
            row = conn.execute("SELECT checksum FROM batches WHERE key = ?", (key,)).fetchone()
            if row is not None:
                if row[0] != checksum:
                    raise IdempotencyConflict(
                        f"Idempotency-Key {key!r} was already used for a different batch"
                    )
                return False
            # Rows in key order (the table's B-tree walked once, front to back), many per
            # statement (one call binds hundreds of rows: the per-call cost of the driver was
            # most of the time with one row per call).
            _insert_rows(
                conn,
                "INSERT INTO counts_hourly (key, count)",
                "ON CONFLICT (key) DO UPDATE SET count = count + excluded.count",
                _packed_rows(table, _numbered(conn, table.post_ids())),
                2,
            )
            _insert_rows(
                conn,
                "INSERT INTO counts_total (post_id, metric, count)",
                "ON CONFLICT (post_id, metric) DO UPDATE SET count = count + excluded.count",
                totals,
                3,
            )
            if video_by_post:
                by_key: dict[str, int] = defaultdict(int)
                posts = sorted(video_by_post)
                for chunk in _chunks(posts):
                    sql = (
                        f"SELECT id, video_key FROM posts WHERE id IN ({_marks(len(chunk))}) "  # noqa: S608
                        "AND video_key IS NOT NULL"
                    )
                    for pid, vkey in conn.execute(sql, chunk):
                        by_key[vkey] += video_by_post[pid]
                self._add_video(conn, by_key)
            conn.execute(
                "INSERT INTO batches (key, checksum, events, size, applied_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (key, checksum, events, size, _ts(now)),
            )
        return True

    def hourly(
        self, post_ids: Sequence[int], metric_codes: Sequence[int], start_hour: int, end_hour: int
    ) -> list[tuple[int, int, int, int]]:
        if not post_ids or not metric_codes or start_hour >= end_hour:
            return []
        conn = self._reader()
        post_of = {seq: from_signed(pid) for pid, seq in _post_seqs(conn, post_ids).items()}
        start, end = _hour_bits(start_hour), _hour_bits(end_hour - 1) + 1
        ranges = [
            (base + start, base + end)
            for seq in sorted(post_of)
            for metric in sorted(set(metric_codes))
            for base in [_base(seq, metric)]
        ]
        out = []
        for chunk in _chunks(ranges):
            # one rowid range per (Post, metric); CROSS JOIN keeps the ranges the outer loop
            sql = (
                f"WITH r (lo, hi) AS (VALUES {','.join(['(?, ?)'] * len(chunk))}) "  # noqa: S608
                "SELECT c.key, c.count FROM r CROSS JOIN counts_hourly c "
                "WHERE c.key >= r.lo AND c.key < r.hi AND c.count != 0"
            )
            for key, count in conn.execute(sql, list(chain.from_iterable(chunk))):
                seq, metric, hour = _unpack(key)
                out.append((post_of[seq], metric, hour, count))
        return out

    def totals(
        self, post_ids: Sequence[int], metric_codes: Sequence[int]
    ) -> dict[tuple[int, int], int]:
        if not post_ids or not metric_codes:
            return {}
        conn = self._reader()
        out: dict[tuple[int, int], int] = {}
        metrics = list(metric_codes)
        for chunk in _chunks([to_signed(p) for p in post_ids]):
            sql = (
                "SELECT post_id, metric, count FROM counts_total "  # noqa: S608
                f"WHERE post_id IN ({_marks(len(chunk))}) AND metric IN ({_marks(len(metrics))})"
            )
            for pid, metric, count in conn.execute(sql, [*chunk, *metrics]):
                out[(from_signed(pid), metric)] = count
        return out

    def video_totals(self, post_ids: Sequence[int]) -> dict[int, int]:
        conn = self._reader()
        out: dict[int, int] = {}
        for chunk in _chunks([to_signed(p) for p in post_ids]):
            sql = (
                "SELECT p.id, v.views FROM posts p JOIN video_totals v "  # noqa: S608
                f"ON v.media_key = p.video_key WHERE p.id IN ({_marks(len(chunk))})"
            )
            for pid, views in conn.execute(sql, chunk):
                out[from_signed(pid)] = views
        return out

    def lifetime(
        self, post_ids: Sequence[int], metric_codes: Sequence[int]
    ) -> dict[tuple[int, int], int]:
        video = VIDEO_VIEWS.code
        out = self.totals(post_ids, [code for code in metric_codes if code != video])
        if video in metric_codes:
            out.update(((pid, video), views) for pid, views in self.video_totals(post_ids).items())
        return out

    def prune_hourly(self, before_hour: int) -> int:
        with self._write() as conn:
            cur = conn.execute(
                f"DELETE FROM counts_hourly WHERE (key & {_HOUR_MASK}) < ?",  # noqa: S608
                (_hour_bits(max(before_hour, -_HOUR_OFFSET)),),
            )
            return cur.rowcount
