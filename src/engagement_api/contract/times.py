"""Parsing and formatting of the contract's timestamps, and UTC hour arithmetic.

Accepted forms (spec section 3): ``2026-10-01``, ``2026-10-01T12:00:00Z``,
``2026-10-01T12:00:00`` (no zone: UTC), ``2026-10-01T12:00:00+02:00`` (converted to UTC), with
or without seconds and fractions. Hours are counted as whole hours since the Unix epoch.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_FORM = re.compile(
    r"""
    (?P<date>\d{4}-\d{2}-\d{2})
    (?:
        [T ](?P<hour>\d{2}):(?P<minute>\d{2})
        (?::(?P<second>\d{2})(?:\.(?P<fraction>\d{1,9}))?)?
        (?P<zone>Z|z|[+-]\d{2}:?\d{2})?
    )?
    """,
    re.VERBOSE,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HOUR = 3600


class TimeFormatError(ValueError):
    """The text is not one of the accepted timestamp forms."""


def parse_timestamp(text: object) -> datetime:
    """Parse an accepted timestamp form into an aware UTC datetime."""
    if not isinstance(text, str):
        raise TimeFormatError("must be a string such as 2026-10-01 or 2026-10-01T12:00:00Z")
    match = _FORM.fullmatch(text.strip())
    if match is None:
        raise TimeFormatError("must be a date or date-time such as 2026-10-01T12:00:00Z")
    try:
        day = datetime.strptime(match["date"], "%Y-%m-%d")
        if match["hour"] is None:
            return day.replace(tzinfo=UTC)
        fraction = match["fraction"] or "0"
        micro = int((fraction + "000000")[:6])
        moment = day.replace(
            hour=int(match["hour"]),
            minute=int(match["minute"]),
            second=int(match["second"] or 0),
            microsecond=micro,
        )
    except ValueError as exc:
        raise TimeFormatError("is not a real date or time") from exc
    zone = match["zone"]
    if zone is None or zone in ("Z", "z"):
        return moment.replace(tzinfo=UTC)
    sign = 1 if zone[0] == "+" else -1
    digits = zone[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 23 or minutes > 59:
        raise TimeFormatError("has an invalid UTC offset")
    offset = timedelta(hours=hours, minutes=minutes) * sign
    try:
        return (moment - offset).replace(tzinfo=UTC)
    except OverflowError as exc:
        raise TimeFormatError("is out of range") from exc


def epoch_seconds(moment: datetime) -> int:
    """Whole seconds since the Unix epoch (floored)."""
    delta = moment - EPOCH
    return delta.days * 86400 + delta.seconds


def hour_index(moment: datetime) -> int:
    """The UTC hour bucket that contains ``moment``, as hours since the epoch."""
    return epoch_seconds(moment) // HOUR


def hour_start(index: int) -> datetime:
    """The start of an hour bucket."""
    return EPOCH + timedelta(hours=index)


def floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def ceil_hour(moment: datetime) -> datetime:
    floored = floor_hour(moment)
    return floored if floored == moment else floored + timedelta(hours=1)


def format_timestamp(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ``, as the responses echo ``start`` and ``end``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
