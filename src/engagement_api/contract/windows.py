"""Time windows of the windowed endpoints (spec section 4).

``/28hr``: ``start = floor_hour(now) - 28 h``, ``end = floor_hour(now) + 1 h`` (29 buckets).

``/historical``: ``start`` floored and ``end`` ceiled to the hour; defaults as in the spec.
Decisions **(ours)** where the spec is silent:

- ``"start": null`` and ``"end": null`` count as absent.
- Only ``start`` given: ``end = min(floor_hour(start) + 28 days, ceil_hour(now))``.
- Every window rule that applies is reported, in this order: start before 2014-09-01 (or else
  before ``now - lookback_days``, compared exactly, not to the hour), end in the future,
  start not before end (or else span over 28 days). A defaulted bound is shown as
  ``start (default): 2026-10-01T00:00:00Z``; a given one as given, ``start: "2026-10-01"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from engagement_api.contract.body import show
from engagement_api.contract.times import (
    TimeFormatError,
    ceil_hour,
    floor_hour,
    format_timestamp,
    hour_index,
    parse_timestamp,
)

EARLIEST_START = datetime(2014, 9, 1, tzinfo=UTC)
MAX_SPAN = timedelta(days=28)
MAX_SPAN_HOURS = 28 * 24
HR28_SPAN = timedelta(hours=28)


@dataclass(frozen=True)
class Window:
    """A half-open window ``[start, end)`` of whole UTC hours."""

    start: datetime
    end: datetime

    @property
    def start_hour(self) -> int:
        """The first hour bucket, as hours since the epoch."""
        return hour_index(self.start)

    @property
    def end_hour(self) -> int:
        """The hour bucket just after the window (exclusive)."""
        return hour_index(self.end)

    @property
    def hours(self) -> list[int]:
        """Every hour bucket of the window, ascending."""
        return list(range(self.start_hour, self.end_hour))


def window_28hr(now: datetime) -> Window:
    """The ``/28hr`` window: 28 full hours plus the current partial hour."""
    current = floor_hour(now)
    return Window(current - HR28_SPAN, current + timedelta(hours=1))


def historical_window(
    body: Mapping[str, object], now: datetime, lookback_days: int
) -> tuple[Window | None, list[str]]:
    """The ``/historical`` window from the body's ``start``/``end``, and every problem found."""
    problems: list[str] = []
    start = _read(body, "start", problems)
    end = _read(body, "end", problems)
    if problems:
        return None, problems
    latest = ceil_hour(now)
    try:
        first = floor_hour(start) if start is not None else None
        last = ceil_hour(end) if end is not None else None
        if last is None:
            last = min(first + MAX_SPAN, latest) if first is not None else latest
        if first is None:
            first = last - MAX_SPAN
    except OverflowError:
        given = [field for field in ("start", "end") if body.get(field) is not None]
        named = ", ".join(f"{field}: {show(body[field])}" for field in given)
        return None, [f"{named}: outside the supported range of dates"]
    start_is = _described("start", body, first)
    end_is = _described("end", body, last)
    if first < EARLIEST_START:
        problems.append(
            f"{start_is} is before {format_timestamp(EARLIEST_START)}, the earliest start allowed"
        )
    elif first < now - timedelta(days=lookback_days):
        earliest = ceil_hour(now - timedelta(days=lookback_days))
        problems.append(
            f"{start_is} is more than {lookback_days} days ago; the earliest start "
            f"allowed is {format_timestamp(earliest)}"
        )
    if last > latest:
        problems.append(
            f"{end_is} is in the future; the latest end allowed is {format_timestamp(latest)}"
        )
    if first >= last:
        problems.append(f"{start_is} must be before {end_is}")
    elif last - first > MAX_SPAN:
        hours = (last - first) // timedelta(hours=1)
        problems.append(
            f"{start_is} to {end_is} is {hours} hours; at most "
            f"{MAX_SPAN_HOURS} hours (28 days) allowed"
        )
    return (None if problems else Window(first, last)), problems


def _read(body: Mapping[str, object], field: str, problems: list[str]) -> datetime | None:
    value = body.get(field)
    if value is None:
        return None
    try:
        return parse_timestamp(value)
    except TimeFormatError as exc:
        problems.append(f"{field}: {show(value)} {exc}")
        return None


def _described(field: str, body: Mapping[str, object], value: datetime) -> str:
    given = body.get(field)
    if given is None:
        return f"{field} (default): {format_timestamp(value)}"
    return f"{field}: {show(given)}"
