"""Time windows: /28hr from now, /historical from start/end with defaults and limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engagement_api.contract.errors import BadRequest
from engagement_api.contract.metrics import Endpoint
from engagement_api.contract.request import parse_request
from engagement_api.contract.times import format_timestamp, hour_index
from engagement_api.contract.windows import Window, window_28hr

from .builders import NOW, body

# NOW is 2026-11-26T11:20:30Z: floor_hour(NOW) is 11:00, ceil_hour(NOW) is 12:00.


def window(fields: dict[str, object], lookback_days: int = 365) -> tuple[str, str]:
    request = parse_request(Endpoint.HISTORICAL, body(**fields), NOW, lookback_days)
    assert request.window is not None
    return format_timestamp(request.window.start), format_timestamp(request.window.end)


def problems(fields: dict[str, object], lookback_days: int = 365) -> list[str]:
    with pytest.raises(BadRequest) as caught:
        parse_request(Endpoint.HISTORICAL, body(**fields), NOW, lookback_days)
    return caught.value.messages


def test_28hr_window_matches_the_spec_example() -> None:
    request = parse_request(Endpoint.HR28, body(), NOW)
    assert request.window == window_28hr(NOW)
    assert format_timestamp(request.window.start) == "2026-11-25T07:00:00Z"
    assert format_timestamp(request.window.end) == "2026-11-26T12:00:00Z"
    assert len(request.window.hours) == 29


@pytest.mark.parametrize(
    ("now", "start", "end"),
    [
        (datetime(2026, 11, 26, 11, 0, tzinfo=UTC), "2026-11-25T07:00:00Z", "2026-11-26T12:00:00Z"),
        (
            datetime(2026, 11, 26, 11, 59, 59, 999999, tzinfo=UTC),
            "2026-11-25T07:00:00Z",
            "2026-11-26T12:00:00Z",
        ),
        (datetime(2026, 1, 1, 0, 30, tzinfo=UTC), "2025-12-30T20:00:00Z", "2026-01-01T01:00:00Z"),
    ],
)
def test_28hr_window(now: datetime, start: str, end: str) -> None:
    got = window_28hr(now)
    assert (format_timestamp(got.start), format_timestamp(got.end)) == (start, end)


def test_window_hours() -> None:
    got = Window(datetime(1970, 1, 2, 1, tzinfo=UTC), datetime(1970, 1, 2, 4, tzinfo=UTC))
    assert (got.start_hour, got.end_hour) == (25, 28)
    assert got.hours == [25, 26, 27]
    assert hour_index(got.start) == got.start_hour


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, ("2026-10-29T12:00:00Z", "2026-11-26T12:00:00Z")),
        ({"start": None, "end": None}, ("2026-10-29T12:00:00Z", "2026-11-26T12:00:00Z")),
        ({"end": "2026-11-01"}, ("2026-10-04T00:00:00Z", "2026-11-01T00:00:00Z")),
        ({"end": "2026-11-01T10:15"}, ("2026-10-04T11:00:00Z", "2026-11-01T11:00:00Z")),
        ({"start": "2026-10-01"}, ("2026-10-01T00:00:00Z", "2026-10-29T00:00:00Z")),
        ({"start": "2026-11-20T05:59:59.999"}, ("2026-11-20T05:00:00Z", "2026-11-26T12:00:00Z")),
        (
            {"start": "2026-10-01", "end": "2026-10-15T12:00:00Z"},
            ("2026-10-01T00:00:00Z", "2026-10-15T12:00:00Z"),
        ),
        (
            {"start": "2026-10-01T12:00:00", "end": "2026-10-02T12:00:00"},
            ("2026-10-01T12:00:00Z", "2026-10-02T12:00:00Z"),
        ),
        (
            {"start": "2026-10-01T12:00:00+02:00", "end": "2026-10-01T12:00:00-02:30"},
            ("2026-10-01T10:00:00Z", "2026-10-01T15:00:00Z"),
        ),
        (
            {"start": "2026-10-01T12:00Z", "end": "2026-10-01T13:00:00.000001Z"},
            ("2026-10-01T12:00:00Z", "2026-10-01T14:00:00Z"),
        ),
        (
            {"start": "2026-10-01T05:10", "end": "2026-10-01T05:20"},
            ("2026-10-01T05:00:00Z", "2026-10-01T06:00:00Z"),
        ),
        (
            {"start": "2026-10-01", "end": "2026-10-29"},
            ("2026-10-01T00:00:00Z", "2026-10-29T00:00:00Z"),
        ),
        ({"end": "2026-11-26T12:00:00Z"}, ("2026-10-29T12:00:00Z", "2026-11-26T12:00:00Z")),
        ({"end": "2026-11-26T11:20:31Z"}, ("2026-10-29T12:00:00Z", "2026-11-26T12:00:00Z")),
        ({"start": "2025-11-26T12:00:00Z"}, ("2025-11-26T12:00:00Z", "2025-12-24T12:00:00Z")),
    ],
)
def test_historical_window(fields: dict[str, object], expected: tuple[str, str]) -> None:
    assert window(fields) == expected


def test_earliest_start_with_a_long_lookback() -> None:
    got = window({"start": "2014-09-01", "end": "2014-09-02"}, lookback_days=5000)
    assert got == ("2014-09-01T00:00:00Z", "2014-09-02T00:00:00Z")


def test_lookback_is_an_operator_setting() -> None:
    assert window({"start": "2026-10-28"}, lookback_days=30)[0] == "2026-10-28T00:00:00Z"
    assert problems({"start": "2026-10-26"}, lookback_days=30) == [
        'start: "2026-10-26" is more than 30 days ago; the earliest start allowed is '
        "2026-10-27T12:00:00Z"
    ]


LATEST = "the latest end allowed is 2026-11-26T12:00:00Z"


@pytest.mark.parametrize(
    ("fields", "messages"),
    [
        ({"start": "2026-13-01"}, ['start: "2026-13-01" is not a real date or time']),
        ({"end": "2026-10-01T25:00"}, ['end: "2026-10-01T25:00" is not a real date or time']),
        (
            {"start": "yesterday"},
            ['start: "yesterday" must be a date or date-time such as 2026-10-01T12:00:00Z'],
        ),
        (
            {"start": "2026-10-01 at noon"},
            [
                'start: "2026-10-01 at noon" must be a date or date-time such as '
                "2026-10-01T12:00:00Z"
            ],
        ),
        (
            {"start": 20261001},
            ["start: 20261001 must be a string such as 2026-10-01 or 2026-10-01T12:00:00Z"],
        ),
        (
            {"end": "2026-10-01T12:00:00+24:00"},
            ['end: "2026-10-01T12:00:00+24:00" has an invalid UTC offset'],
        ),
        (
            {"start": "x", "end": "y"},
            [
                'start: "x" must be a date or date-time such as 2026-10-01T12:00:00Z',
                'end: "y" must be a date or date-time such as 2026-10-01T12:00:00Z',
            ],
        ),
        (
            {"start": "2026-10-15", "end": "2026-10-01"},
            ['start: "2026-10-15" must be before end: "2026-10-01"'],
        ),
        (
            {"start": "2026-10-01T05:00Z", "end": "2026-10-01T05:00Z"},
            ['start: "2026-10-01T05:00Z" must be before end: "2026-10-01T05:00Z"'],
        ),
        (
            {"start": "2026-12-01"},
            ['start: "2026-12-01" must be before end (default): 2026-11-26T12:00:00Z'],
        ),
        (
            {"start": "2026-10-01", "end": "2026-10-29T00:00:01Z"},
            [
                'start: "2026-10-01" to end: "2026-10-29T00:00:01Z" is 673 hours; '
                "at most 672 hours (28 days) allowed"
            ],
        ),
        (
            {"start": "2026-10-01", "end": "2026-11-26"},
            [
                'start: "2026-10-01" to end: "2026-11-26" is 1344 hours; '
                "at most 672 hours (28 days) allowed"
            ],
        ),
        (
            {"end": "2026-11-26T12:00:01Z"},
            [f'end: "2026-11-26T12:00:01Z" is in the future; {LATEST}'],
        ),
        (
            {"start": "2026-11-26", "end": "2026-11-27"},
            [f'end: "2026-11-27" is in the future; {LATEST}'],
        ),
        (
            {"start": "2025-11-26T11:00:00Z"},
            [
                'start: "2025-11-26T11:00:00Z" is more than 365 days ago; '
                "the earliest start allowed is 2025-11-26T12:00:00Z"
            ],
        ),
        (
            {"end": "2025-12-01"},
            [
                "start (default): 2025-11-03T00:00:00Z is more than 365 days ago; "
                "the earliest start allowed is 2025-11-26T12:00:00Z"
            ],
        ),
        (
            {"start": "2014-08-31T23:59:59Z"},
            [
                'start: "2014-08-31T23:59:59Z" is before 2014-09-01T00:00:00Z, the earliest start '
                "allowed"
            ],
        ),
        (
            {"start": "2014-01-01", "end": "2030-01-01"},
            [
                'start: "2014-01-01" is before 2014-09-01T00:00:00Z, the earliest start allowed',
                f'end: "2030-01-01" is in the future; {LATEST}',
                'start: "2014-01-01" to end: "2030-01-01" is 140256 hours; '
                "at most 672 hours (28 days) allowed",
            ],
        ),
        (
            {"end": "9999-12-31T23:30:00Z"},
            ['end: "9999-12-31T23:30:00Z": outside the supported range of dates'],
        ),
        ({"start": "9999-12-30"}, ['start: "9999-12-30": outside the supported range of dates']),
        (
            {"start": "2026-10-01", "end": "9999-12-31T23:01Z"},
            ['start: "2026-10-01", end: "9999-12-31T23:01Z": outside the supported range of dates'],
        ),
        ({"end": "0001-01-05"}, ['end: "0001-01-05": outside the supported range of dates']),
    ],
)
def test_historical_window_problems(fields: dict[str, object], messages: list[str]) -> None:
    assert problems(fields) == messages


def test_earliest_start_is_checked_before_the_lookback() -> None:
    assert problems({"start": "2014-08-31", "end": "2014-09-01"}, lookback_days=100000) == [
        'start: "2014-08-31" is before 2014-09-01T00:00:00Z, the earliest start allowed'
    ]


def test_start_exactly_at_the_lookback_limit() -> None:
    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    start = now - timedelta(days=365)
    request = parse_request(Endpoint.HISTORICAL, body(start=format_timestamp(start)), now)
    assert request.window is not None
    assert request.window.start == start
