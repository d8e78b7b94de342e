"""/28hr over real HTTP: 29 hourly buckets matching the events, a window that moves with the
clock, partial results.

Expected counts are computed in the test from the events it sent (tests.support.model), never
read back from the store.
"""

from __future__ import annotations

from datetime import timedelta

from tests.support.harness import (
    ANCIENT,
    BOB_DELETED,
    BOB_POST,
    DELETED,
    PHOTO,
    RECENT,
    UNKNOWN,
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

# -- /28hr ----------------------------------------------------------------------------------

HR28_EVENTS = [
    Event(RECENT, "favorites", at(25, 7, 59, 59)),  # just before the window
    Event(RECENT, "favorites", at(25, 8)),  # the first bucket
    Event(RECENT, "favorites", at(25, 23, 59, 59), 3),
    Event(RECENT, "favorites", at(26, 3), -1),
    Event(RECENT, "impressions", at(26, 12, 29, 59), 100),  # the current, partial hour
    Event(RECENT, "impressions", at(24, 12), 1000),
    Event(RECENT, "video_views", at(25, 9, 10), 5),
    Event(BOB_POST, "video_views", at(25, 9, 20), 7),  # same video, another Post
    Event(BOB_DELETED, "video_views", at(25, 10), 70),
    Event(RECENT, "media_clicks", at(26, 5), 2),
    Event(RECENT, "other_engagements", at(26, 6)),
    Event(PHOTO, "url_clicks", at(26, 0), 4),
    Event(PHOTO, "impressions", at(24, 12), 1),  # outside
    Event(PHOTO, "user_follows", at(25, 20)),
]
HR28_METRICS = [
    "video_views",
    "impressions",
    "favorites",
    "engagements",
    "media_clicks",
    "url_clicks",
    "user_follows",
]


def test_28hr_has_29_hourly_buckets_matching_the_events(api: Api) -> None:
    api.send_events(HR28_EVENTS)
    data = api.read_ok(
        "28hr",
        body(
            [PHOTO, RECENT],
            HR28_METRICS,
            {
                "hourly": {
                    "group_by": ["tweet.id", "engagement.type", "engagement.day", "engagement.hour"]
                },
                "totals": {"group_by": ["engagement.type"]},
            },
        ),
    )
    assert list(data) == ["start", "end", "hourly", "totals"]
    assert data["start"] == "2026-11-25T08:00:00Z"
    assert data["end"] == "2026-11-26T13:00:00Z"
    hours = hours_between(parse_z(data["start"]), parse_z(data["end"]))
    assert len(hours) == 29

    recent = data["hourly"][str(RECENT)]
    assert list(recent) == sorted(HR28_METRICS)
    assert list(recent["favorites"]) == ["2026-11-25", "2026-11-26"]
    assert list(recent["favorites"]["2026-11-25"]) == [f"{h:02d}" for h in range(8, 24)]
    assert list(recent["favorites"]["2026-11-26"]) == [f"{h:02d}" for h in range(13)]
    assert recent["favorites"]["2026-11-25"]["08"] == "1"
    assert recent["favorites"]["2026-11-25"]["23"] == "3"
    assert recent["favorites"]["2026-11-26"]["03"] == "-1"
    assert recent["engagements"]["2026-11-26"]["03"] == "0"
    assert recent["impressions"]["2026-11-26"]["12"] == "100"
    assert recent["video_views"]["2026-11-25"]["09"] == "5"  # not bob's 7 nor the deleted 70
    assert recent["media_clicks"]["2026-11-26"]["05"] == "2"
    assert recent["engagements"]["2026-11-26"]["06"] == "1"
    assert data["totals"] == {
        "engagements": "12",  # 1 + 3 favorites, 2 media clicks, 1 other, 4 url clicks, 1 follow
        "favorites": "3",
        "impressions": "100",
        "media_clicks": "2",
        "url_clicks": "4",
        "user_follows": "1",
        "video_views": "5",
    }

    counts = Counts(HR28_EVENTS)
    expected = tree(
        ["tweet.id", "engagement.type", "engagement.day", "engagement.hour"],
        [PHOTO, RECENT],
        HR28_METRICS,
        hours,
        counts.over(hours),
    )
    assert data["hourly"] == expected
    assert key_order(data["hourly"]) == key_order(expected)


def test_28hr_window_moves_with_the_clock(api: Api) -> None:
    api.send_events([Event(RECENT, "favorites", at(26, 12, 5), 2)])
    ask = body([RECENT], ["favorites"], {"g": {"group_by": ["engagement.type", "engagement.hour"]}})
    first = api.read_ok("28hr", ask)
    assert (first["start"], first["end"]) == ("2026-11-25T08:00:00Z", "2026-11-26T13:00:00Z")
    assert first["g"]["favorites"]["12"] == "2"
    api.clock.advance(timedelta(hours=28, minutes=30))  # 2026-11-27T17:00
    later = api.read_ok("28hr", ask)
    assert (later["start"], later["end"]) == ("2026-11-26T13:00:00Z", "2026-11-27T18:00:00Z")
    assert later["g"]["favorites"] == {f"{h:02d}": "0" for h in range(24)}


def test_28hr_partial_results(api: Api) -> None:
    """Unavailable Posts (even another user's) are listed, never a 403; video views of a Post
    over 1800 days are "0" and listed."""
    api.send_events(
        [
            Event(RECENT, "video_views", at(26, 1), 4),
            Event(ANCIENT, "video_views", at(26, 2), 6),
            Event(ANCIENT, "impressions", at(26, 2), 8),
        ]
    )
    data = api.read_ok(
        "28hr",
        body(
            [UNKNOWN, BOB_DELETED, ANCIENT, RECENT, DELETED],
            ["video_views", "impressions"],
            {"sum": {"group_by": ["tweet.id", "engagement.type"]}},
        ),
    )
    assert data == {
        "start": "2026-11-25T08:00:00Z",
        "end": "2026-11-26T13:00:00Z",
        "sum": {
            str(RECENT): {"impressions": "0", "video_views": "4"},
            str(ANCIENT): {"impressions": "8", "video_views": "0"},
        },
        "errors": ["3 Tweet ID(s) are unavailable"],
        "unavailable_tweet_ids": [str(DELETED), str(BOB_DELETED), str(UNKNOWN)],
        "unsupported_for_video_views_tweet_ids": [str(ANCIENT)],
    }
