"""The partitions of ``counts_hourly``: created on demand, dropped whole by prune.

``counts_hourly`` is partitioned by range of ``hour``; partition ``counts_hourly_p<N>`` holds
hours ``N*720`` up to (not including) ``(N+1)*720`` (30 days; ``counts_hourly_n<N>`` for -N,
before 1970). Partition names are built from integers only. Creating and dropping partitions
take the same advisory lock, so two processes never race to create the same one.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

from psycopg import sql

from engagement_api.store.postgres.pool import Connection, PgPool

SPAN = 720  # hours per partition
PARTITION_LOCK = 0x656E_6761_0001  # advisory lock key for partition DDL

_NAME = re.compile(r"counts_hourly_([pn])(\d+)")
_BOUNDS = re.compile(r"FOR VALUES FROM \((.*)\) TO \((.*)\)")
_INFINITE = 2**63

_LIST = """
SELECT c.relname, pg_get_expr(c.relpartbound, c.oid)
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'counts_hourly'::regclass
"""


def partition_name(number: int) -> str:
    return f"counts_hourly_p{number}" if number >= 0 else f"counts_hourly_n{-number}"


def partition_number(name: str) -> int | None:
    match = _NAME.fullmatch(name)
    if match is None:
        return None
    return int(match[2]) if match[1] == "p" else -int(match[2])


def _bound(text: str, infinite: int) -> int:
    try:
        return int(text)
    except ValueError:  # MINVALUE / MAXVALUE, on a partition someone else made
        return infinite


def bounds(expression: str) -> tuple[int, int]:
    """(lower, upper) of a partition bound expression; DEFAULT covers everything."""
    match = _BOUNDS.fullmatch(expression.strip())
    if match is None:
        return (-_INFINITE, _INFINITE)
    return (_bound(match[1], -_INFINITE), _bound(match[2], _INFINITE))


def _partitions(conn: Connection) -> list[tuple[str, int, int]]:
    rows = conn.execute(_LIST).fetchall()
    return [(str(name), *bounds(str(expr))) for name, expr in rows]


class Partitions:
    """Which partitions exist (cached per process), creating missing ones and pruning."""

    def __init__(self, db: PgPool) -> None:
        self._db = db
        self._known: set[int] = set()
        self._lock = threading.Lock()

    def forget(self) -> None:
        """Drop the cache (a partition may have been dropped by another process)."""
        with self._lock:
            self._known.clear()

    def ensure(self, hours: Iterable[int]) -> None:
        """Create the partitions these hours fall in, each in a short transaction of its own
        (so the lock that creating a partition takes on the parent is held only briefly)."""
        needed = {hour // SPAN for hour in hours}
        with self._lock:
            missing = needed - self._known
        if missing:
            self._db.transact(lambda conn: self._create(conn, missing), lock=PARTITION_LOCK)
            with self._lock:
                self._known |= missing

    @staticmethod
    def _create(conn: Connection, numbers: set[int]) -> None:
        existing = {partition_number(name) for name, _lo, _hi in _partitions(conn)}
        for number in sorted(numbers - existing):
            conn.execute(
                sql.SQL(
                    "CREATE TABLE {} PARTITION OF counts_hourly FOR VALUES FROM ({}) TO ({}) "
                    "WITH (fillfactor = 80)"
                ).format(
                    sql.Identifier(partition_name(number)),
                    sql.Literal(number * SPAN),
                    sql.Literal((number + 1) * SPAN),
                )
            )

    def prune(self, before_hour: int) -> int:
        """Remove hourly rows with ``hour < before_hour``; returns how many.

        Partitions wholly before the cut are counted and dropped; rows of a partition that
        straddles it are deleted. Writers wait meanwhile (SHARE lock); readers do not, except
        for the moment the partitions are dropped.
        """
        removed, dropped = self._db.transact(
            lambda conn: self._prune(conn, before_hour), lock=PARTITION_LOCK
        )
        with self._lock:
            self._known -= dropped
        return removed

    @staticmethod
    def _prune(conn: Connection, before_hour: int) -> tuple[int, set[int]]:
        conn.execute("LOCK TABLE counts_hourly IN SHARE MODE")
        removed = 0
        drop: list[tuple[str, int]] = []
        for name, lower, upper in _partitions(conn):
            if lower >= before_hour:
                continue
            number = partition_number(name)
            if upper <= before_hour and number is not None:
                drop.append((name, number))
                continue
            cur = conn.execute(
                sql.SQL("DELETE FROM {} WHERE hour < %s").format(sql.Identifier(name)),
                (before_hour,),
            )
            removed += cur.rowcount
        for name, _number in drop:
            row = conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(name))
            ).fetchone()
            removed += int(row[0]) if row else 0
        for name, _number in drop:
            conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(name)))
        return removed, {number for _name, number in drop}
