"""Hourly counts, lifetime totals, per-video totals and the batch ledger on PostgreSQL (mixed
into PostgresStore).

A batch is applied exactly once per key, even from several processes at once: its ledger row is
inserted first, so a concurrent duplicate waits on that row and then sees it. The deltas and
their per-Post sums are copied (CSV COPY) into temporary staging tables and applied with one
set-based upsert per table, rows in key order so concurrent batches lock rows in the same order.
``counts_hourly`` is partitioned by time (:mod:`engagement_api.store.postgres.partitions`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from engagement_api.contract.ids import from_signed
from engagement_api.contract.metrics import VIDEO_VIEWS
from engagement_api.contract.policy import PostFacts
from engagement_api.domain import BatchRecord, Deltas
from engagement_api.store.deltas import DeltaTable
from engagement_api.store.errors import IdempotencyConflict, StoreError
from engagement_api.store.postgres.catalog import dt, id_array, ts
from engagement_api.store.postgres.partitions import Partitions
from engagement_api.store.postgres.pool import Connection, PgPool
from engagement_api.store.protocols import Wanted
from engagement_api.store.rows import (
    columns_of,
    counts_by_key,
    facts_from_columns,
    lifetime_rows_of,
    unsigned,
)

_VIDEO = VIDEO_VIEWS.code
# the filters of the reads, shared by their plain and their UNION ALL forms (below; S608:
# SQL made of these constants only)
_OF_TOTALS = "WHERE post_id = ANY(%s::bigint[]) AND metric = ANY(%s::integer[])"
_OF_HOURS = _OF_TOTALS + " AND hour >= %s AND hour < %s AND count <> 0"
_TOTALS = "SELECT post_id, metric, count FROM counts_total " + _OF_TOTALS  # noqa: S608
_HOURLY = "SELECT post_id, metric, hour, count FROM counts_hourly " + _OF_HOURS  # noqa: S608
_STAGE = (
    "SET LOCAL work_mem = '64MB'; "  # sort the deltas in memory
    "CREATE TEMP TABLE staging_deltas "
    "(post_id bigint NOT NULL, metric integer NOT NULL, hour integer NOT NULL, "
    "count bigint NOT NULL) ON COMMIT DROP; "
    "CREATE TEMP TABLE staging_totals "
    "(post_id bigint NOT NULL, metric integer NOT NULL, count bigint NOT NULL) ON COMMIT DROP"
)
_COPY = "COPY staging_deltas (post_id, metric, hour, count) FROM STDIN (FORMAT csv)"
_COPY_TOTALS = "COPY staging_totals (post_id, metric, count) FROM STDIN (FORMAT csv)"
_UPSERT_HOURLY = (
    "INSERT INTO counts_hourly AS c (post_id, metric, hour, count) "
    "SELECT post_id, metric, hour, count FROM staging_deltas ORDER BY post_id, metric, hour "
    "ON CONFLICT (post_id, metric, hour) DO UPDATE SET count = c.count + excluded.count"
)
# the batch's lifetime deltas, summed by polars (a Post's sums over its hours)
_UPSERT_TOTAL = (
    "INSERT INTO counts_total AS c (post_id, metric, count) "
    "SELECT post_id, metric, count FROM staging_totals ORDER BY post_id, metric "
    "ON CONFLICT (post_id, metric) DO UPDATE SET count = c.count + excluded.count"
)
# Posts whose video views change are locked first, so a concurrent media change (which locks
# them FOR UPDATE) is wholly before or wholly after this batch.
_LOCK_VIDEO_POSTS = (
    "SELECT id FROM posts WHERE id IN "
    "(SELECT post_id FROM staging_totals WHERE metric = %s) ORDER BY id FOR SHARE"
)
_UPSERT_VIDEO = (
    "INSERT INTO video_totals AS v (media_key, views) "
    "SELECT p.video_key, sum(s.count)::bigint FROM staging_totals s "
    "JOIN posts p ON p.id = s.post_id WHERE s.metric = %s AND p.video_key IS NOT NULL "
    'GROUP BY p.video_key ORDER BY p.video_key COLLATE "C" '
    "ON CONFLICT (media_key) DO UPDATE SET views = v.views + excluded.views"
)


# The Posts' facts and their counts in one statement, as one row of arrays: the facts a column
# each, then the counts a column each (the parts, joined by UNION ALL, give rows of one shape).
# psycopg decodes a binary array in C, so 250 Posts with 1,250 counts cost this process about
# a third of the same values as rows (a Python tuple each). A read may be gated: its Posts and
# counts are read only when the gate (a condition on the statement's other parts) holds.
_POSTS = (
    "p AS MATERIALIZED (SELECT id, author_id, created_at, protected OR deleted AS hidden, "
    "video_key FROM posts WHERE id = ANY(%s::bigint[])"
)
_FACTS = (
    "(SELECT array_agg(id), array_agg(author_id), array_agg(created_at), array_agg(hidden) "
    "FROM p) f"
)
_UNION_TOTALS = (
    "SELECT post_id, metric::bigint, count FROM counts_total "  # noqa: S608
    + _OF_TOTALS
)
# each Post's video views: the views of its video (summed over every Post carrying it); the
# Posts are found by their key first (the MATERIALIZED p): joined in one go, the planner walks
# every Post with a video and tests each against the whole array (about 3x slower for 250 Posts)
_UNION_VIDEO = (
    "SELECT p.id, %s::bigint, v.views FROM p JOIN video_totals v ON v.media_key = p.video_key"
)
_LIFETIME_ARRAYS = "(SELECT array_agg(u.post_id), array_agg(u.metric), array_agg(u.count) FROM ("
_HOURLY_ARRAYS = (
    "(SELECT array_agg(post_id), array_agg(metric), array_agg(hour), array_agg(count) "
    "FROM counts_hourly " + _OF_HOURS
)


@dataclass(frozen=True, slots=True)
class ArrayRead:
    """The parts of a read as one row of arrays: ``posts``, the Posts' CTE (for after a
    ``WITH``); ``items``, the subqueries of the ``FROM`` list (the facts' 4 arrays, then the
    counts' 3 of a lifetime read or 4 of an hourly one); ``params``, in that order."""

    posts: str
    items: list[str]
    params: list[Any]
    facts: bool

    @property
    def columns(self) -> str:
        """The select list of the items' arrays."""
        return ", ".join(item[-1] + ".*" for item in self.items)


def _codes(codes: Sequence[int]) -> str:
    """Metric codes as an ``integer[]`` text literal (one string to send, as :func:`id_array`)."""
    return "{" + ",".join(map(str, codes)) + "}"


def array_read(wanted: Wanted, facts: bool = True, gate: str = "") -> ArrayRead:
    """The :class:`ArrayRead` of ``wanted`` (with the Posts' facts unless not ``facts``; all of
    it only where the SQL condition ``gate`` holds)."""
    ids = id_array(wanted.post_ids)
    only = f" AND {gate}" if gate else ""
    items = [_FACTS] if facts else []
    params: list[Any] = [ids]
    codes = sorted(set(wanted.metric_codes))
    if wanted.hours is not None:
        if codes:
            items.append(_HOURLY_ARRAYS + only + ") k")
            params += [ids, _codes(codes), *wanted.hours]
    else:
        parts: list[str] = []
        others = [code for code in codes if code != _VIDEO]
        if others:
            parts.append(_UNION_TOTALS + only)
            params += [ids, _codes(others)]
        if _VIDEO in codes:
            parts.append(_UNION_VIDEO)  # (of the gated p)
            params.append(_VIDEO)
        if parts:
            items.append(
                _LIFETIME_ARRAYS + " UNION ALL ".join(parts) + ") u (post_id, metric, count)) k"
            )
    return ArrayRead(_POSTS + only + ")", items, params, facts)


def facts_and_counts(
    read: ArrayRead, columns: Sequence[Any]
) -> tuple[dict[int, PostFacts], list[list[Any]]]:
    """The Posts' facts and the counts' columns (empty lists for no rows) from the arrays of
    ``read`` as they came."""
    arrays = [column or [] for column in columns]
    found: dict[int, PostFacts] = {}
    if read.facts:
        facts_from_columns(arrays[:4], found)
        return found, arrays[4:]
    return found, arrays


def hourly_rows(counts: list[list[Any]]) -> list[tuple[int, int, int, int]]:
    """``hourly``'s rows from an hourly read's counts."""
    if not counts or not counts[0]:
        return []
    pids, metrics, hours, values = counts
    return list(zip(unsigned(pids), metrics, hours, values, strict=True))


def _run(db: PgPool, read: ArrayRead) -> tuple[dict[int, PostFacts], list[list[Any]]]:
    """Run ``read`` alone."""
    if not read.items:
        return {}, []
    sql = "WITH " + read.posts + " SELECT * FROM " + ", ".join(read.items)  # noqa: S608 (constants)
    row = db.read(lambda conn: conn.execute(sql, read.params, binary=True).fetchone())
    return facts_and_counts(read, row or ())


def stage_deltas(conn: Connection, table: DeltaTable) -> None:
    """Create the transaction's staging tables and fill them, one ``COPY`` each: the hourly
    deltas and their sums per Post and metric, as CSV written by polars in one call (binary
    ``COPY`` would need a Python call per row)."""
    conn.execute(_STAGE)
    with conn.cursor() as cur:
        with cur.copy(_COPY) as copy:
            copy.write(table.csv())
        with cur.copy(_COPY_TOTALS) as copy:
            copy.write(table.totals_csv())


class PostgresCounters:
    """Needs ``_db`` and ``_per_request`` (:class:`PgPool`: the store's, the per-request one,
    for the read road's Posts with their counts) and ``_partitions`` from the class it is
    mixed into."""

    _db: PgPool
    _per_request: PgPool
    _partitions: Partitions

    def get_batch(self, key: str) -> BatchRecord | None:
        row = self._db.read(
            lambda conn: conn.execute(
                "SELECT key, checksum, events, size, applied_at FROM batches WHERE key = %s",
                (key,),
            ).fetchone()
        )
        if row is None:
            return None
        return BatchRecord(row[0], row[1], row[2], row[3], dt(row[4]))

    def apply_batch(
        self, key: str, checksum: str, events: int, size: int, deltas: Deltas, now: datetime
    ) -> bool:
        table = DeltaTable.from_mapping(deltas)
        hours = table.hours()
        ledger = (key, checksum, events, size, ts(now))
        for attempt in range(3):
            self._partitions.ensure(hours)
            try:
                return self._db.transact(lambda conn: self._apply(conn, ledger, table))
            except psycopg.errors.CheckViolation as exc:
                # "no partition of relation counts_hourly found for row": a partition we
                # knew of was dropped by a concurrent prune. Find out again and retry.
                self._partitions.forget()
                if attempt == 2:
                    raise StoreError(f"cannot apply batch {key!r}: {exc}") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _apply(
        conn: Connection,
        ledger: tuple[str, str, int, int, int],
        table: DeltaTable,
    ) -> bool:
        # The ledger row first: a concurrent batch with the same key waits here for this
        # transaction, then finds the key taken.
        inserted = conn.execute(
            "INSERT INTO batches (key, checksum, events, size, applied_at) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (key) DO NOTHING RETURNING 1",
            ledger,
        ).fetchone()
        if inserted is None:
            found = conn.execute(
                "SELECT checksum FROM batches WHERE key = %s", (ledger[0],)
            ).fetchone()
            if found is not None and found[0] != ledger[1]:
                raise IdempotencyConflict(ledger[0])
            return False
        if not table:
            return True
        stage_deltas(conn, table)
        video = VIDEO_VIEWS.code
        conn.execute(_LOCK_VIDEO_POSTS, (video,))
        conn.execute(_UPSERT_HOURLY)
        conn.execute(_UPSERT_TOTAL)
        conn.execute(_UPSERT_VIDEO, (video,))
        return True

    def hourly(
        self, post_ids: Sequence[int], metric_codes: Sequence[int], start_hour: int, end_hour: int
    ) -> list[tuple[int, int, int, int]]:
        if not post_ids or not metric_codes:
            return []
        params = (id_array(post_ids), _codes(sorted(set(metric_codes))), start_hour, end_hour)
        rows = self._db.read(lambda conn: conn.execute(_HOURLY, params, binary=True).fetchall())
        return [(from_signed(pid), metric, hour, count) for pid, metric, hour, count in rows]

    def totals(
        self, post_ids: Sequence[int], metric_codes: Sequence[int]
    ) -> dict[tuple[int, int], int]:
        if not post_ids or not metric_codes:
            return {}
        params = (id_array(post_ids), _codes(sorted(set(metric_codes))))
        rows = self._db.read(lambda conn: conn.execute(_TOTALS, params, binary=True).fetchall())
        return counts_by_key(rows)

    def video_totals(self, post_ids: Sequence[int]) -> dict[int, int]:
        if not post_ids:
            return {}
        return {pid: views for (pid, _), views in self.lifetime(post_ids, [_VIDEO]).items()}

    def lifetime(
        self, post_ids: Sequence[int], metric_codes: Sequence[int]
    ) -> dict[tuple[int, int], int]:
        codes = sorted(set(metric_codes))
        if not post_ids or not codes:
            return {}
        _, counts = _run(self._db, array_read(Wanted(post_ids, codes), facts=False))
        return counts_by_key(zip(*counts, strict=True))

    def lifetime_columns(
        self, post_ids: Sequence[int], metric_codes: Sequence[int]
    ) -> list[list[int]]:
        return columns_of(self.lifetime(post_ids, metric_codes), post_ids, metric_codes)

    def facts_and_lifetime(
        self, post_ids: Sequence[int], metric_codes: Sequence[int]
    ) -> tuple[dict[int, PostFacts], Mapping[int, Sequence[int]]]:
        """The Posts' facts and their lifetime rows in one statement (:func:`array_read`)."""
        if not post_ids:
            return {}, {}
        facts, counts = _run(self._per_request, array_read(Wanted(post_ids, metric_codes)))
        return facts, lifetime_rows_of(counts)

    def facts_and_hourly(
        self, post_ids: Sequence[int], metric_codes: Sequence[int], start_hour: int, end_hour: int
    ) -> tuple[dict[int, PostFacts], list[tuple[int, int, int, int]]]:
        """The Posts' facts and their ``hourly`` rows in one statement (:func:`array_read`)."""
        if not post_ids:
            return {}, []
        wanted = Wanted(post_ids, metric_codes, (start_hour, end_hour))
        facts, counts = _run(self._per_request, array_read(wanted))
        return facts, hourly_rows(counts)

    def prune_hourly(self, before_hour: int) -> int:
        return self._partitions.prune(before_hour)
