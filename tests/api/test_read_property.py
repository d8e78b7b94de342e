"""A property of the read endpoints over real HTTP: a batch is counted exactly once, and every
grouping shape of /historical sums to the same totals (tests.support.model computes them)."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import BESIDE_A_POOL, NOW
from tests.support.harness import (
    ALICE,
    Api,
    body,
)
from tests.support.model import (
    INTERACTIONS,
    TOTALS_METRICS,
    UNDOABLE,
    WINDOWED_METRICS,
    Counts,
    Event,
    floor_hour,
    hours_between,
    iso,
    tree,
)

pytestmark = BESIDE_A_POOL

# -- a property: exactly once, and every grouping shape sums to the same totals -----------

SHAPES = (
    [["engagement.type"]]
    + [
        list(p)
        for other in ("tweet.id", "engagement.day", "engagement.hour")
        for p in itertools.permutations(["engagement.type", other])
    ]
    + [
        list(p)
        for pair in itertools.combinations(["tweet.id", "engagement.day", "engagement.hour"], 2)
        for p in itertools.permutations(["engagement.type", *pair])
    ]
)
FOUR_LEVELS = [
    ["tweet.id", "engagement.type", "engagement.day", "engagement.hour"],
    ["engagement.type", "tweet.id", "engagement.day", "engagement.hour"],
]


def _requests_for_every_shape() -> list[dict[str, dict[str, list[str]]]]:
    """Every valid grouping shape, at most three per request, each 4-level one alone."""
    chunks = [SHAPES[i : i + 3] for i in range(0, len(SHAPES), 3)] + [[s] for s in FOUR_LEVELS]
    return [{"/".join(s): {"group_by": s} for s in chunk} for chunk in chunks]


GROUPING_REQUESTS = _requests_for_every_shape()


def _leaf_sums(
    node: object, group_by: list[str], depth: int = 0, metric: str | None = None
) -> dict[str, int]:
    """Per-metric sums of a grouping tree's leaves."""
    if depth == len(group_by):
        assert isinstance(node, str) and metric is not None
        return {metric: int(node)}
    assert isinstance(node, dict)
    sums: dict[str, int] = {}
    for key, child in node.items():
        here = key if group_by[depth] == "engagement.type" else metric
        for m, v in _leaf_sums(child, group_by, depth + 1, here).items():
            sums[m] = sums.get(m, 0) + v
    return sums


_post_ids = itertools.count(1_300_000_000_000_000_000)

EVENT_TYPES = sorted(
    {*WINDOWED_METRICS, *INTERACTIONS, "quote_tweets", "media_clicks"} - {"engagements"}
)


@st.composite
def event_batches(draw: st.DrawFn) -> tuple[list[tuple[int, str, int, int]], int, int]:
    """(post index, type, seconds before NOW, count) rows, and a window (hours back, length)."""
    row = st.tuples(
        st.integers(0, 1),
        st.sampled_from(EVENT_TYPES),
        st.integers(-240, 28 * 24 * 3600 + 7200),
        st.integers(1, 5),
        st.booleans(),
    )
    rows = []
    for post, kind, back, count, undo in draw(st.lists(row, min_size=1, max_size=40)):
        rows.append((post, kind, back, -count if undo and kind in UNDOABLE else count))
    span = draw(st.integers(1, 240))  # up to 10 days: several days and every hour of day
    back = draw(st.integers(span - 1, 671))
    return rows, back, span


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(drawn=event_batches())
def test_exactly_once_and_every_grouping_sums_to_the_totals(
    api: Api, drawn: tuple[list[tuple[int, str, int, int]], int, int]
) -> None:
    rows, back, span = drawn
    posts = [next(_post_ids), next(_post_ids)]
    api.load(
        "tweets",
        [
            {
                "id": str(p),
                "author_id": str(ALICE),
                "created_at": iso(NOW - timedelta(days=40)),
                "media": [{"media_key": f"7_{p}", "type": "video"}],
            }
            for p in posts
        ],
    )
    events = [
        Event(posts[i], kind, NOW - timedelta(seconds=s), count) for i, kind, s, count in rows
    ]
    key = f"prop-{uuid.uuid4().hex}"
    first = api.send_events(events, key)
    assert first == {"accepted": len(events), "duplicate": False}
    again = api.send_events(events, key)
    assert again == {"accepted": len(events), "duplicate": True}

    counts = Counts(events)
    totals = api.read_ok("totals", body(posts, TOTALS_METRICS))
    assert totals["perTweet"] == {
        str(p): {m: str(counts.totals_value(p, m)) for m in TOTALS_METRICS} for p in posts
    }

    end = floor_hour(NOW) + timedelta(hours=1) - timedelta(hours=back - span + 1)
    start = end - timedelta(hours=span)
    hours = hours_between(start, end)
    series = {(p, m): counts.series(p, m, hours) for p in posts for m in WINDOWED_METRICS}
    expected_sums = {m: sum(sum(series[(p, m)]) for p in posts) for m in WINDOWED_METRICS}
    for groupings in GROUPING_REQUESTS:
        data = api.read_ok(
            "historical",
            body(posts, WINDOWED_METRICS, groupings, start=iso(start), end=iso(end)),
        )
        assert (data["start"], data["end"]) == (iso(start), iso(end))
        for name, spec in groupings.items():
            assert _leaf_sums(data[name], spec["group_by"]) == expected_sums, name
            assert data[name] == tree(
                spec["group_by"], posts, WINDOWED_METRICS, hours, lambda p, m: series[(p, m)]
            ), name


def test_grouping_requests_cover_every_shape() -> None:
    seen = [spec["group_by"] for r in GROUPING_REQUESTS for spec in r.values()]
    assert sorted(map(tuple, seen)) == sorted(map(tuple, SHAPES + FOUR_LEVELS))
    assert all(1 <= len(r) <= 3 for r in GROUPING_REQUESTS)
    assert all(sum(len(s["group_by"]) == 4 for s in r.values()) <= 1 for r in GROUPING_REQUESTS)
