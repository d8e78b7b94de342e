"""End to end: the client against the real app (uvicorn on a thread, SQLite), compared with
counts computed independently from the loaded events (tests.support.model)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from engagement_api.client import (
    AuthenticationError,
    BearerAuth,
    EngagementClient,
    ForbiddenError,
    OAuth1User,
    RateLimitedError,
    RetryPolicy,
    ValidationError,
)
from engagement_api.client.merge import merge
from engagement_api.clock import ManualClock
from engagement_api.service import credentials
from engagement_api.store import Store
from tests.client.e2e import DAVE, DAVE_POSTS, World, world
from tests.support import NOW
from tests.support.harness import ALICE_AVAILABLE, BOB_POST, PREFIX, RECENT, UNKNOWN, ThreadServer
from tests.support.model import Counts, floor_hour, hours_between, iso, parse_z, tree


@pytest.fixture
def w(thread_server: ThreadServer, store: Store, clock: ManualClock) -> Iterator[World]:
    with world(thread_server, store, clock) as made:
        yield made


SHAPES = {
    "hourly": ["tweet.id", "engagement.type", "engagement.day", "engagement.hour"],
    "hour of day": ["engagement.type", "engagement.hour"],
    "per day": ["engagement.day", "engagement.type"],
}
MORE_SHAPES = {
    "per post": ["tweet.id", "engagement.type"],
    "grand": ["engagement.type"],
    "hour then day": ["engagement.type", "engagement.hour", "engagement.day"],
}
METRICS = ["engagements", "favorites", "impressions", "retweets", "url_clicks"]


@pytest.mark.parametrize("groupings", [SHAPES, MORE_SHAPES], ids=["series", "totals"])
def test_60_days_of_60_posts_equal_the_events(w: World, groupings: dict[str, list[str]]) -> None:
    start, end = NOW - timedelta(days=60), NOW
    with w.client(max_concurrency=4) as client:
        result = client.historical(DAVE_POSTS, METRICS, groupings, start=start, end=end)
    assert result.requests == 3 * 3  # 3 ID chunks x 3 windows (28 + 28 + 4 days and 1 hour)
    hours = hours_between(floor_hour(start), floor_hour(end) + timedelta(hours=1))
    assert parse_z(result.start or "") == hours[0]
    assert parse_z(result.end or "") == hours[-1] + timedelta(hours=1)
    counts = Counts(w.events)
    data = result.to_dict()
    for name, group_by in groupings.items():
        expected = tree(group_by, DAVE_POSTS, METRICS, hours, counts.over(hours))
        assert data[name] == expected, name
    assert "errors" not in data
    # the events do add up to something
    assert sum(r.count for r in result.rows(next(iter(groupings)))) != 0


def test_split_answer_equals_the_servers_own_answer_within_limits(w: World) -> None:
    """25 Posts and 7 days fit one request: split by hand (5 IDs, 2 days) it must be the same."""
    groupings = {**SHAPES}
    start, end = iso(NOW - timedelta(days=7)), iso(NOW)
    body: dict[str, Any] = {
        "tweet_ids": [str(p) for p in DAVE_POSTS[:25]],
        "engagement_types": METRICS,
        "groupings": {n: {"group_by": g} for n, g in groupings.items()},
        "start": start,
        "end": end,
    }
    with w.client() as client:
        direct = client.request("historical", body)
        pieces = []
        for i in range(0, 25, 5):
            for day in range(0, 7, 2):
                lo = floor_hour(NOW) - timedelta(days=7 - day)  # windows on whole hours
                hi = min(lo + timedelta(days=2), NOW)
                pieces.append(
                    client.historical(
                        DAVE_POSTS[i : i + 5], METRICS, groupings, start=lo, end=hi
                    ).merged
                )
    merged = merge(pieces, body["groupings"])
    assert len(pieces) == 5 * 4
    assert merged == {k: (v if k in ("start", "end") else _ints(v)) for k, v in direct.items()}


def _ints(value: object) -> object:
    if isinstance(value, dict):
        return {k: _ints(v) for k, v in value.items()}
    return int(str(value))


def test_28hr_and_totals(w: World) -> None:
    counts = Counts(w.events)
    with w.client() as client:
        last = client.last_28_hours(DAVE_POSTS, ["favorites"], {"g": ["engagement.type"]})
        total = client.totals(DAVE_POSTS, ["favorites", "impressions"])
    hours = hours_between(
        floor_hour(NOW) - timedelta(hours=28), floor_hour(NOW) + timedelta(hours=1)
    )
    assert last["g"] == {
        "favorites": str(sum(counts.window(p, "favorites", hours) for p in DAVE_POSTS))
    }
    assert total.requests == 1
    # Dave's Posts are 120 days old: no impressions on /totals (the 90-day rule), listed
    assert total["perTweet"][str(DAVE_POSTS[0])] == {
        "favorites": str(counts.totals_value(DAVE_POSTS[0], "favorites")),
        "impressions": "0",
    }
    assert total.data["unsupported_for_impressions_engagements_tweet_ids"] == [
        str(p) for p in DAVE_POSTS
    ]
    assert total.errors == [
        "Impressions & engagements for tweets older than 90 days are not supported"
    ]


def test_unowned_and_unavailable_against_the_server(w: World) -> None:
    ids = [*ALICE_AVAILABLE, BOB_POST, UNKNOWN]
    with w.client("alice") as client:
        with pytest.raises(ForbiddenError) as caught:
            client.last_28_hours(ids, ["impressions"])
        assert caught.value.forbidden_tweet_ids == [str(BOB_POST)]
        result = client.last_28_hours(ids, ["impressions"], drop_unowned=True)
    assert result.dropped_tweet_ids == [str(BOB_POST)]
    assert result.unavailable_tweet_ids == [str(UNKNOWN)]
    assert list(result["perTweet"]) == sorted(map(str, ALICE_AVAILABLE), key=int)


def test_a_chunk_of_unknown_posts_is_listed_as_unavailable(w: World) -> None:
    unknown = [3_300_000_000_000_000_000 + i for i in range(5)]
    with w.client() as client:
        result = client.last_28_hours([*DAVE_POSTS[:25], *unknown], ["favorites"])
        assert result.unavailable_tweet_ids == [str(u) for u in unknown]
        assert result.errors == ["5 Tweet ID(s) are unavailable"]
        with pytest.raises(ValidationError, match=r"Tweet ID\(s\) are unavailable"):
            client.last_28_hours(unknown, ["favorites"])


def test_app_only_and_bearer_on_totals_and_refused_elsewhere(w: World) -> None:
    with w.client("app") as client:
        assert client.totals([RECENT], ["favorites"])["perTweet"] == {
            str(RECENT): {"favorites": "0"}
        }
        with pytest.raises(ForbiddenError, match="user context required"):
            client.historical([RECENT], ["favorites"])
    with EngagementClient(w.api.base_url, auth=BearerAuth(w.api.app.bearer_token)) as bearer:
        assert str(RECENT) in bearer.totals([RECENT], ["replies"])["perTweet"]
        with pytest.raises(ForbiddenError, match="Forbidden to access metrics: impressions"):
            bearer.totals([RECENT], ["impressions"])
    with (
        EngagementClient(w.api.base_url + PREFIX, auth=BearerAuth("nope")) as bad,
        pytest.raises(AuthenticationError, match="Bearer token not found"),
    ):
        bad.totals([RECENT], ["replies"])


def test_429_from_the_real_server_waits_for_the_reset(w: World) -> None:
    """An app allowed 2 requests a minute: the third waits for x-per-minute-reset (the sleep
    moves the server's ManualClock there) and then succeeds."""
    api = w.api
    slow = credentials.create_app(api.store, api.clock, "slow app", 2)
    token = credentials.create_token(api.store, api.clock, slow.consumer_key, DAVE)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        api.clock.advance(timedelta(seconds=seconds))

    auth = OAuth1User(
        slow.consumer_key, slow.consumer_secret, token.token, token.secret, clock=w.wall
    )  # Dave, through an app allowed 2 requests a minute
    with EngagementClient(
        api.base_url + PREFIX,
        auth=auth,
        wall_clock=w.wall,
        sleep=sleep,
        monotonic=lambda: 0.0,
        random=lambda: 0.0,
        max_concurrency=1,
    ) as c:
        result = c.last_28_hours(DAVE_POSTS[:75], ["favorites"])  # 3 requests
        assert result.requests == 3
        assert slept == [60.0]  # NOW is 12:30:00; the limit resets at 12:31:00
        c.retry = RetryPolicy(max_attempts=1)
        c.last_28_hours(DAVE_POSTS[:1], ["favorites"])  # the second of this minute
        with pytest.raises(RateLimitedError) as caught:
            c.last_28_hours(DAVE_POSTS[:1], ["favorites"])
    assert caught.value.reset is not None and caught.value.reset > api.clock.now().timestamp()
