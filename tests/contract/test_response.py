"""Building the response: grouped, zero-filled trees and the partial-result metadata."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from engagement_api.contract.groupings import DAY, HOUR, TWEET_ID, TYPE, Grouping
from engagement_api.contract.metrics import METRICS, WINDOWED, Endpoint, resolve
from engagement_api.contract.policy import Decision, PostFacts, decide
from engagement_api.contract.request import AskedMetric, EngagementRequest
from engagement_api.contract.response import render
from engagement_api.contract.times import hour_index
from engagement_api.contract.windows import Window

from .builders import NOW, body, parse

TOTALS, HR28, HISTORICAL = Endpoint.TOTALS, Endpoint.HR28, Endpoint.HISTORICAL


def decision(
    ids: tuple[int, ...],
    zeroed: frozenset[tuple[int, str]] = frozenset(),
    unavailable: tuple[int, ...] = (),
) -> Decision:
    return Decision(ids, unavailable, (), (), (), zeroed)


def request(
    endpoint: Endpoint,
    ids: tuple[int, ...],
    asked: list[str],
    group_bys: list[tuple[str, ...]],
    window: Window | None = None,
) -> EngagementRequest:
    metrics = []
    for name in sorted(set(asked)):
        metric = resolve(name)
        assert metric is not None
        metrics.append(AskedMetric(name, metric))
    groupings = tuple(Grouping(f"g{i}", levels) for i, levels in enumerate(group_bys))
    return EngagementRequest(endpoint, ids, tuple(metrics), groupings, window)


def at(text: str) -> int:
    return hour_index(datetime.fromisoformat(text).replace(tzinfo=UTC))


# --- examples ---------------------------------------------------------------------------------


def test_totals_per_tweet_and_grand_totals() -> None:
    req = parse(
        TOTALS,
        body(
            tweet_ids=["20", "3", "100"],
            engagement_types=["retweets", "favorites", "replies"],
            groupings={
                "perTweet": {"group_by": ["tweet.id", "engagement.type"]},
                "Grand Totals": {"group_by": ["engagement.type"]},
                "byType": {"group_by": ["engagement.type", "tweet.id"]},
            },
        ),
    )
    totals = {(3, "favorites"): 10, (20, "favorites"): 2, (20, "replies"): 2, (3, "retweets"): -4,
              (100, "retweets"): 2, (100, "quote_tweets"): 99, (7, "favorites"): 1000}  # fmt: skip
    out = render(req, decision((3, 20, 100)), totals, None)
    assert out == {
        "perTweet": {
            "3": {"favorites": "10", "replies": "0", "retweets": "0"},
            "20": {"favorites": "2", "replies": "2", "retweets": "0"},
            "100": {"favorites": "0", "replies": "0", "retweets": "2"},
        },
        "Grand Totals": {"favorites": "12", "replies": "2", "retweets": "2"},
        "byType": {
            "favorites": {"3": "10", "20": "2", "100": "0"},
            "replies": {"3": "0", "20": "2", "100": "0"},
            "retweets": {"3": "0", "20": "0", "100": "2"},
        },
    }
    assert list(out) == ["perTweet", "Grand Totals", "byType"]
    # out is a JSON value (str or mapping at each level); here a mapping
    assert list(out["perTweet"]) == ["3", "20", "100"]  # type: ignore[call-overload]


def test_totals_with_partial_results() -> None:
    now = NOW
    posts = {
        1: PostFacts(1, 5, now - timedelta(days=1), True),
        2: PostFacts(2, 5, now - timedelta(days=100), True),
        3: PostFacts(3, 5, now - timedelta(days=2000), True),
        4: PostFacts(4, 5, now, False),
    }
    req = parse(
        TOTALS,
        body(tweet_ids=["4", "3", "2", "1", "9"], engagement_types=["impressions", "video_views"]),
    )
    dec = decide(req, 5, posts, now)
    totals = {(i, name): 7 for i in range(1, 5) for name in ("impressions", "video_views")}
    assert render(req, dec, totals, None) == {
        "perTweet": {
            "1": {"impressions": "7", "video_views": "7"},
            "2": {"impressions": "0", "video_views": "7"},
            "3": {"impressions": "0", "video_views": "0"},
        },
        "errors": [
            "2 Tweet ID(s) are unavailable",
            "Impressions & engagements for tweets older than 90 days are not supported",
        ],
        "unavailable_tweet_ids": ["4", "9"],
        "unsupported_for_impressions_engagements_tweet_ids": ["2", "3"],
        "unsupported_for_video_views_tweet_ids": ["3"],
    }


def test_28hr_spec_example_shape() -> None:
    now = datetime(2026, 11, 26, 11, 20, tzinfo=UTC)
    req = parse(
        HR28,
        body(
            tweet_ids=["1060976163948904448"],
            engagement_types=["impressions"],
            groupings={"hourly": {"group_by": [TWEET_ID, TYPE, DAY, HOUR]}},
        ),
        now,
    )
    pid = 1060976163948904448
    rows = [
        (pid, "impressions", at("2026-11-25T07:00"), 551),
        (pid, "impressions", at("2026-11-25T08:00"), 400),
        (pid, "impressions", at("2026-11-25T08:00"), 12),
        (pid, "impressions", at("2026-11-25T23:00"), 6),
        (pid, "impressions", at("2026-11-26T00:00"), 5),
        (pid, "impressions", at("2026-11-26T11:00"), -1),
        (pid, "impressions", at("2026-11-25T06:00"), 1000),  # before the window
        (pid, "impressions", at("2026-11-26T12:00"), 1000),  # after it
        (pid, "favorites", at("2026-11-26T10:00"), 1000),  # not asked
        (1, "impressions", at("2026-11-26T10:00"), 1000),  # not in the decision
    ]
    out = render(req, decision((pid,)), None, iter(rows))
    assert out["start"] == "2026-11-25T07:00:00Z"
    assert out["end"] == "2026-11-26T12:00:00Z"
    days = out["hourly"][str(pid)]["impressions"]  # type: ignore[index]  # a mapping, not a str
    assert list(days) == ["2026-11-25", "2026-11-26"]
    assert list(days["2026-11-25"]) == [f"{h:02d}" for h in range(7, 24)]
    assert list(days["2026-11-26"]) == [f"{h:02d}" for h in range(12)]
    assert days["2026-11-25"]["07"] == "551"
    assert days["2026-11-25"]["08"] == "412"
    assert days["2026-11-25"]["09"] == "0"
    assert days["2026-11-25"]["23"] == "6"
    assert days["2026-11-26"]["00"] == "5"
    assert days["2026-11-26"]["11"] == "-1"  # negatives allowed in windows
    assert list(out) == ["start", "end", "hourly"]


HOURLY_WINDOW = Window(datetime(2026, 10, 1, 22, tzinfo=UTC), datetime(2026, 10, 3, 2, tzinfo=UTC))
HOURLY_ROWS = [
    (5, "favorites", at("2026-10-01T22:00"), 1),
    (5, "favorites", at("2026-10-02T22:00"), 10),
    (5, "favorites", at("2026-10-02T01:00"), 100),
    (5, "favorites", at("2026-10-03T01:00"), 1000),
    (6, "favorites", at("2026-10-03T01:00"), 3),
    (6, "media_engagements", at("2026-10-02T12:00"), 7),
]


def test_hour_of_day_sums_across_days() -> None:
    req = request(HISTORICAL, (5, 6), ["favorites"], [(HOUR, TYPE)], HOURLY_WINDOW)
    out = render(req, decision((5, 6)), None, HOURLY_ROWS)
    tree = out["g0"]
    assert isinstance(tree, dict)
    assert list(tree) == [f"{h:02d}" for h in range(24)]
    assert tree["22"] == {"favorites": "11"}
    assert tree["01"] == {"favorites": "1103"}
    assert tree["02"] == {"favorites": "0"}


def test_days_alone_and_hours_before_days() -> None:
    req = request(HISTORICAL, (5,), ["favorites"], [(DAY, TYPE), (HOUR, DAY, TYPE)], HOURLY_WINDOW)
    out = render(req, decision((5,)), None, HOURLY_ROWS)
    assert out["g0"] == {
        "2026-10-01": {"favorites": "1"},
        "2026-10-02": {"favorites": "110"},
        "2026-10-03": {"favorites": "1000"},
    }
    by_hour = out["g1"]
    assert isinstance(by_hour, dict)
    assert by_hour["22"] == {"2026-10-01": {"favorites": "1"}, "2026-10-02": {"favorites": "10"}}
    assert by_hour["01"] == {
        "2026-10-02": {"favorites": "100"},
        "2026-10-03": {"favorites": "1000"},
    }
    assert by_hour["12"] == {"2026-10-02": {"favorites": "0"}}


def test_a_short_window_lists_only_its_hours() -> None:
    window = Window(datetime(2026, 10, 1, 22, tzinfo=UTC), datetime(2026, 10, 2, 1, tzinfo=UTC))
    req = request(HISTORICAL, (5,), ["favorites"], [(TYPE, HOUR), (TYPE, DAY)], window)
    out = render(req, decision((5,)), None, HOURLY_ROWS)
    assert out["g0"] == {"favorites": {"00": "0", "22": "1", "23": "0"}}
    assert out["g1"] == {"favorites": {"2026-10-01": "1", "2026-10-02": "0"}}


def test_an_alias_and_its_canonical_name_both_read_the_same_counts() -> None:
    req = request(HISTORICAL, (6,), ["media_clicks", "media_engagements"], [(TYPE,)], HOURLY_WINDOW)
    out = render(req, decision((6,)), None, HOURLY_ROWS)
    assert out["g0"] == {"media_clicks": "7", "media_engagements": "7"}


def test_zeroed_pairs_show_zero_everywhere() -> None:
    req = request(HISTORICAL, (5, 6), ["favorites"], [(TWEET_ID, TYPE, DAY)], HOURLY_WINDOW)
    out = render(req, decision((5, 6), frozenset({(5, "favorites")})), None, HOURLY_ROWS)
    tree = out["g0"]
    assert isinstance(tree, dict)
    assert tree["5"] == {"favorites": {d: "0" for d in ("2026-10-01", "2026-10-02", "2026-10-03")}}
    assert tree["6"]["favorites"]["2026-10-03"] == "3"


def test_totals_clamps_each_lifetime_total_but_windows_do_not() -> None:
    req = request(TOTALS, (1, 2), ["favorites"], [(TYPE,), (TWEET_ID, TYPE)])
    out = render(req, decision((1, 2)), {(1, "favorites"): -5, (2, "favorites"): 3}, None)
    assert out == {
        "g0": {"favorites": "3"},
        "g1": {"1": {"favorites": "0"}, "2": {"favorites": "3"}},
    }
    req = request(HISTORICAL, (1,), ["favorites"], [(TYPE,)], HOURLY_WINDOW)
    rows = [(1, "favorites", at("2026-10-02T03:00"), -2)]
    assert render(req, decision((1,)), None, rows)["g0"] == {"favorites": "-2"}


def test_missing_inputs_mean_zero() -> None:
    req = request(TOTALS, (1,), ["favorites"], [(TYPE,)])
    assert render(req, decision((1,)), None, None) == {"g0": {"favorites": "0"}}
    req = request(HISTORICAL, (1,), ["video_views"], [(TWEET_ID, TYPE, DAY, HOUR)], HOURLY_WINDOW)
    out = render(req, decision((1,), frozenset({(1, "video_views")})), None, None)
    assert len(list(leaves(out["g0"], 4))) == 28


# --- properties -------------------------------------------------------------------------------


def valid_group_bys() -> list[tuple[str, ...]]:
    """Every valid group_by: 1 to 3 levels with engagement.type, and the two 4-level orders."""
    found: list[tuple[str, ...]] = [(TWEET_ID, TYPE, DAY, HOUR), (TYPE, TWEET_ID, DAY, HOUR)]
    for size in (1, 2, 3):
        found += [p for p in itertools.permutations((TWEET_ID, TYPE, DAY, HOUR), size) if TYPE in p]
    return found


GROUP_BYS = valid_group_bys()
WINDOWED_NAMES = sorted([m for m in METRICS if WINDOWED & METRICS[m].endpoints] + ["media_clicks"])
TOTALS_NAMES = sorted(m for m in METRICS if TOTALS in METRICS[m].endpoints)
NUMBER = re.compile(r"-?(0|[1-9][0-9]*)")
BASE_HOUR = at("2026-10-01T00:00")


def leaves(tree: object, depth: int) -> Iterator[tuple[tuple[str, ...], str]]:
    """(path, value) of every leaf, checking that the tree is exactly `depth` levels deep."""
    if depth == 0:
        assert isinstance(tree, str)
        yield (), tree
        return
    assert isinstance(tree, dict)
    for key, sub in tree.items():
        for path, value in leaves(sub, depth - 1):
            yield (key, *path), value


def assert_sorted(tree: object, levels: tuple[str, ...]) -> None:
    if not levels:
        return
    assert isinstance(tree, dict)
    keys = list(tree)
    order = (lambda k: int(k)) if levels[0] == TWEET_ID else (lambda k: k)
    assert keys == sorted(keys, key=order)
    assert len(set(keys)) == len(keys)
    for sub in tree.values():
        assert_sorted(sub, levels[1:])


@st.composite
def windowed_cases(
    draw: st.DrawFn,
) -> tuple[EngagementRequest, Decision, list[tuple[int, str, int, int]]]:
    ids = tuple(sorted(draw(st.sets(st.integers(1, 2**64 - 1), min_size=1, max_size=4))))
    asked = draw(st.lists(st.sampled_from(WINDOWED_NAMES), min_size=1, max_size=4, unique=True))
    group_bys = draw(st.lists(st.sampled_from(GROUP_BYS), min_size=1, max_size=3))
    start = BASE_HOUR + draw(st.integers(0, 47))
    size = draw(st.integers(1, 80))
    window = Window(
        datetime.fromtimestamp(start * 3600, UTC),
        datetime.fromtimestamp((start + size) * 3600, UTC),
    )
    req = request(HISTORICAL, ids, asked, group_bys, window)
    canonical = sorted({m.metric.name for m in req.metrics})
    zeroed = draw(st.sets(st.tuples(st.sampled_from(ids), st.sampled_from(canonical)), max_size=2))
    rows = draw(
        st.lists(
            st.tuples(
                st.sampled_from([*ids, 0]),
                st.sampled_from([*canonical, "impressions", "replies"]),
                st.integers(start - 3, start + size + 3),
                st.integers(-5, 50),
            ),
            max_size=60,
        )
    )
    return req, decision(ids, frozenset(zeroed)), rows


def expected_totals(
    req: EngagementRequest, dec: Decision, rows: list[tuple[int, str, int, int]]
) -> dict[str, int]:
    assert req.window is not None
    sums = {}
    for m in req.metrics:
        sums[m.asked] = sum(
            count
            for pid, name, hour, count in rows
            if pid in dec.post_ids
            and name == m.metric.name
            and (pid, name) not in dec.zeroed
            and req.window.start_hour <= hour < req.window.end_hour
        )
    return sums


def level_sizes_product(req: EngagementRequest, levels: tuple[str, ...]) -> int:
    assert req.window is not None
    hours = req.window.hours
    sizes = {
        TWEET_ID: len(req.post_ids),
        TYPE: len(req.metrics),
        DAY: len({h // 24 for h in hours}),
        HOUR: len({h % 24 for h in hours}),
    }
    product = 1
    for level in levels:
        product *= sizes[level]
    if DAY in levels and HOUR in levels:  # hours depend on the day: the cells of the window
        product = product // (sizes[DAY] * sizes[HOUR]) * len(hours)
    return product


@settings(max_examples=150, deadline=None)
@given(windowed_cases())
def test_every_grouping_sums_to_the_same_totals(
    case: tuple[EngagementRequest, Decision, list[tuple[int, str, int, int]]],
) -> None:
    req, dec, rows = case
    out = render(req, dec, None, rows)
    expected = expected_totals(req, dec, rows)
    for grouping in req.groupings:
        type_at = grouping.group_by.index(TYPE)
        sums = dict.fromkeys(expected, 0)
        for path, value in leaves(out[grouping.name], len(grouping.group_by)):
            assert NUMBER.fullmatch(value)
            sums[path[type_at]] += int(value)
        assert sums == expected


@settings(max_examples=150, deadline=None)
@given(windowed_cases())
def test_zero_filling_is_complete_and_keys_are_sorted(
    case: tuple[EngagementRequest, Decision, list[tuple[int, str, int, int]]],
) -> None:
    req, dec, rows = case
    out = render(req, dec, None, rows)
    assert req.window is not None
    for grouping in req.groupings:
        tree = out[grouping.name]
        paths = [path for path, _ in leaves(tree, len(grouping.group_by))]
        assert len(paths) == len(set(paths)) == level_sizes_product(req, grouping.group_by)
        assert_sorted(tree, grouping.group_by)


@settings(max_examples=100, deadline=None)
@given(
    ids=st.sets(st.integers(0, 10**6), min_size=1, max_size=6),
    asked=st.lists(st.sampled_from(TOTALS_NAMES), min_size=1, max_size=5, unique=True),
    group_bys=st.lists(
        st.sampled_from([g for g in GROUP_BYS if DAY not in g and HOUR not in g]),
        min_size=1,
        max_size=3,
    ),
    counts=st.lists(st.integers(-10, 1000), min_size=36, max_size=36),
)
def test_totals_groupings_agree(
    ids: set[int], asked: list[str], group_bys: list[tuple[str, ...]], counts: list[int]
) -> None:
    post_ids = tuple(sorted(ids))
    req = request(TOTALS, post_ids, asked, group_bys)
    totals = {
        (pid, name): counts[(i * 7 + j) % 36]
        for i, pid in enumerate(post_ids)
        for j, name in enumerate(TOTALS_NAMES)
    }
    out = render(req, decision(post_ids), totals, None)
    expected = {name: sum(max(0, totals[(pid, name)]) for pid in post_ids) for name in asked}
    for grouping in req.groupings:
        type_at = grouping.group_by.index(TYPE)
        sums = dict.fromkeys(asked, 0)
        tree = out[grouping.name]
        for path, value in leaves(tree, len(grouping.group_by)):
            assert NUMBER.fullmatch(value) and not value.startswith("-")
            sums[path[type_at]] += int(value)
        assert sums == expected
        assert_sorted(tree, grouping.group_by)
    assert "start" not in out and "errors" not in out


def test_the_largest_historical_request_renders() -> None:
    """25 Posts x 18 metrics x 672 hours with a 4-level grouping (no timing assertion)."""
    ids = tuple(range(10**18, 10**18 + 25))
    names = WINDOWED_NAMES  # 17 windowed metrics and the alias media_clicks
    window = Window(datetime(2026, 10, 1, 5, tzinfo=UTC), datetime(2026, 10, 29, 5, tzinfo=UTC))
    req = request(HISTORICAL, ids, names, [(TYPE, TWEET_ID, DAY, HOUR), (TYPE,)], window)
    canonical = {m.metric.name for m in req.metrics}
    rows = [(pid, name, h, 1) for pid in ids for name in canonical for h in window.hours]
    out = render(req, decision(ids), None, rows)
    assert len(list(leaves(out["g0"], 4))) == len(names) * 25 * 672
    assert out["g1"] == dict.fromkeys(names, str(25 * 672))
