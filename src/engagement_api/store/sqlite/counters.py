"""Hourly counts, lifetime totals, per-video totals and the batch ledger on SQLite (mixed into
SqliteStore).

``counts_hourly`` is keyed by one packed integer (``sql/0003_packed_hourly_counts.sql``)::

    key = seq << 32 | metric << 26 | (hour + 2^25)

where ``seq`` numbers Posts (``post_keys``), so a Post's hours of one metric are one rowid range.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from itertools import chain
from operator import itemgetter
from typing import TYPE_CHECKING

from engagement_api.contract.ids import from_signed, to_signed
from engagement_api.contract.metrics import BY_CODE as METRICS_BY_CODE
from engagement_api.contract.metrics import VIDEO_VIEWS
from engagement_api.contract.policy import PostFacts
from engagement_api.domain import BatchRecord, Deltas
from engagement_api.store.errors import IdempotencyConflict, StoreError
from engagement_api.store.rows import (
    FACT_COLUMNS,
    LIFETIME_ROW,
    counts_by_key,
    facts_from_rows,
    unsigned,
)
from engagement_api.store.sqlite.connection import WINDOW_READS, ReadCache, SqliteDatabase
from engagement_api.store.sqlite.statements import (
    add_video_views,
    chunks,
    dt,
    insert_rows,
    marks,
    ts,
)

if TYPE_CHECKING:
    from engagement_api.store.deltas import DeltaTable

_HOUR_OFFSET = 1 << 25
_SEQ_SHIFT, _METRIC_SHIFT = 32, 26
_HOUR_MASK = (1 << _METRIC_SHIFT) - 1
_METRIC_MASK = (1 << (_SEQ_SHIFT - _METRIC_SHIFT)) - 1
MAX_POST_SEQ = (1 << 31) - 1
assert max(METRICS_BY_CODE) < 1 << (_SEQ_SHIFT - _METRIC_SHIFT)  # the metric's bits


def _hour_bits(hour: int) -> int:
    bits = hour + _HOUR_OFFSET
    if not 0 <= bits <= _HOUR_MASK:
        raise StoreError(
            f"hour {hour} is outside what the SQLite store can key (years 1970 +- 3800)"
        )
    return bits


def _base(seq: int, metric: int) -> int:
    """The packed key of a Post's hour 0 - 2^25 of a metric (add :func:`_hour_bits`)."""
    return seq << _SEQ_SHIFT | metric << _METRIC_SHIFT


def _hourly_rows(
    conn: sqlite3.Connection,
    post_of: dict[int, int],
    keys: list[tuple[int, int, int, int]],
    start_hour: int,
    end_hour: int,
) -> dict[tuple[int, int, int, int], list[tuple[int, int, int, int]]]:
    """The rows ``(Post ID, metric, hour, count)`` of each (signed Post ID, metric, start,
    end) key, Post IDs unsigned; ``post_of``: seq -> signed Post ID of every key's Post."""
    seq_of = {pid: seq for seq, pid in post_of.items()}
    start, end = _hour_bits(start_hour), _hour_bits(end_hour - 1) + 1
    found: dict[tuple[int, int, int, int], list[tuple[int, int, int, int]]] = {
        key: [] for key in keys
    }
    ranges = [
        (base + start, base + end)
        for pid, metric, _, _ in keys
        for base in [_base(seq_of[pid], metric)]
    ]
    for chunk in chunks(ranges):
        # one rowid range per (Post, metric); CROSS JOIN keeps the ranges the outer loop
        # (the key unpacked by SQLite: no Python call per row)
        sql = (
            f"WITH r (lo, hi) AS (VALUES {','.join(['(?, ?)'] * len(chunk))}) "  # noqa: S608
            f"SELECT c.key >> {_SEQ_SHIFT}, (c.key >> {_METRIC_SHIFT}) & {_METRIC_MASK}, "
            f"(c.key & {_HOUR_MASK}) - {_HOUR_OFFSET}, c.count "
            "FROM r CROSS JOIN counts_hourly c "
            "WHERE c.key >= r.lo AND c.key < r.hi AND c.count != 0"
        )
        for seq, metric, hour, count in conn.execute(sql, list(chain.from_iterable(chunk))):
            pid = post_of[seq]
            found[(pid, metric, start_hour, end_hour)].append(
                (from_signed(pid), metric, hour, count)
            )
    return found


#: Every lifetime count of ``%s`` Post IDs (placeholders only: see ``marks``).
_TOTALS_OF_POSTS = "SELECT post_id, metric, count FROM counts_total WHERE post_id IN (%s)"
#: The views of each Post's video (its first video's media key), for ``%s`` Post IDs.
_VIDEO_OF_POSTS = (
    "SELECT p.id, v.views FROM posts p JOIN video_totals v "
    "ON v.media_key = p.video_key WHERE p.id IN (%s)"
)
#: Post seqs a process keeps (about 100 bytes each).
SEQ_CACHE_SIZE = 1_000_000


def _post_seqs(conn: sqlite3.Connection, post_ids: Iterable[int]) -> dict[int, int]:
    """Signed Post ID -> its ``seq`` (only Posts that were loaded have one)."""
    found: dict[int, int] = {}
    for chunk in chunks(sorted({to_signed(p) for p in post_ids})):  # (to_signed: idempotent)
        sql = f"SELECT post_id, seq FROM post_keys WHERE post_id IN ({marks(len(chunk))})"  # noqa: S608
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


def lifetime_rows(
    conn: sqlite3.Connection, cache: ReadCache, post_ids: Sequence[int]
) -> dict[int, list[int]]:
    """Each Post's lifetime row (its count of every metric by code, its video's views at the
    video code; zeros for a Post without counts or unknown), those ``cache`` lacks read in two
    statements per chunk. Returns the cache's own mapping (callers only read it)."""
    video = VIDEO_VIEWS.code
    rows = cache.lifetime
    missing = sorted({p for p in post_ids if p not in rows})
    if missing:
        fresh = {p: [0] * LIFETIME_ROW for p in missing}
        for chunk in chunks([to_signed(p) for p in missing]):
            for pid, metric, count in conn.execute(_TOTALS_OF_POSTS % marks(len(chunk)), chunk):
                if metric != video and 0 <= metric < LIFETIME_ROW:
                    fresh[from_signed(pid)][metric] = count
            for pid, views in conn.execute(_VIDEO_OF_POSTS % marks(len(chunk)), chunk):
                fresh[from_signed(pid)][video] = views
        rows.update(fresh)
    return rows


def cached_facts(
    conn: sqlite3.Connection, cache: ReadCache, wanted: Sequence[int]
) -> dict[int, PostFacts]:
    """The facts of the Posts of ``wanted`` that exist (``post_facts``): those ``cache`` lacks
    read in one statement per chunk."""
    known = cache.facts
    missing = sorted({i for i in wanted if i not in known})
    if missing:
        fetched: dict[int, PostFacts] = {}
        for chunk in chunks([to_signed(i) for i in missing]):
            sql = f"SELECT {FACT_COLUMNS} FROM posts WHERE id IN ({marks(len(chunk))})"  # noqa: S608
            facts_from_rows(conn.execute(sql, chunk), fetched)
        known.update(zip(missing, map(fetched.get, missing), strict=True))
    return {i: facts for i in wanted if (facts := known.get(i)) is not None}


class SqliteCounters:
    """Needs ``_db`` (a :class:`SqliteDatabase`) from the class it is mixed into."""

    _db: SqliteDatabase
    _seqs: dict[int, int]  # signed Post ID -> seq, as committed (see _known_seqs)

    def get_batch(self, key: str) -> BatchRecord | None:
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT key, checksum, events, size, applied_at FROM batches WHERE key = ?", (key,)
            ).fetchone()
        if row is None:
            return None
        return BatchRecord(row[0], row[1], row[2], row[3], dt(row[4]))

    def apply_batch(
        self, key: str, checksum: str, events: int, size: int, deltas: Deltas, now: datetime
    ) -> bool:
        from engagement_api.store.deltas import DeltaTable

        table = DeltaTable.from_mapping(deltas)
        totals = list(chain.from_iterable(table.totals()))
        video_by_post = table.sums_of(VIDEO_VIEWS.code)
        with self._db.write() as conn:
            row = conn.execute("SELECT checksum FROM batches WHERE key = ?", (key,)).fetchone()
            if row is not None:
                if row[0] != checksum:
                    raise IdempotencyConflict(key)
                return False
            # Rows in key order (the table's B-tree walked once, front to back), many per
            # statement (one call binds hundreds of rows: the per-call cost of the driver was
            # most of the time with one row per call).
            insert_rows(
                conn,
                "INSERT INTO counts_hourly (key, count)",
                "ON CONFLICT (key) DO UPDATE SET count = count + excluded.count",
                _packed_rows(table, _numbered(conn, table.post_ids())),
                2,
            )
            insert_rows(
                conn,
                "INSERT INTO counts_total (post_id, metric, count)",
                "ON CONFLICT (post_id, metric) DO UPDATE SET count = count + excluded.count",
                totals,
                3,
            )
            if video_by_post:
                by_key: dict[str, int] = defaultdict(int)
                for chunk in chunks(sorted(video_by_post)):
                    sql = (
                        f"SELECT id, video_key FROM posts WHERE id IN ({marks(len(chunk))}) "  # noqa: S608
                        "AND video_key IS NOT NULL"
                    )
                    for pid, vkey in conn.execute(sql, chunk):
                        by_key[vkey] += video_by_post[pid]
                add_video_views(conn, by_key)
            conn.execute(
                "INSERT INTO batches (key, checksum, events, size, applied_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (key, checksum, events, size, ts(now)),
            )
        return True

    def hourly(
        self, post_ids: Sequence[int], metric_codes: Sequence[int], start_hour: int, end_hour: int
    ) -> list[tuple[int, int, int, int]]:
        """Through the connection's :class:`ReadCache`: each (Post, metric)'s rows of a window
        are read once after each commit (in one statement per chunk of the missing ones), in
        the order of the Posts' seqs, then metric, then hour; the same read again (Posts,
        metrics, window) is one lookup."""
        with self._db.read_cached() as (conn, cache):
            return self._hourly_in(conn, cache, post_ids, metric_codes, start_hour, end_hour)

    def _hourly_in(
        self,
        conn: sqlite3.Connection,
        cache: ReadCache,
        post_ids: Sequence[int],
        metric_codes: Sequence[int],
        start_hour: int,
        end_hour: int,
    ) -> list[tuple[int, int, int, int]]:
        """:meth:`hourly` through ``conn`` and its ``cache`` (checked by the caller)."""
        if not post_ids or not metric_codes or start_hour >= end_hour:
            return []
        read = (tuple(post_ids), tuple(metric_codes), start_hour, end_hour)
        rows = cache.windows.get(read)
        if rows is None:
            codes = sorted(set(metric_codes))
            seqs = sorted((seq, pid) for pid, seq in self._known_seqs(conn, post_ids))
            keys = [(pid, c, start_hour, end_hour) for _, pid in seqs for c in codes]
            got = cache.hourly
            missing = [key for key in keys if key not in got]
            if missing:
                got.update(_hourly_rows(conn, dict(seqs), missing, start_hour, end_hour))
            rows = list(chain.from_iterable(map(got.__getitem__, keys)))
            if len(cache.windows) >= WINDOW_READS:
                cache.windows.clear()
            cache.windows[read] = rows
        return rows.copy()

    def _known_seqs(
        self, conn: sqlite3.Connection, post_ids: Iterable[int]
    ) -> list[tuple[int, int]]:
        """(signed Post ID, seq) of the Posts that have a seq. A seq never changes once
        committed (``post_keys`` rows are never updated or deleted), so each is read once per
        process and kept (:data:`SEQ_CACHE_SIZE` at most)."""
        known = self._seqs
        wanted = {to_signed(p) for p in post_ids}
        missing = [p for p in wanted if p not in known]
        if missing:
            if len(known) + len(missing) > SEQ_CACHE_SIZE:
                known.clear()
            known.update(_post_seqs(conn, missing))
        return [(p, seq) for p in wanted if (seq := known.get(p)) is not None]

    def totals(
        self, post_ids: Sequence[int], metric_codes: Sequence[int]
    ) -> dict[tuple[int, int], int]:
        if not post_ids or not metric_codes:
            return {}
        out: dict[tuple[int, int], int] = {}
        metrics = list(metric_codes)
        with self._db.read() as conn:
            for chunk in chunks([to_signed(p) for p in post_ids]):
                sql = (
                    "SELECT post_id, metric, count FROM counts_total "  # noqa: S608
                    f"WHERE post_id IN ({marks(len(chunk))}) AND metric IN ({marks(len(metrics))})"
                )
                out.update(counts_by_key(conn.execute(sql, [*chunk, *metrics])))
        return out

    def video_totals(self, post_ids: Sequence[int]) -> dict[int, int]:
        out: dict[int, int] = {}
        with self._db.read() as conn:
            for chunk in chunks([to_signed(p) for p in post_ids]):
                found = conn.execute(_VIDEO_OF_POSTS % marks(len(chunk)), chunk).fetchall()
                if found:
                    pids, views = zip(*found, strict=True)
                    out.update(zip(unsigned(pids), views, strict=True))
        return out

    def lifetime(
        self, post_ids: Sequence[int], metric_codes: Sequence[int]
    ) -> dict[tuple[int, int], int]:
        video = VIDEO_VIEWS.code
        out = self.totals(post_ids, [code for code in metric_codes if code != video])
        if video in metric_codes:
            out.update(((pid, video), views) for pid, views in self.video_totals(post_ids).items())
        return out

    def facts_and_lifetime(
        self, post_ids: Sequence[int], metric_codes: Sequence[int]
    ) -> tuple[dict[int, PostFacts], Mapping[int, Sequence[int]]]:
        """``post_facts`` and each Post's lifetime row, through one check of the cache."""
        with self._db.read_cached() as (conn, cache):
            return cached_facts(conn, cache, post_ids), lifetime_rows(conn, cache, post_ids)

    def facts_and_hourly(
        self, post_ids: Sequence[int], metric_codes: Sequence[int], start_hour: int, end_hour: int
    ) -> tuple[dict[int, PostFacts], list[tuple[int, int, int, int]]]:
        """``post_facts`` and the Posts' :meth:`hourly` rows, through one check of the
        cache."""
        with self._db.read_cached() as (conn, cache):
            facts = cached_facts(conn, cache, post_ids)
            return facts, self._hourly_in(conn, cache, post_ids, metric_codes, start_hour, end_hour)

    def lifetime_columns(
        self, post_ids: Sequence[int], metric_codes: Sequence[int]
    ) -> list[list[int]]:
        """:meth:`lifetime` as columns, through the connection's :class:`ReadCache`: a Post's
        whole lifetime row (every metric, its video's views) is read once after each commit,
        then each column is picked from the rows in C."""
        with self._db.read_cached() as (conn, cache):
            rows = lifetime_rows(conn, cache, post_ids)
            got = list(map(rows.__getitem__, post_ids))
        return [list(map(itemgetter(code), got)) for code in metric_codes]

    def prune_hourly(self, before_hour: int) -> int:
        with self._db.write() as conn:
            cur = conn.execute(
                f"DELETE FROM counts_hourly WHERE (key & {_HOUR_MASK}) < ?",  # noqa: S608
                (_hour_bits(max(before_hour, -_HOUR_OFFSET)),),
            )
            return cur.rowcount
