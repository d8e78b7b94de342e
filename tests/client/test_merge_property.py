"""Merge exactness: split a request as the client does, answer each piece from the model,
merge, and compare with the model's answer to the whole request, for every grouping shape."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engagement_api.client import EngagementClient
from tests.client.fake import FakeServer, Window, ceil_hour, floor_hour, whole, z
from tests.support import NOW
from tests.support.model import key_order

LEVELS = ("tweet.id", "engagement.type", "engagement.day", "engagement.hour")
FOUR = [list(LEVELS), ["engagement.type", "tweet.id", "engagement.day", "engagement.hour"]]


def shapes(with_time: bool) -> list[list[str]]:
    """Every valid group_by: 1 to 3 entries in any order with engagement.type, and the two
    4-entry orders; without day/hour on /totals."""
    levels = LEVELS if with_time else LEVELS[:2]
    out = [
        list(p)
        for n in range(1, 4)
        for p in itertools.permutations(levels, n)
        if "engagement.type" in p
    ]
    return out + (FOUR if with_time else [])


WINDOWED_SHAPES = shapes(True)
TOTALS_SHAPES = shapes(False)
METRICS = ["engagements", "favorites", "impressions"]
BASE_ID = 10**18


def test_every_shape_is_listed() -> None:
    assert len(TOTALS_SHAPES) == 3  # [type], [id, type], [type, id]
    assert len(WINDOWED_SHAPES) == 1 + 6 + 18 + 2


@st.composite
def worlds(draw: st.DrawFn, max_posts: int, max_hours: int) -> tuple[FakeServer, list[int]]:
    posts = draw(st.integers(1, max_posts))
    ids = [BASE_ID + i for i in range(posts)]
    unknown = draw(st.sets(st.sampled_from(ids), max_size=max(0, posts - 1)))
    server = FakeServer(available=set(ids) - unknown)
    entries = draw(
        st.lists(
            st.tuples(
                st.sampled_from(ids),
                st.sampled_from(METRICS),
                st.integers(0, max_hours),
                st.integers(-3, 40),
            ),
            max_size=60,
        )
    )
    for post, metric, back, value in entries:
        hour = floor_hour(NOW) - timedelta(hours=back)
        key = (post, metric, hour)
        server.hourly[key] = server.hourly.get(key, 0) + value
    return server, ids


def _groupings(data: st.DataObject, pool: list[list[str]]) -> dict[str, list[str]]:
    chosen = data.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3))
    fours = [g for g in chosen if len(g) == 4]
    chosen = [g for g in chosen if len(g) < 4] + fours[:1]
    return {f"g{i} {'/'.join(g)}": g for i, g in enumerate(chosen)}


def _client(server: FakeServer) -> EngagementClient:
    return EngagementClient(
        "http://testserver/insights/engagement",
        transport=server.transport(),
        wall_clock=NOW.timestamp,
        max_concurrency=1,
    )


def _same(got: dict[str, object], expected: dict[str, object]) -> None:
    assert got == expected
    assert key_order(got) == key_order(expected)


FAST = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@FAST
@given(data=st.data(), world=worlds(max_posts=60, max_hours=24 * 70))
def test_historical_merge_equals_the_whole(
    data: st.DataObject, world: tuple[FakeServer, list[int]]
) -> None:
    server, ids = world
    groupings = _groupings(data, WINDOWED_SHAPES)
    types = data.draw(st.lists(st.sampled_from(METRICS), min_size=1, max_size=2, unique=True))
    back = data.draw(st.integers(1, 24 * 70))
    span = data.draw(st.integers(1, back))
    minute = data.draw(st.integers(0, 59))
    start = floor_hour(NOW) - timedelta(hours=back, minutes=-minute)
    end = min(start + timedelta(hours=span), ceil_hour(NOW))
    window: Window = {"start": z(start), "end": z(end)}
    if not server.available & set(ids):
        return
    with _client(server) as client:
        got = client.historical(ids, types, groupings, **window).to_dict()
    _same(got, whole(server, "historical", ids, types, groupings, **window))
    assert all(len(b["tweet_ids"]) <= 25 for _, b in server.bodies)


@FAST
@given(data=st.data(), world=worlds(max_posts=60, max_hours=40))
def test_28hr_merge_equals_the_whole(
    data: st.DataObject, world: tuple[FakeServer, list[int]]
) -> None:
    server, ids = world
    groupings = _groupings(data, WINDOWED_SHAPES)
    if not server.available & set(ids):
        return
    with _client(server) as client:
        got = client.last_28_hours(ids, ["favorites", "impressions"], groupings).to_dict()
    _same(got, whole(server, "28hr", ids, ["favorites", "impressions"], groupings))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), world=worlds(max_posts=600, max_hours=2000))
def test_totals_merge_equals_the_whole(
    data: st.DataObject, world: tuple[FakeServer, list[int]]
) -> None:
    server, ids = world
    groupings = _groupings(data, TOTALS_SHAPES)
    if not server.available & set(ids):
        return
    with _client(server) as client:
        got = client.totals(ids, ["engagements", "favorites"], groupings).to_dict()
    _same(got, whole(server, "totals", ids, ["engagements", "favorites"], groupings))


@pytest.mark.parametrize("group_by", WINDOWED_SHAPES, ids="/".join)
def test_each_windowed_shape_over_three_windows_and_two_chunks(
    group_by: list[str], make_client: Callable[..., EngagementClient], fake: FakeServer
) -> None:
    """A table check of every shape: 30 Posts (2 ID chunks) over 60 days (3 windows)."""
    ids = [BASE_ID + i for i in range(30)]
    fake.available = set(ids)
    for i, post in enumerate(ids):
        for back in range(0, 24 * 60, 7 + i):
            fake.hourly[(post, "favorites", floor_hour(NOW) - timedelta(hours=back))] = back % 5 - 1
    window: Window = {"start": z(floor_hour(NOW) - timedelta(days=60)), "end": z(ceil_hour(NOW))}
    got = make_client().historical(ids, ["favorites"], {"g": group_by}, **window).to_dict()
    _same(got, whole(fake, "historical", ids, ["favorites"], {"g": group_by}, **window))
    assert len(fake.bodies) == 2 * 3
