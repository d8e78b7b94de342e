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
_OF_TOTALS = "WHERE post_id = ANY(%s::bigint[]) AND metric = ANY(%b::integer[])"
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
# a third of the same values as rows (a Python tuple each).
_UNION_POSTS = (
    "WITH p AS MATERIALIZED (SELECT id, author_id, created_at, protected OR deleted AS hidden, "
    "video_key FROM posts WHERE id = ANY(%s::bigint[])) "
)
_UNION_FACTS = (
    "SELECT array_agg(id), array_agg(author_id), array_agg(created_at), array_agg(hidden) FROM p"
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
_LIFETIME_ARRAYS = "SELECT array_agg(u.post_id), array_agg(u.metric), array_agg(u.count) FROM ("
_UNION_HOURLY = (
    "SELECT array_agg(post_id), array_agg(metric), array_agg(hour), array_agg(count) "
    "FROM counts_hourly " + _OF_HOURS
)


def _array_read(
    db: PgPool, counts: str | None, params: list[Any], facts: bool = True
) -> tuple[list[list[Any]], list[list[Any]]]:
    """Run ``_UNION_POSTS`` with the facts' arrays (unless not ``facts``) and the single-row
    statement ``counts`` of the counts' arrays (unless None); (the facts' columns, the counts'
    columns), each column a list (empty for no rows)."""
    parts = ([f"({_UNION_FACTS}) f"] if facts else []) + ([f"({counts}) c"] if counts else [])
    if not parts:
        return [], []
    sql = _UNION_POSTS + "SELECT * FROM " + ", ".join(parts)  # noqa: S608 (constants only)
    row = db.read(lambda conn: conn.execute(sql, params, binary=True).fetchone())
    columns = [column or [] for column in row or ()]
    split = 4 if facts else 0
    return columns[:split], columns[split:]


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


def _lifetime_counts(wanted: str, codes: Sequence[int]) -> tuple[str | None, list[Any]]:
    """The :func:`_array_read` statement of the lifetime counts of ``codes`` (totals; video
    views) of the Posts of the ID array ``wanted`` (None for no codes), and the parameters."""
    parts: list[str] = []
    params: list[Any] = [wanted]  # (of _UNION_POSTS)
    others = [code for code in codes if code != _VIDEO]
    if others:
        parts.append(_UNION_TOTALS)
        params += [wanted, others]
    if _VIDEO in codes:
        parts.append(_UNION_VIDEO)
        params.append(_VIDEO)
    if not parts:
        return None, params
    return _LIFETIME_ARRAYS + " UNION ALL ".join(parts) + ") u (post_id, metric, count)", params


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
        params = (id_array(post_ids), sorted(set(metric_codes)), start_hour, end_hour)
        rows = self._db.read(lambda conn: conn.execute(_HOURLY, params, binary=True).fetchall())
        return [(from_signed(pid), metric, hour, count) for pid, metric, hour, count in rows]

    def totals(
        self, post_ids: Sequence[int], metric_codes: Sequence[int]
    ) -> dict[tuple[int, int], int]:
        if not post_ids or not metric_codes:
            return {}
        params = (id_array(post_ids), sorted(set(metric_codes)))
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
        counts, params = _lifetime_counts(id_array(post_ids), codes)
        _, columns = _array_read(self._db, counts, params, facts=False)
        return counts_by_key(zip(*columns, strict=True))

    def lifetime_columns(
        self, post_ids: Sequence[int], metric_codes: Sequence[int]
    ) -> list[list[int]]:
        return columns_of(self.lifetime(post_ids, metric_codes), post_ids, metric_codes)

    def facts_and_lifetime(
        self, post_ids: Sequence[int], metric_codes: Sequence[int]
    ) -> tuple[dict[int, PostFacts], Mapping[int, Sequence[int]]]:
        """The Posts' facts and their lifetime rows in one statement (:func:`_array_read`)."""
        codes = sorted(set(metric_codes))
        if not post_ids:
            return {}, {}
        counts, params = _lifetime_counts(id_array(post_ids), codes)
        fact_columns, count_columns = _array_read(self._per_request, counts, params)
        facts: dict[int, PostFacts] = {}
        facts_from_columns(fact_columns, facts)
        return facts, lifetime_rows_of(zip(*count_columns, strict=True))

    def facts_and_hourly(
        self, post_ids: Sequence[int], metric_codes: Sequence[int], start_hour: int, end_hour: int
    ) -> tuple[dict[int, PostFacts], list[tuple[int, int, int, int]]]:
        """The Posts' facts and their ``hourly`` rows in one statement (:func:`_array_read`)."""
        if not post_ids:
            return {}, []
        wanted = id_array(post_ids)
        counts: str | None = None
        params: list[Any] = [wanted]
        if metric_codes:
            counts = _UNION_HOURLY
            params += [wanted, sorted(set(metric_codes)), start_hour, end_hour]
        fact_columns, hour_columns = _array_read(self._per_request, counts, params)
        found: dict[int, PostFacts] = {}
        facts_from_columns(fact_columns, found)
        if not hour_columns or not hour_columns[0]:
            return found, []
        pids, metrics, hours, values = hour_columns
        return found, list(zip(unsigned(pids), metrics, hours, values, strict=True))

    def prune_hourly(self, before_hour: int) -> int:
        return self._partitions.prune(before_hour)
