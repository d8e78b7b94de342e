"""/historical over real HTTP: windows (given, echoed, refused), hour-of-day keys, and counts
by when they happened.

Expected counts are computed in the test from the events it sent (tests.support.model), never
read back from the store.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.api.reads import (
    errors_of,
)
from tests.support.harness import (
    ANCIENT,
    BOB_POST,
    DELETED,
    OLD,
    RECENT,
    Api,
    at,
    body,
)
from tests.support.model import (
    Counts,
    Event,
    hours_between,
    key_order,
    parse_z,
    tree,
)

# -- /historical ---------------------------------------------------------------------------

HISTORICAL_EVENTS = [
    Event(RECENT, "impressions", at(20, 2, 59, 59), 1000),  # before the window
    Event(RECENT, "impressions", at(20, 3), 10),
    Event(RECENT, "impressions", at(21, 3, 30), 20),
    Event(RECENT, "impressions", at(22, 3, 45), 40),
    Event(RECENT, "impressions", at(22, 10, 59, 59), 7),  # last hour of the window
    Event(RECENT, "impressions", at(22, 11), 2000),  # after the window
    Event(RECENT, "favorites", at(21, 0), 2),
    Event(RECENT, "favorites", at(21, 23, 10), -1),
    Event(RECENT, "detail_expands", at(21, 14), 6),
    Event(RECENT, "video_views", at(20, 18), 9),
    Event(BOB_POST, "video_views", at(20, 18), 90),
    Event(OLD, "impressions", at(21, 3), 5),
    Event(OLD, "hashtag_clicks", at(22, 0)),
    Event(OLD, "favorites", at(20, 22), -3),  # a window sum may be negative
    Event(OLD, "media_views", at(22, 1), 4),
]
HISTORICAL_METRICS = [
    "impressions",
    "engagements",
    "favorites",
    "detail_expands",
    "hashtag_clicks",
    "video_views",
    "media_views",
]


def test_historical_with_start_and_end(api: Api) -> None:
    api.send_events(HISTORICAL_EVENTS)
    groupings = {
        "daily": {"group_by": ["tweet.id", "engagement.type", "engagement.day"]},
        "hour of day": {"group_by": ["engagement.type", "engagement.hour"]},
        "total": {"group_by": ["Engagement.Type", "Tweet.id"]},
    }
    data = api.read_ok(
        "historical",
        body(
            [RECENT, OLD],
            HISTORICAL_METRICS,
            groupings,
            start="2026-11-20T03:15:00Z",
            end="2026-11-22T10:05:00+00:00",
        ),
    )
    assert data["start"] == "2026-11-20T03:00:00Z"
    assert data["end"] == "2026-11-22T11:00:00Z"
    hours = hours_between(parse_z(data["start"]), parse_z(data["end"]))
    counts = Counts(HISTORICAL_EVENTS)
    posts = [RECENT, OLD]
    for name, spec in groupings.items():
        expected = tree(spec["group_by"], posts, HISTORICAL_METRICS, hours, counts.over(hours))
        assert data[name] == expected, name
        assert key_order(data[name]) == key_order(expected), name

    # spot checks of the model's reading
    assert data["total"]["impressions"] == {str(RECENT): "77", str(OLD): "5"}
    assert data["total"]["favorites"] == {str(RECENT): "1", str(OLD): "-3"}
    assert data["total"]["engagements"] == {str(RECENT): "8", str(OLD): "1"}
    assert data["total"]["video_views"] == {str(RECENT): "9", str(OLD): "0"}
    assert data["hour of day"]["impressions"]["03"] == "75"  # 10 + 20 + 40 + OLD's 5
    assert data["hour of day"]["impressions"]["10"] == "7"
    assert list(data["hour of day"]["impressions"]) == [f"{h:02d}" for h in range(24)]
    assert data["daily"][str(RECENT)]["impressions"] == {
        "2026-11-20": "10",
        "2026-11-21": "20",
        "2026-11-22": "47",
    }


def test_historical_hour_of_day_in_a_short_window(api: Api) -> None:
    """Hour-of-day keys are only the hours that lie in the window, ascending as numbers."""
    events = [
        Event(RECENT, "favorites", at(21, 19, 59)),
        Event(RECENT, "favorites", at(21, 20), 2),
        Event(RECENT, "favorites", at(21, 23, 30), 3),
        Event(RECENT, "favorites", at(22, 1, 59), 4),
        Event(RECENT, "favorites", at(22, 2), 5),
    ]
    api.send_events(events)
    data = api.read_ok(
        "historical",
        body(
            [RECENT],
            ["favorites"],
            {
                "h": {"group_by": ["engagement.type", "engagement.hour"]},
                "hd": {"group_by": ["engagement.type", "engagement.hour", "engagement.day"]},
                "dh": {"group_by": ["engagement.type", "engagement.day", "engagement.hour"]},
            },
            start="2026-11-21T20:00:00Z",
            end="2026-11-22T02:00:00Z",
        ),
    )
    assert data["h"] == {
        "favorites": {"00": "0", "01": "4", "20": "2", "21": "0", "22": "0", "23": "3"}
    }
    assert list(data["h"]["favorites"]) == ["00", "01", "20", "21", "22", "23"]
    assert data["hd"]["favorites"]["01"] == {"2026-11-22": "4"}
    assert data["hd"]["favorites"]["23"] == {"2026-11-21": "3"}
    assert data["dh"] == {
        "favorites": {
            "2026-11-21": {"20": "2", "21": "0", "22": "0", "23": "3"},
            "2026-11-22": {"00": "0", "01": "4"},
        }
    }


@pytest.mark.parametrize(
    ("start", "end", "echo_start", "echo_end"),
    [
        (None, None, "2026-10-29T13:00:00Z", "2026-11-26T13:00:00Z"),
        ("2026-11-20", "2026-11-21", "2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z"),
        (
            "2026-11-20T05:15:00+02:00",
            "2026-11-20T12:00:01",
            "2026-11-20T03:00:00Z",
            "2026-11-20T13:00:00Z",
        ),
        ("2026-11-20T10:30", None, "2026-11-20T10:00:00Z", "2026-11-26T13:00:00Z"),
        ("2026-10-01", None, "2026-10-01T00:00:00Z", "2026-10-29T00:00:00Z"),
        (None, "2026-11-10T00:00:00Z", "2026-10-13T00:00:00Z", "2026-11-10T00:00:00Z"),
        ("2026-11-26T12:59:59.999Z", None, "2026-11-26T12:00:00Z", "2026-11-26T13:00:00Z"),
    ],
)
def test_historical_window_echo(
    api: Api, start: str | None, end: str | None, echo_start: str, echo_end: str
) -> None:
    extra: dict[str, Any] = {k: v for k, v in (("start", start), ("end", end)) if v}
    data = api.read_ok("historical", body([RECENT], ["favorites"], **extra))
    assert (data["start"], data["end"]) == (echo_start, echo_end)


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-11-20", "2026-11-20", 'start: "2026-11-20" must be before end: "2026-11-20"'),
        (
            "2026-10-01",
            "2026-11-10",
            'start: "2026-10-01" to end: "2026-11-10" is 960 hours; '
            "at most 672 hours (28 days) allowed",
        ),
        (
            None,
            "2026-11-26T13:00:01Z",
            'end: "2026-11-26T13:00:01Z" is in the future; the latest end allowed is '
            "2026-11-26T13:00:00Z",
        ),
        (
            "2025-11-01",
            "2025-11-02",
            'start: "2025-11-01" is more than 365 days ago; the earliest start allowed is '
            "2025-11-26T13:00:00Z",
        ),
        (
            "2014-08-31",
            "2014-09-02",
            'start: "2014-08-31" is before 2014-09-01T00:00:00Z, the earliest start allowed',
        ),
        (
            "tomorrow",
            None,
            'start: "tomorrow" must be a date or date-time such as 2026-10-01T12:00:00Z',
        ),
    ],
)
def test_historical_bad_windows(api: Api, start: str | None, end: str | None, message: str) -> None:
    extra: dict[str, Any] = {k: v for k, v in (("start", start), ("end", end)) if v}
    response = api.read("historical", body([RECENT], ["favorites"], **extra))
    assert response.status_code == 400
    assert errors_of(response) == [message]


def test_historical_lookback_is_an_operator_setting(make_api: Callable[..., Api]) -> None:
    api = make_api(historical_lookback_days=30)
    ok = api.read("historical", body(start="2026-10-28T00:00:00Z"))
    assert ok.status_code == 200
    response = api.read("historical", body(start="2026-10-26T00:00:00Z"))
    assert response.status_code == 400
    assert errors_of(response) == [
        'start: "2026-10-26T00:00:00Z" is more than 30 days ago; the earliest start allowed '
        "is 2026-10-27T13:00:00Z"
    ]


def test_historical_counts_by_when_it_happened_and_without_the_90_day_rule(api: Api) -> None:
    api.send_events(
        [
            Event(OLD, "impressions", at(25, 10), 10),
            Event(OLD, "favorites", at(25, 10), 2),
            Event(ANCIENT, "impressions", at(25, 11), 4),
            Event(ANCIENT, "video_views", at(25, 11), 6),
        ]
    )
    data = api.read_ok(
        "historical",
        body([OLD, ANCIENT, DELETED], ["impressions", "engagements", "video_views"]),
    )
    assert data == {
        "start": "2026-10-29T13:00:00Z",
        "end": "2026-11-26T13:00:00Z",
        "perTweet": {
            str(OLD): {"engagements": "2", "impressions": "10", "video_views": "0"},
            str(ANCIENT): {"engagements": "0", "impressions": "4", "video_views": "0"},
        },
        "errors": ["1 Tweet ID(s) are unavailable"],
        "unavailable_tweet_ids": [str(DELETED)],
        "unsupported_for_video_views_tweet_ids": [str(ANCIENT)],
    }
