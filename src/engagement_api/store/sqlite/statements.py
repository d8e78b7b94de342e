"""Helpers every SQLite module shares: ID lists in chunks, placeholders, multi-row inserts, times
as Unix seconds, the per-video views upsert."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TypeVar

T = TypeVar("T")

CHUNK = 500  # IDs per IN (...) list, well under SQLite's variable limit
ROWS_PER_STATEMENT = 500  # rows per multi-row INSERT of a batch's counts


def ts(moment: datetime) -> int:
    return int(moment.timestamp())


def dt(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def chunks(values: Sequence[T]) -> Iterator[Sequence[T]]:
    for i in range(0, len(values), CHUNK):
        yield values[i : i + CHUNK]


def marks(count: int) -> str:
    return ",".join("?" * count)


def insert_rows(
    conn: sqlite3.Connection, head: str, tail: str, values: Sequence[int], width: int
) -> None:
    """``head VALUES (...), (...) tail`` for rows of ``width`` laid end to end in ``values``,
    up to :data:`ROWS_PER_STATEMENT` rows (and the driver's variable limit) per statement."""
    limit = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width
    per_statement = max(1, min(ROWS_PER_STATEMENT, limit)) * width
    group = f"({marks(width)})"

    def statement(size: int) -> str:
        return f"{head} VALUES {','.join([group] * (size // width))} {tail}"

    full = statement(per_statement)
    for start in range(0, len(values), per_statement):
        chunk = values[start : start + per_statement]
        conn.execute(full if len(chunk) == per_statement else statement(len(chunk)), chunk)


def add_video_views(conn: sqlite3.Connection, by_key: dict[str, int]) -> None:
    """Add views to ``video_totals`` per media key."""
    conn.executemany(
        "INSERT INTO video_totals (media_key, views) VALUES (?, ?) "
        "ON CONFLICT (media_key) DO UPDATE SET views = views + excluded.views",
        list(by_key.items()),
    )
