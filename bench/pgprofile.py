"""Where a file ingest on PostgreSQL spends its time (part of ``--profile`` on PostgreSQL).

One 1M-event batch goes through the steps of ``Loader.load_events`` and
``PostgresStore.apply_batch`` one at a time, each timed, with the WAL it wrote: decoding, the
Posts look-up, validation and folding (Python), the delta rows, then on one connection the
transaction of ``PostgresStore._apply``: ledger row, staging table and CSV ``COPY``, video-Post
locks, the three upserts, ``COMMIT``. Then the same staging and ``EXPLAIN (ANALYZE, BUFFERS,
WAL)`` of each upsert, in a transaction that is rolled back; and the same for the store's read
statements of the first ``/totals`` and ``/historical`` query sets.

The statements are the store's own (``engagement_api.store.postgres``'s module constants, private
names): if the store changes them, this profile follows; if it renames them, this breaks loudly.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import psycopg

from engagement_api.contract.metrics import VIDEO_VIEWS
from engagement_api.ingest import Batch, Format, Kind, referenced_post_ids, validate_events
from engagement_api.store import Store
from engagement_api.store.deltas import DeltaTable
from engagement_api.store.postgres import counters as pgstore

_EXPLAIN = "EXPLAIN (ANALYZE, BUFFERS, WAL, VERBOSE OFF) "


class _Steps:
    """Seconds and WAL bytes of each step, in order."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self.rows: list[tuple[str, float, int]] = []

    def _lsn(self) -> str:
        row = self.conn.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()
        return str(row[0]) if row else "0/0"

    def run(self, name: str, step: Callable[[], Any]) -> Any:
        before = self._lsn()
        start = time.perf_counter()
        result = step()
        seconds = time.perf_counter() - start
        row = self.conn.execute(
            "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), %s::pg_lsn)::bigint", (before,)
        ).fetchone()
        self.rows.append((name, seconds, int(row[0]) if row else 0))
        return result

    def text(self) -> str:
        total = sum(seconds for _, seconds, _ in self.rows)
        lines = [f"{'step':<52} {'seconds':>8} {'share':>6} {'WAL MiB':>8}"]
        for name, seconds, wal in self.rows:
            lines.append(f"{name:<52} {seconds:>8.3f} {seconds / total:>6.1%} {wal / 2**20:>8.1f}")
        wal_total = sum(wal for _, _, wal in self.rows)
        lines.append(f"{'total':<52} {total:>8.3f} {1:>6.0%} {wal_total / 2**20:>8.1f}")
        return "\n".join(lines)


_ARRAY = re.compile(r"'\{([^}]{60,})\}'")


def _short(match: re.Match[str]) -> str:
    return f"'{{<{match[1].count(',') + 1} values>}}'"


def _plan(conn: psycopg.Connection[Any], sql: str, params: tuple[Any, ...] = ()) -> str:
    """The plan, long array literals (the 250 Post IDs) shortened to their length."""
    lines = conn.execute(_EXPLAIN + sql, params).fetchall()
    return "\n".join(_ARRAY.sub(_short, str(r[0])) for r in lines)


def ingest_split(url: str, store: Store, data: bytes, now: datetime, key: str) -> str:
    """The timed steps of one batch (applied for real, under ``key``), then the plans of its
    upserts (rolled back). Returns the text to print."""
    out: list[str] = []
    with psycopg.connect(url, autocommit=True) as conn:
        steps = _Steps(conn)
        batch = Batch(data, Format.NDJSON, Kind.EVENTS)
        ids = steps.run("read NDJSON, the Post IDs", lambda: referenced_post_ids(batch))
        posts = steps.run(
            "look up the batch's Posts (store.get_posts)", lambda: store.get_posts(ids)
        )
        folded = steps.run("validate + fold", lambda: validate_events(batch, posts, now))
        deltas = folded.deltas
        table = steps.run(
            "delta table (as apply_batch takes it)", lambda: DeltaTable.from_mapping(deltas)
        )
        video = VIDEO_VIEWS.code
        ledger = (key, "profile", folded.events, len(data), int(now.timestamp()))
        steps.run("BEGIN", lambda: conn.execute("BEGIN"))
        steps.run(
            "ledger row (INSERT INTO batches)",
            lambda: conn.execute(
                "INSERT INTO batches (key, checksum, events, size, applied_at) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (key) DO NOTHING RETURNING 1",
                ledger,
            ).fetchone(),
        )
        steps.run(
            f"staging table + COPY {len(table):,} delta rows (CSV)",
            lambda: pgstore.stage_deltas(conn, table),
        )
        steps.run(
            "lock video Posts (SELECT ... FOR SHARE)",
            lambda: conn.execute(pgstore._LOCK_VIDEO_POSTS, (video,)).fetchall(),
        )
        steps.run("upsert counts_hourly", lambda: conn.execute(pgstore._UPSERT_HOURLY))
        steps.run("upsert counts_total", lambda: conn.execute(pgstore._UPSERT_TOTAL))
        steps.run("upsert video_totals", lambda: conn.execute(pgstore._UPSERT_VIDEO, (video,)))
        steps.run("COMMIT", lambda: conn.execute("COMMIT"))
        out.append(
            f"PostgreSQL ingest split: one batch of {folded.events:,} events, "
            f"{len(deltas):,} deltas (existing rows: mostly updates)"
        )
        out.append(steps.text())
        # the plans of the upserts, on the same kind of batch, rolled back
        conn.execute("BEGIN")
        try:
            pgstore.stage_deltas(conn, table)
            conn.execute("ANALYZE staging_deltas")
            for name, sql, params in (
                ("counts_hourly", pgstore._UPSERT_HOURLY, ()),
                ("counts_total", pgstore._UPSERT_TOTAL, ()),
                ("video_totals", pgstore._UPSERT_VIDEO, (video,)),
            ):
                out.append(f"\nEXPLAIN ANALYZE upsert {name} (rolled back):")
                out.append(_plan(conn, sql, params))
        finally:
            conn.execute("ROLLBACK")
    return "\n".join(out)


def read_plans(url: str, store: Store, calls: Callable[[], object]) -> str:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of the store's read statements as ``calls()`` issues
    them: every read of the store runs through its pool's ``read``, wrapped for the call so
    that each statement and its parameters are recorded (then explained on a connection of
    our own)."""
    captured: list[tuple[str, tuple[Any, ...]]] = []
    pool = store._db  # type: ignore[attr-defined]  # PostgresStore's, not in the Store protocol
    original = pool.read

    class Recorder:
        def __init__(self, conn: psycopg.Connection[Any]) -> None:
            self.conn = conn

        def execute(self, sql: str, params: tuple[Any, ...] = (), **options: Any) -> Any:
            captured.append((sql, params))
            return self.conn.execute(sql, params, **options)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.conn, name)

    def read(work: Callable[[Any], Any]) -> Any:
        return original(lambda conn: work(Recorder(conn)))

    pool.read = read
    try:
        calls()
    finally:
        pool.read = original
    out: list[str] = []
    with psycopg.connect(url, autocommit=True) as conn:
        for sql, params in captured:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            first = " ".join(sql.split())
            out.append(f"\n{first[:160]}{'...' if len(first) > 160 else ''}")
            out.append(_plan(conn, sql, params))
    return "\n".join(out)
