"""Usage (spec §8): per app and calendar month (UTC), the distinct users whose access token
signed a successful request that asked for at least one Post they own.

Months are written ``YYYY-MM`` (``2026-11``), on the wire and in the store.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

from engagement_api.contract.errors import BadRequest

_MONTH = re.compile(r"(\d{4})-(\d{2})")


def month_of(now: datetime) -> str:
    """The UTC calendar month of an aware datetime, as ``YYYY-MM``."""
    utc = now.astimezone(UTC)
    return f"{utc.year:04d}-{utc.month:02d}"


def parse_month(value: str) -> str:
    """``YYYY-MM`` (month 01 to 12, year 1970 or later) as given; 400 naming the field else."""
    match = _MONTH.fullmatch(value)
    if match is None or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1970:
        raise BadRequest(f'Invalid month: "{value}" (expected YYYY-MM, as in 2026-11)')
    return value


def counts_for_usage(user_id: int | None, authors: Iterable[int]) -> bool:
    """Whether a successful request counts toward usage: it was signed by a user's access
    token (``user_id`` set) and asked for at least one Post that user owns (``authors`` are the
    authors of the requested Posts that exist)."""
    return user_id is not None and any(author == user_id for author in authors)
