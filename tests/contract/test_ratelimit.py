"""The pure rules of spec §8: minutes, the x-per-minute-* headers, months, what usage counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from engagement_api.contract.errors import BadRequest
from engagement_api.contract.ratelimit import RateLimit, minute_of
from engagement_api.contract.usage import counts_for_usage, month_of, parse_month

NOON = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)
NEXT = int((NOON + timedelta(minutes=1)).timestamp())


@pytest.mark.parametrize(
    ("moment", "reset"),
    [
        (NOON, NEXT),
        (NOON + timedelta(seconds=59, microseconds=999_999), NEXT),
        (NOON + timedelta(seconds=60), NEXT + 60),
        (NOON.astimezone(timezone(timedelta(hours=5, minutes=30))), NEXT),
    ],
)
def test_the_reset_is_the_start_of_the_next_utc_minute(moment: datetime, reset: int) -> None:
    assert RateLimit(10, 1, minute_of(moment)).reset == reset


@pytest.mark.parametrize(
    ("limit", "count", "remaining", "exceeded"),
    [(3, 1, 2, False), (3, 3, 0, False), (3, 4, 0, True), (3, 1000, 0, True), (1, 1, 0, False)],
)
def test_headers(limit: int, count: int, remaining: int, exceeded: bool) -> None:
    state = RateLimit(limit, count, minute_of(NOON))
    assert state.exceeded is exceeded
    assert state.headers() == {
        "x-per-minute-limit": str(limit),
        "x-per-minute-remaining": str(remaining),
        "x-per-minute-reset": str(NEXT),
    }


@pytest.mark.parametrize(
    ("moment", "month"),
    [
        (NOON, "2026-11"),
        (datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC), "2026-12"),
        (datetime(2027, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=2))), "2026-12"),
    ],
)
def test_month_of_is_the_utc_month(moment: datetime, month: str) -> None:
    assert month_of(moment) == month


@pytest.mark.parametrize("value", ["2026-11", "1970-01", "9999-12"])
def test_valid_months(value: str) -> None:
    assert parse_month(value) == value


@pytest.mark.parametrize(
    "value", ["", "2026-13", "2026-00", "2026-1", "2026/11", "26-11", "1969-12", " 2026-11", "x"]
)
def test_invalid_months_name_the_field_and_value(value: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_month(value)
    assert caught.value.messages == [f'Invalid month: "{value}" (expected YYYY-MM, as in 2026-11)']


@pytest.mark.parametrize(
    ("user", "authors", "counts"),
    [(7, [7], True), (7, [1, 7, 2], True), (7, [1, 2], False), (7, [], False), (None, [7], False)],
)
def test_usage_counts_users_asking_for_a_post_of_their_own(
    user: int | None, authors: list[int], counts: bool
) -> None:
    assert counts_for_usage(user, authors) is counts
