"""The access policy, partial results and age limits."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engagement_api.contract.errors import ApiError, BadRequest, Forbidden
from engagement_api.contract.metrics import Endpoint
from engagement_api.contract.policy import Decision, PostFacts, decide

from .builders import NOW, body, parse

TOTALS, HR28, HISTORICAL = Endpoint.TOTALS, Endpoint.HR28, Endpoint.HISTORICAL
ME, OTHER = 1, 2
DAY = timedelta(days=1)

#: id -> (author, age, available); 99 is unknown (not in POSTS).
_FACTS = {
    10: (ME, DAY, True),
    11: (OTHER, DAY, True),
    12: (ME, DAY, False),
    13: (OTHER, DAY, False),
    14: (ME, 91 * DAY, True),
    15: (ME, 1801 * DAY, True),
    16: (OTHER, 1801 * DAY, True),
}
POSTS = {
    i: PostFacts(i, author, NOW - age, available) for i, (author, age, available) in _FACTS.items()
}

APP_ONLY = None
USER_REQUIRED = "Forbidden to access endpoint: user context required"


def run(endpoint: Endpoint, user: int | None, ids: list[int], types: list[str]) -> Decision:
    request = parse(endpoint, body(tweet_ids=ids, engagement_types=types))
    return decide(request, user, POSTS, NOW)


@pytest.mark.parametrize(
    ("endpoint", "user", "ids", "types", "error", "message"),
    [
        (HR28, APP_ONLY, [10], ["favorites"], Forbidden, USER_REQUIRED),
        (HISTORICAL, APP_ONLY, [99], ["favorites"], Forbidden, USER_REQUIRED),
        (
            TOTALS,
            APP_ONLY,
            [10],
            ["impressions", "favorites", "engagements"],
            Forbidden,
            "Forbidden to access metrics: engagements, impressions",
        ),
        (
            TOTALS,
            APP_ONLY,
            [99],
            ["impressions"],
            Forbidden,
            "Forbidden to access metrics: impressions",
        ),
        (
            TOTALS,
            ME,
            [16, 10, 11],
            ["impressions"],
            Forbidden,
            "Forbidden to access tweets: 11, 16",
        ),
        (
            TOTALS,
            OTHER,
            [10, 11, 12, 13, 14],
            ["engagements", "replies"],
            Forbidden,
            "Forbidden to access tweets: 10, 14",
        ),
        (HR28, ME, [10, 11], ["favorites"], Forbidden, "Forbidden to access tweets: 11"),
        (
            HISTORICAL,
            OTHER,
            [10, 11, 15],
            ["retweets"],
            Forbidden,
            "Forbidden to access tweets: 10, 15",
        ),
        (TOTALS, ME, [12, 13, 99], ["favorites"], BadRequest, "Tweet ID(s) are unavailable"),
        (TOTALS, APP_ONLY, [12, 99], ["video_views"], BadRequest, "Tweet ID(s) are unavailable"),
        (TOTALS, ME, [13, 99], ["impressions"], BadRequest, "Tweet ID(s) are unavailable"),
        (HR28, ME, [13], ["impressions"], BadRequest, "Tweet ID(s) are unavailable"),
        (HISTORICAL, OTHER, [12], ["favorites"], BadRequest, "Tweet ID(s) are unavailable"),
    ],
)
def test_refusals(
    endpoint: Endpoint,
    user: int | None,
    ids: list[int],
    types: list[str],
    error: type[ApiError],
    message: str,
) -> None:
    with pytest.raises(error) as caught:
        run(endpoint, user, ids, types)
    assert type(caught.value) is error
    assert caught.value.messages == [message]


@pytest.mark.parametrize(
    ("endpoint", "user", "ids", "types", "post_ids", "unavailable"),
    [
        (TOTALS, APP_ONLY, [10, 11, 12, 99], ["favorites", "replies"], (10, 11), (12, 99)),
        (TOTALS, ME, [11, 10], ["quote_tweets", "video_views"], (10, 11), ()),
        (TOTALS, ME, [10, 13, 99], ["impressions"], (10,), (13, 99)),  # unavailable never 403
        (HR28, ME, [10, 13, 99, 12], ["favorites"], (10,), (12, 13, 99)),
        (HISTORICAL, OTHER, [11, 12], ["media_clicks"], (11,), (12,)),
    ],
)
def test_permitted(
    endpoint: Endpoint,
    user: int | None,
    ids: list[int],
    types: list[str],
    post_ids: tuple[int, ...],
    unavailable: tuple[int, ...],
) -> None:
    decision = run(endpoint, user, ids, types)
    assert decision.post_ids == post_ids
    assert decision.unavailable == unavailable
    if unavailable:
        assert decision.errors == (f"{len(unavailable)} Tweet ID(s) are unavailable",)
    else:
        assert decision.errors == ()


IMPRESSIONS_OLD = "Impressions & engagements for tweets older than 90 days are not supported"


@pytest.mark.parametrize(
    ("endpoint", "ids", "types", "impressions", "video", "errors", "zeroed"),
    [
        (
            TOTALS,
            [10, 14, 15],
            ["impressions"],
            (14, 15),
            (),
            (IMPRESSIONS_OLD,),
            {(14, "impressions"), (15, "impressions")},
        ),
        (
            TOTALS,
            [10, 14],
            ["engagements", "impressions", "favorites"],
            (14,),
            (),
            (IMPRESSIONS_OLD,),
            {(14, "engagements"), (14, "impressions")},
        ),
        (TOTALS, [10, 14, 15], ["favorites"], (), (), (), set()),
        (TOTALS, [10, 14, 15], ["video_views"], (), (15,), (), {(15, "video_views")}),
        (
            TOTALS,
            [10, 12, 14, 15],
            ["video_views", "impressions"],
            (14, 15),
            (15,),
            ("1 Tweet ID(s) are unavailable", IMPRESSIONS_OLD),
            {(14, "impressions"), (15, "impressions"), (15, "video_views")},
        ),
        (HR28, [10, 14, 15], ["impressions", "engagements"], (), (), (), set()),
        (
            HISTORICAL,
            [10, 14, 15],
            ["video_views", "impressions"],
            (),
            (15,),
            (),
            {(15, "video_views")},
        ),
    ],
)
def test_age_limits(
    endpoint: Endpoint,
    ids: list[int],
    types: list[str],
    impressions: tuple[int, ...],
    video: tuple[int, ...],
    errors: tuple[str, ...],
    zeroed: set[tuple[int, str]],
) -> None:
    decision = run(endpoint, ME, ids, types)
    assert decision.unsupported_impressions == impressions
    assert decision.unsupported_video == video
    assert decision.errors == errors
    assert decision.zeroed == zeroed
    assert set(decision.post_ids) == set(ids) - {12}  # old Posts stay in the response


@pytest.mark.parametrize(
    ("age", "days", "metric", "too_old"),
    [
        (90 * DAY, 90, "impressions", False),
        (90 * DAY + timedelta(microseconds=1), 90, "impressions", True),
        (1800 * DAY, 1800, "video_views", False),
        (1800 * DAY + timedelta(microseconds=1), 1800, "video_views", True),
        (-DAY, 90, "engagements", False),  # dated after now: 0 days old
    ],
)
def test_age_is_now_minus_created_at(age: timedelta, days: int, metric: str, too_old: bool) -> None:
    posts = {7: PostFacts(7, ME, NOW - age, True)}
    request = parse(TOTALS, body(tweet_ids=["7"], engagement_types=[metric]))
    decision = decide(request, ME, posts, NOW)
    assert ((7, metric) in decision.zeroed) is too_old


def test_forbidden_is_a_403() -> None:
    request = parse(TOTALS, body(engagement_types=["impressions", "replies"]))
    with pytest.raises(Forbidden) as caught:
        decide(request, APP_ONLY, POSTS, NOW)
    assert caught.value.status == 403


@pytest.mark.parametrize("endpoint", [TOTALS, HR28, HISTORICAL])
def test_video_views_over_1800_days_are_listed_without_an_error(endpoint: Endpoint) -> None:
    """The public API's example lists such Posts in ``unsupported_for_video_views_tweet_ids``
    and nothing in ``errors``: clients that take any ``errors`` in a 200 as fatal stop there."""
    decision = run(endpoint, ME, [10, 15], ["video_views", "favorites"])
    assert decision.unsupported_video == (15,)
    assert decision.errors == ()
    assert decision.zeroed == {(15, "video_views")}
