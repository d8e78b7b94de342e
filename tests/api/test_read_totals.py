"""/totals over real HTTP: counts that match what was ingested, and partial results.

Expected counts are computed in the test from the events it sent (tests.support.model), never
read back from the store.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.api.reads import (
    IMPRESSIONS_TOO_OLD,
)
from tests.support import NOW
from tests.support.harness import (
    ALICE,
    ANCIENT,
    BIG,
    BOB_DELETED,
    BOB_POST,
    DELETED,
    OLD,
    PHOTO,
    PROTECTED,
    RECENT,
    UNKNOWN,
    VIDEO_CARRIERS,
    Api,
    at,
    body,
)
from tests.support.model import (
    TOTALS_METRICS,
    Counts,
    Event,
    iso,
    key_order,
    tree,
)

# -- /totals counts ------------------------------------------------------------------------

TOTALS_EVENTS = [
    Event(RECENT, "impressions", at(20, 10), 40),
    Event(RECENT, "impressions", at(26, 12, 10), 2),
    Event(RECENT, "favorites", at(20, 11)),
    Event(RECENT, "favorites", at(21, 11)),
    Event(RECENT, "favorites", at(26, 12, 29)),
    Event(RECENT, "favorites", at(25, 1), -1),
    Event(RECENT, "retweets", at(22, 5), 2),
    Event(RECENT, "quote_tweets", at(22, 6)),
    Event(RECENT, "replies", at(22, 7)),
    Event(RECENT, "replies", at(23, 7), -1),
    Event(RECENT, "url_clicks", at(22, 8), 4),
    Event(RECENT, "other_engagements", at(22, 9), 3),
    Event(RECENT, "media_clicks", at(22, 10), 2),
    Event(RECENT, "video_views", at(22, 11), 10),
    Event(RECENT, "media_views", at(22, 12), 9),
    Event(BOB_POST, "video_views", at(23, 1), 7),
    Event(BOB_POST, "favorites", at(23, 2), 5),
    Event(BOB_DELETED, "video_views", at(24, 3), 11),
    Event(PHOTO, "favorites", at(24, 4), -2),
    Event(PHOTO, "impressions", at(24, 5), 3),
    Event(BIG, "impressions", at(26, 1), 5),
    Event(BIG, "favorites", at(26, 2)),
]


def test_totals_counts_what_was_ingested(api: Api) -> None:
    api.send_events(TOTALS_EVENTS)
    data = api.read_ok(
        "totals",
        body(
            [BIG, RECENT, PHOTO, RECENT],
            list(TOTALS_METRICS),
            {
                "perTweet": {"group_by": ["tweet.id", "engagement.type"]},
                "Grand Totals": {"group_by": ["engagement.type"]},
                "byType": {"group_by": ["engagement.type", "tweet.id"]},
            },
        ),
    )
    recent = {
        # favorites 3 + retweets 2 + quote 1 + replies 1 + url 4 + other 3 + media 2;
        # undo events (-1 favorite, -1 reply) never lower engagements
        "engagements": "16",
        "favorites": "2",
        "impressions": "42",
        "quote_tweets": "1",
        "replies": "0",
        "retweets": "2",
        "video_views": "28",  # its own 10 + bob's 7 + bob's deleted Post's 11
    }
    photo = {  # -2 favorites clamp at 0 on /totals; undo is not an engagement
        "engagements": "0",
        "favorites": "0",
        "impressions": "3",
        "quote_tweets": "0",
        "replies": "0",
        "retweets": "0",
        "video_views": "0",
    }
    big = {
        "engagements": "1",
        "favorites": "1",
        "impressions": "5",
        "quote_tweets": "0",
        "replies": "0",
        "retweets": "0",
        "video_views": "0",
    }
    assert data == {
        "perTweet": {str(RECENT): recent, str(PHOTO): photo, str(BIG): big},
        "Grand Totals": {
            "engagements": "17",
            "favorites": "3",
            "impressions": "50",
            "quote_tweets": "1",
            "replies": "0",
            "retweets": "2",
            "video_views": "28",
        },
        "byType": {
            m: {str(RECENT): recent[m], str(PHOTO): photo[m], str(BIG): big[m]}
            for m in TOTALS_METRICS
        },
    }
    assert list(data) == ["perTweet", "Grand Totals", "byType"]
    assert list(data["perTweet"]) == [str(RECENT), str(PHOTO), str(BIG)]  # numeric order
    assert list(data["perTweet"][str(RECENT)]) == sorted(TOTALS_METRICS)

    # the independent model agrees with the hand-computed values
    counts = Counts(TOTALS_EVENTS)

    def lifetime(post: int, metric: str) -> list[int]:
        carriers = VIDEO_CARRIERS if post in VIDEO_CARRIERS else ()
        return [counts.totals_value(post, metric, carriers)]

    for name in ("perTweet", "Grand Totals", "byType"):
        group_by = {
            "perTweet": ["tweet.id", "engagement.type"],
            "Grand Totals": ["engagement.type"],
            "byType": ["engagement.type", "tweet.id"],
        }[name]
        expected = tree(group_by, [RECENT, PHOTO, BIG], TOTALS_METRICS, None, lifetime)
        assert data[name] == expected
        assert key_order(data[name]) == key_order(expected)


@pytest.mark.parametrize("auth", ["bearer", "app", "bob", "carol"])
def test_totals_public_metrics_of_any_post(api: Api, auth: str) -> None:
    """Public metrics of any available Post, under app-only and under another user's context;
    video views are those of the video, summed over every Post carrying it."""
    api.send_events(TOTALS_EVENTS)
    data = api.read_ok(
        "totals",
        body([RECENT, BOB_POST], ["video_views", "favorites", "retweets"]),
        auth=auth,
    )
    assert data == {
        "perTweet": {
            str(RECENT): {"favorites": "2", "retweets": "2", "video_views": "28"},
            str(BOB_POST): {"favorites": "5", "retweets": "0", "video_views": "28"},
        }
    }


def test_totals_are_visible_at_once_and_up_to_the_request(api: Api) -> None:
    """Events a few minutes ahead of the server clock are accepted and counted at once."""
    ask = body([RECENT], ["favorites"])
    assert api.read_ok("totals", ask)["perTweet"][str(RECENT)] == {"favorites": "0"}
    api.send_events([Event(RECENT, "favorites", NOW + timedelta(minutes=4), 3)])
    assert api.read_ok("totals", ask)["perTweet"][str(RECENT)] == {"favorites": "3"}


# -- partial results on /totals -----------------------------------------------------------


def test_totals_partial_results(api: Api) -> None:
    api.send_events(
        [
            Event(OLD, "impressions", at(26, 10), 10),
            Event(OLD, "favorites", at(26, 10), 2),
            Event(ANCIENT, "video_views", at(26, 11), 6),
            Event(ANCIENT, "impressions", at(26, 11), 4),
            Event(ANCIENT, "favorites", at(26, 11)),
            Event(RECENT, "impressions", at(26, 11), 3),
            Event(DELETED, "favorites", at(26, 11), 50),
        ]
    )
    data = api.read_ok(
        "totals",
        body(
            [UNKNOWN, PROTECTED, DELETED, OLD, ANCIENT, RECENT],
            ["impressions", "engagements", "favorites", "video_views"],
        ),
    )
    zero = {"engagements": "0", "favorites": "0", "impressions": "0", "video_views": "0"}
    assert data == {
        "perTweet": {
            str(RECENT): {**zero, "impressions": "3"},
            str(OLD): {**zero, "favorites": "2"},
            str(ANCIENT): {**zero, "favorites": "1"},
        },
        "errors": ["3 Tweet ID(s) are unavailable", IMPRESSIONS_TOO_OLD],
        "unavailable_tweet_ids": [str(DELETED), str(PROTECTED), str(UNKNOWN)],
        "unsupported_for_impressions_engagements_tweet_ids": [str(OLD), str(ANCIENT)],
        "unsupported_for_video_views_tweet_ids": [str(ANCIENT)],
    }
    assert list(data) == [
        "perTweet",
        "errors",
        "unavailable_tweet_ids",
        "unsupported_for_impressions_engagements_tweet_ids",
        "unsupported_for_video_views_tweet_ids",
    ]


def test_totals_age_limits_are_listed_only_when_the_metric_is_asked(api: Api) -> None:
    data = api.read_ok("totals", body([OLD, ANCIENT], ["favorites"]), auth="bearer")
    assert data == {"perTweet": {str(OLD): {"favorites": "0"}, str(ANCIENT): {"favorites": "0"}}}


def test_totals_90_day_limit_follows_the_clock(api: Api) -> None:
    """At most 90 days old counts; the same Post a second later does not."""
    post = 1_200_000_000_000_000_001
    api.load(
        "tweets",
        [{"id": str(post), "author_id": str(ALICE), "created_at": iso(NOW - timedelta(days=89))}],
    )
    api.send_events([Event(post, "impressions", NOW - timedelta(days=1), 5)])
    ask = body([post], ["impressions"])
    assert api.read_ok("totals", ask) == {"perTweet": {str(post): {"impressions": "5"}}}
    api.clock.advance(timedelta(days=1))  # exactly 90 days old
    assert api.read_ok("totals", ask) == {"perTweet": {str(post): {"impressions": "5"}}}
    api.clock.advance(timedelta(seconds=1))
    assert api.read_ok("totals", ask) == {
        "perTweet": {str(post): {"impressions": "0"}},
        "errors": [IMPRESSIONS_TOO_OLD],
        "unsupported_for_impressions_engagements_tweet_ids": [str(post)],
    }


def test_request_leniency_over_http(api: Api) -> None:
    """Integer IDs, whitespace, leading zeros and duplicates; the alias is echoed as asked."""
    api.send_events([Event(BIG, "favorites", at(26, 1), 2), Event(RECENT, "favorites", at(26, 1))])
    raw = (
        b'{"tweet_ids": [18446744073709551615, " 0'
        + str(RECENT).encode()
        + b'\\n", "'
        + str(RECENT).encode()
        + b'"], "engagement_types": ["favorites", "favorites"], '
        b'"groupings": {"g": {"group_by": ["Tweet.id", "engagement.type"]}}, "ignored": 1}'
    )
    response = api.read("totals", raw)
    assert response.status_code == 200, response.text
    assert response.json() == {"g": {str(RECENT): {"favorites": "1"}, str(BIG): {"favorites": "2"}}}
