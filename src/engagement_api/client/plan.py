"""Splitting one request into requests the endpoints accept (pure, no I/O).

- Post IDs are normalised the way the server reads them (whitespace trimmed, leading zeros
  dropped, duplicates once) and cut into chunks of the endpoint's maximum: 250 on ``/totals``,
  25 on ``/28hr`` and ``/historical``.
- A ``/historical`` range is floored/ceiled to whole hours (as the server does) and cut into
  windows of at most 28 days (672 hours). A range that fits in one window is sent as given.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

HOUR = timedelta(hours=1)
MAX_WINDOW = timedelta(days=28)
MAX_IDS = {"totals": 250, "28hr": 25, "historical": 25}
ENDPOINTS = tuple(MAX_IDS)
GROUP_BY_LEVELS = ("tweet.id", "engagement.type", "engagement.day", "engagement.hour")

_DIGITS = re.compile(r"^[0-9]+$")

DateLike = str | date | datetime
GroupingsArg = Mapping[str, Sequence[str] | Mapping[str, Any]]


def normalise_ids(tweet_ids: Iterable[str | int]) -> list[str]:
    """IDs as the server reads them, first occurrence kept, order kept. Values the server
    would refuse are passed on unchanged, so that its 400 names them."""
    seen: set[str] = set()
    out: list[str] = []
    for raw in tweet_ids:
        if isinstance(raw, int):  # bools too: the server refuses them
            text = str(raw)
        else:
            stripped = raw.strip()
            text = str(int(stripped)) if _DIGITS.match(stripped) else raw
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out


def chunks(ids: Sequence[str], size: int) -> list[list[str]]:
    return [list(ids[i : i + size]) for i in range(0, len(ids), size)]


def normalise_groupings(groupings: GroupingsArg | None) -> dict[str, dict[str, list[str]]]:
    """``{"name": ["tweet.id", ...]}`` or the wire form ``{"name": {"group_by": [...]}}``."""
    if groupings is None:
        return {"perTweet": {"group_by": ["tweet.id", "engagement.type"]}}
    out: dict[str, dict[str, list[str]]] = {}
    for name, value in groupings.items():
        levels = value["group_by"] if isinstance(value, Mapping) else value
        if isinstance(levels, str):
            raise TypeError(f"grouping {name!r}: group_by must be a list, not a string")
        out[name] = {"group_by": [str(level) for level in levels]}
    return out


def parse_moment(value: DateLike) -> datetime:
    """A date, datetime or contract date string as an aware UTC datetime (no zone: UTC)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        text = value.strip().replace(" ", "T", 1)
        if text.endswith(("z", "Z")):
            text = text[:-1] + "+00:00"
        moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def ceil_hour(moment: datetime) -> datetime:
    floored = floor_hour(moment)
    return floored if floored == moment else floored + HOUR


def iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Window:
    """One ``/historical`` window as sent: ``None`` leaves a bound to the server."""

    start: str | None
    end: str | None


def split_range(start: DateLike | None, end: DateLike | None, now: datetime) -> list[Window]:
    """Windows of at most 28 days covering ``[floor(start), ceil(end))`` exactly.

    A range the server would take in one request (missing bounds included: the server applies
    its own defaults) is one window with the bounds as given. ``now`` is only used when ``end``
    is missing and ``start`` is more than 28 days back: the range then ends at ``ceil(now)``,
    and the last window leaves ``end`` to the server.
    """
    as_given = Window(
        None if start is None else _as_sent(start), None if end is None else _as_sent(end)
    )
    if start is None:
        return [as_given]
    first = floor_hour(parse_moment(start))
    last = ceil_hour(parse_moment(end)) if end is not None else ceil_hour(now)
    if last - first <= MAX_WINDOW:
        return [as_given]
    windows: list[Window] = []
    moment = first
    while moment < last:
        stop = min(moment + MAX_WINDOW, last)
        windows.append(Window(iso_z(moment), iso_z(stop)))
        moment = stop
    if end is None:
        windows[-1] = Window(windows[-1].start, None)
    return windows


def _as_sent(value: DateLike) -> str:
    if isinstance(value, str):
        return value
    return iso_z(parse_moment(value))
