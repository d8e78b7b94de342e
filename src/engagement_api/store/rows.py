"""Rows of the credential tables and of the Posts' facts as the records the protocols return
(same columns on every backend: IDs signed, times as Unix seconds)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from itertools import repeat
from operator import not_, setitem
from typing import Any

from engagement_api.contract.ids import from_signed
from engagement_api.contract.metrics import BY_CODE
from engagement_api.contract.policy import PostFacts
from engagement_api.domain import AccessToken, App, DashboardSession, IngestMinute, PendingBatch

#: The length of a Post's lifetime row (``facts_and_lifetime``): a place per metric code.
LIFETIME_ROW = max(BY_CODE) + 1
#: The lifetime row of a Post without counts.
ZERO_ROW: tuple[int, ...] = (0,) * LIFETIME_ROW

#: What ``post_facts`` reads of each Post (``FROM posts``).
FACT_COLUMNS = "id, author_id, created_at, protected OR deleted"
APP_COLUMNS = "consumer_key, name, consumer_secret, enabled, rate_limit, created_at"
GRANT_COLUMNS = "token, secret, consumer_key, user_id, revoked, created_at"


def app_from_row(row: tuple[Any, ...]) -> App:
    """An :class:`App` from a row of :data:`APP_COLUMNS`."""
    return App(
        row[0], row[1], row[2], bool(row[3]), int(row[4]), datetime.fromtimestamp(row[5], UTC)
    )


def token_from_row(row: tuple[Any, ...]) -> AccessToken:
    """An :class:`AccessToken` from a row of :data:`GRANT_COLUMNS`."""
    return AccessToken(
        row[0],
        row[1],
        row[2],
        from_signed(row[3]),
        bool(row[4]),
        datetime.fromtimestamp(row[5], UTC),
    )


def facts_from_rows(rows: Iterable[tuple[Any, ...]], into: dict[int, PostFacts]) -> None:
    """Add :class:`PostFacts` for rows of :data:`FACT_COLUMNS`, keyed by Post ID: decoded a
    column at a time, in C (a read of 250 Posts makes no Python call per row)."""
    facts_from_columns(list(zip(*rows, strict=True)), into)


def facts_from_columns(columns: Sequence[Sequence[Any]], into: dict[int, PostFacts]) -> None:
    """:func:`facts_from_rows` of the rows' columns (the four of :data:`FACT_COLUMNS`; none or
    empty ones for no rows)."""
    if not columns or not columns[0]:
        return
    ids, authors, created, hidden = columns
    made = map(
        tuple.__new__,  # PostFacts(*fields), without a Python call
        repeat(PostFacts),
        zip(
            unsigned(ids),
            unsigned(authors),
            map(datetime.fromtimestamp, created, repeat(UTC)),
            map(not_, hidden),
            strict=True,
        ),
    )
    into.update(zip(unsigned(ids), made, strict=True))


def unsigned(column: Sequence[int]) -> Iterable[int]:
    """A column of signed IDs as the unsigned IDs they stand for (as is when none is negative,
    as IDs below 2**63 all are)."""
    if column and min(column) < 0:
        return map(from_signed, column)
    return column


def columns_of(
    counts: Mapping[tuple[int, int], int], post_ids: Sequence[int], metric_codes: Sequence[int]
) -> list[list[int]]:
    """``{(Post ID, code): count}`` as ``lifetime_columns`` gives it: per code, a count per Post
    (0 for none). Only the counts present are visited (they are sparse)."""
    where = {pid: i for i, pid in enumerate(post_ids)}
    slots = {code: [0] * len(post_ids) for code in metric_codes}
    for (pid, code), count in counts.items():
        i = where.get(pid)
        column = slots.get(code)
        if i is not None and column is not None:
            column[i] = count
    return [slots[code] for code in metric_codes]


def lifetime_rows_of(columns: Sequence[Sequence[int]]) -> dict[int, list[int]]:
    """``{Post ID: its lifetime row}`` (:data:`LIFETIME_ROW` places, by metric code) from the
    columns (signed Post IDs, metric codes, counts) of the counts (none or empty ones for no
    counts); a Post without counts has no row. Filled in C: each count is set in its Post's
    row by ``map(setitem, ...)``, without a Python step per count."""
    if not columns or not columns[0]:
        return {}
    pids, codes, counts = columns
    found = {pid: [0] * LIFETIME_ROW for pid in set(pids)}
    deque(map(setitem, map(found.__getitem__, pids), codes, counts), maxlen=0)
    if min(found) < 0:
        return {from_signed(pid): row for pid, row in found.items()}
    return found


def counts_by_key(rows: Iterable[tuple[int, int, int]]) -> dict[tuple[int, int], int]:
    """``{(Post ID, metric code): count}`` from rows ``(signed Post ID, metric code, count)``,
    decoded a column at a time."""
    columns = list(zip(*rows, strict=True))
    if not columns:
        return {}
    pids, codes, counts = columns
    return dict(zip(zip(unsigned(pids), codes, strict=True), counts, strict=True))


#: What ``get_session`` reads (``FROM dashboard_sessions s``).
SESSION_COLUMNS = "s.role, s.user_id, s.admin_key_hash, s.created_at, s.expires_at"


def session_from_row(row: tuple[Any, ...]) -> DashboardSession:
    """A :class:`DashboardSession` from a row of :data:`SESSION_COLUMNS`."""
    return DashboardSession(
        row[0],
        None if row[1] is None else from_signed(row[1]),
        row[2],
        datetime.fromtimestamp(row[3], UTC),
        datetime.fromtimestamp(row[4], UTC),
    )


def ingest_minutes_from_rows(
    applied: Iterable[tuple[Any, ...]], rejected: Iterable[tuple[Any, ...]]
) -> list[IngestMinute]:
    """Rows ``(minute, batches, events)`` of the ledger and ``(minute, batches, lines)`` of the
    refused batches, merged per minute, ascending."""
    minutes: dict[int, list[int]] = {}
    for minute, batches, events in applied:
        minutes.setdefault(int(minute), [0, 0, 0, 0])[0:2] = [int(batches), int(events)]
    for minute, batches, lines in rejected:
        minutes.setdefault(int(minute), [0, 0, 0, 0])[2:4] = [int(batches), int(lines)]
    return [IngestMinute(m, *minutes[m]) for m in sorted(minutes)]


#: ``SELECT`` of the pending batches (the ledger's side of counters kept in ClickHouse).
PENDING_SELECT = (
    "SELECT key, checksum, events, size, claimed_at, batch_id, deltas FROM pending_batches"
)


def pending_from_row(row: tuple[Any, ...]) -> PendingBatch:
    return PendingBatch(
        row[0], row[1], row[2], row[3], datetime.fromtimestamp(row[4], UTC), row[5], bytes(row[6])
    )
