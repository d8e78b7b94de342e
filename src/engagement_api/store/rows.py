"""Rows of the credential tables and of the Posts' facts as the records the protocols return
(same columns on every backend: IDs signed, times as Unix seconds)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from engagement_api.contract.ids import from_signed
from engagement_api.contract.policy import PostFacts
from engagement_api.domain import AccessToken, App, DashboardSession, IngestMinute, PendingBatch

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
    """Add :class:`PostFacts` for rows of :data:`FACT_COLUMNS`, keyed by Post ID."""
    for pid, author, created, hidden in rows:
        post_id = from_signed(pid)
        into[post_id] = PostFacts(
            post_id, from_signed(author), datetime.fromtimestamp(created, UTC), not hidden
        )


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
