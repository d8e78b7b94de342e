"""Rate limits (spec §8): per app, per endpoint, per calendar minute (UTC).

Pure rules: which minute a moment falls in, and what the ``x-per-minute-*`` headers say once
the store has counted the request. The count itself lives in the store (one count for an app
across every server process).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

LIMIT_HEADER = "x-per-minute-limit"
REMAINING_HEADER = "x-per-minute-remaining"
RESET_HEADER = "x-per-minute-reset"


def minute_of(now: datetime) -> int:
    """Whole minutes since the Unix epoch (UTC) of an aware datetime."""
    return int(now.timestamp()) // 60


@dataclass(frozen=True, slots=True)
class RateLimit:
    """The state of one (app, endpoint, minute) after counting a request."""

    limit: int
    count: int  # requests counted in this minute, this one included
    minute: int

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    @property
    def reset(self) -> int:
        """Unix seconds of the start of the next minute."""
        return (self.minute + 1) * 60

    def headers(self) -> dict[str, str]:
        return {
            LIMIT_HEADER: str(self.limit),
            REMAINING_HEADER: str(self.remaining),
            RESET_HEADER: str(self.reset),
        }
