"""When and how long to wait before sending a request again (pure)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

RETRY_STATUSES = frozenset({429, 500, 502, 503})


@dataclass(frozen=True)
class RetryPolicy:
    """Retries of one request: on 429, 500, 502, 503 and connection errors.

    - at most ``max_attempts`` sendings in all (1 means no retry);
    - the n-th wait is ``d/2 + uniform(0, d/2)`` with
      ``d = min(backoff_max, backoff_base * 2**(n-1))`` (exponential backoff with jitter);
    - a 429 waits until its ``x-per-minute-reset`` (Unix seconds) instead, plus up to
      ``backoff_base`` of jitter, when the header is there;
    - no wait is started that would end more than ``max_total`` seconds after the first sending:
      the last error is raised instead.
    """

    max_attempts: int = 5
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    max_total: float = 120.0
    statuses: frozenset[int] = RETRY_STATUSES

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.backoff_base < 0 or self.backoff_max < 0 or self.max_total < 0:
            raise ValueError("backoff and time bounds must not be negative")

    def backoff(self, failures: int, random: Callable[[], float]) -> float:
        """The wait after the ``failures``-th failed sending (1-based)."""
        ceiling = min(self.backoff_max, self.backoff_base * 2.0 ** (failures - 1))
        return ceiling / 2 + random() * ceiling / 2

    def rate_limit_wait(self, reset: float, now: float, random: Callable[[], float]) -> float:
        """The wait until a per-minute limit resets (never negative), with jitter."""
        return max(0.0, reset - now) + random() * self.backoff_base


NO_RETRY = RetryPolicy(max_attempts=1)
