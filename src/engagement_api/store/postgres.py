"""PostgreSQL backend: the production store, with the same behaviour as the SQLite one.

``postgresql://user@host:port/db`` (or ``postgres://``); pool size and statement timeout come
from the URL's query (``?pool_min=1&pool_max=10&pool_timeout=5&statement_timeout_ms=30000``,
see :mod:`engagement_api.store.postgres_pool`). The driver, psycopg 3, is imported only when
this module is.

Writes are short transactions on pooled connections, retried on deadlock or serialization
failure. A batch is applied exactly once per key, even from several processes at once: its
ledger row is inserted first, so a concurrent duplicate waits on that row and then sees it. The
deltas and their per-Post sums are copied (CSV COPY) into temporary staging tables and applied
with one set-based upsert per table, rows in key order so concurrent batches lock rows in the
same order.
``counts_hourly`` is partitioned by time (:mod:`engagement_api.store.postgres_partitions`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import psycopg

from engagement_api.contract.ids import from_signed
from engagement_api.contract.metrics import VIDEO_VIEWS
from engagement_api.store.deltas import DeltaTable
from engagement_api.store.migrations import migrations_for, refuse_newer, require_current
from engagement_api.store.postgres_catalog import PostgresCatalog, dt, id_array, ts
from engagement_api.store.postgres_credentials import PostgresCredentials
from engagement_api.store.postgres_metering import PostgresMetering
from engagement_api.store.postgres_partitions import Partitions
from engagement_api.store.postgres_pool import Connection, PgPool, parse_url
from engagement_api.store.protocols import (
    BatchRecord,
    Deltas,
    IdempotencyConflict,
    StoreError,
)

MIGRATION_LOCK = 0x656E_6761_0002  # advisory lock key: one migrator at a time

_VIDEO = VIDEO_VIEWS.code
_TOTALS = (
    "SELECT post_id, metric, count FROM counts_total "
    "WHERE post_id = ANY(%s::bigint[]) AND metric = ANY(%b::integer[])"
)
# each Post's video views: the views of its video (summed over every Post carrying it)
_VIDEO_TOTALS = (
    "SELECT p.id, %s::integer, v.views FROM posts p JOIN video_totals v "
    "ON v.media_key = p.video_key WHERE p.id = ANY(%s::bigint[])"
)
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


class PostgresStore(PostgresCatalog, PostgresCredentials, PostgresMetering):
    """Catalog, counters and credentials in one PostgreSQL database."""

    backend = "postgresql"

    def __init__(self, url: str) -> None:
        self.url = url
        self._db = PgPool(parse_url(url))
        self._partitions = Partitions(self._db)

    def close(self) -> None:
        self._db.close()

    def ping(self) -> None:
        self._db.read(lambda conn: conn.execute("SELECT 1").fetchone())

    # -- schema ------------------------------------------------------------------------------

    @staticmethod
    def _version(conn: Connection) -> int:
        row = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
        if not row or not row[0]:
            return 0
        row = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0) if row else 0

    def schema_version(self) -> int:
        return self._db.read(self._version)

    def migrate(self) -> list[int]:
        def work(conn: Connection) -> list[int]:
            current = self._version(conn)
            refuse_newer(current, self.backend)
            if current == 0:
                conn.execute(
                    "CREATE TABLE schema_migrations (version integer PRIMARY KEY, "
                    "name text NOT NULL, applied_at bigint NOT NULL)"
                )
            applied = []
            for migration in migrations_for(self.backend):
                if migration.version <= current:
                    continue
                conn.execute(migration.sql.encode())  # the whole file, in this transaction
                conn.execute(
                    "INSERT INTO schema_migrations VALUES "
                    "(%s, %s, extract(epoch FROM now())::bigint)",
                    (migration.version, migration.name),
                )
                applied.append(migration.version)
            return applied

        applied = self._db.transact(work, lock=MIGRATION_LOCK)
        self._partitions.forget()
        return applied

    def check_schema(self) -> None:
        require_current(self.schema_version(), self.backend)

    # -- counters ----------------------------------------------------------------------------

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
                raise IdempotencyConflict(
                    f"Idempotency-Key {ledger[0]!r} was already used for a different batch"
                )
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
        rows = self._db.read(
            lambda conn: conn.execute(
                "SELECT post_id, metric, hour, count FROM counts_hourly "
                "WHERE post_id = ANY(%s::bigint[]) AND metric = ANY(%b::integer[]) "
                "AND hour >= %s AND hour < %s AND count <> 0",
                params,
                binary=True,  # binary results: no text formatting and parsing
            ).fetchall()
        )
        return [(from_signed(pid), metric, hour, count) for pid, metric, hour, count in rows]

    def totals(
        self, post_ids: Sequence[int], metric_codes: Sequence[int]
    ) -> dict[tuple[int, int], int]:
        if not post_ids or not metric_codes:
            return {}
        params = (id_array(post_ids), sorted(set(metric_codes)))
        rows = self._db.read(lambda conn: conn.execute(_TOTALS, params, binary=True).fetchall())
        return {(from_signed(pid), metric): count for pid, metric, count in rows}

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
        wanted = id_array(post_ids)

        def work(conn: Connection) -> list[tuple[int, int, int]]:
            # both queries in one round trip (pipeline mode); binary results
            others = [code for code in codes if code != _VIDEO]
            with conn.pipeline():
                found = []
                if others:
                    found.append(conn.execute(_TOTALS, (wanted, others), binary=True))
                if _VIDEO in codes:
                    found.append(conn.execute(_VIDEO_TOTALS, (_VIDEO, wanted), binary=True))
            return [row for cursor in found for row in cursor.fetchall()]

        return {(from_signed(pid), code): count for pid, code, count in self._db.read(work)}

    def prune_hourly(self, before_hour: int) -> int:
        return self._partitions.prune(before_hour)
