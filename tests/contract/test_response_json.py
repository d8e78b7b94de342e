"""The JSON writer: ``render_json(...)`` is byte for byte ``orjson.dumps(render(...))``."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engagement_api.contract.groupings import DAY, HOUR, RESERVED_KEYS, TWEET_ID, TYPE, Grouping
from engagement_api.contract.metrics import ALIASES, BY_CODE, METRICS, Endpoint, resolve
from engagement_api.contract.policy import Decision, PostFacts, decide
from engagement_api.contract.request import AskedMetric, EngagementRequest
from engagement_api.contract.response import render
from engagement_api.contract.response_json import render_json
from engagement_api.contract.times import hour_index
from engagement_api.contract.windows import Window, window_28hr

from .builders import NOW, body, parse

TOTALS, HR28, HISTORICAL = Endpoint.TOTALS, Endpoint.HR28, Endpoint.HISTORICAL
Rows = list[tuple[int, str, int, int]]
Totals = dict[tuple[int, str], int]

LEVELS = (TWEET_ID, TYPE, DAY, HOUR)
FOUR_LEVELS = [(TWEET_ID, TYPE, DAY, HOUR), (TYPE, TWEET_ID, DAY, HOUR)]
GROUP_BYS = FOUR_LEVELS + [
    p for size in (1, 2, 3) for p in itertools.permutations(LEVELS, size) if TYPE in p
]
TOTALS_GROUP_BYS = [g for g in GROUP_BYS if DAY not in g and HOUR not in g]
NAMES = {
    endpoint: sorted(
        [m for m in METRICS if endpoint in METRICS[m].endpoints]
        + [a for a in ALIASES if endpoint in METRICS[ALIASES[a]].endpoints]
    )
    for endpoint in Endpoint
}
BASE_HOUR = hour_index(datetime(2026, 10, 1, tzinfo=UTC))
AWKWARD_NAMES = ['q"uote', "back\\slash", "ctl\x00\x01\x1f\x7f", "new\nline\ttab\r\x08\x0c",
                 "é漢字😀", "\u2028\u2029", "%s", "%%", "%(x)s", "{}", "{0}", "{", "</script>",
                 " ", "perTweet"]  # fmt: skip


def make_request(
    endpoint: Endpoint,
    ids: tuple[int, ...],
    asked: list[str],
    groupings: list[tuple[str, tuple[str, ...]]],
    window: Window | None = None,
) -> EngagementRequest:
    metrics = []
    for name in sorted(set(asked)):
        metric = resolve(name)
        assert metric is not None
        metrics.append(AskedMetric(name, metric))
    named = tuple(Grouping(name, levels) for name, levels in groupings)
    return EngagementRequest(endpoint, ids, tuple(metrics), named, window)


def make_window(start: int, size: int) -> Window:
    return Window(
        datetime.fromtimestamp(start * 3600, UTC),
        datetime.fromtimestamp((start + size) * 3600, UTC),
    )


def assert_same(
    req: EngagementRequest, dec: Decision, totals: Totals | None, rows: Rows | None
) -> bytes:
    expected = orjson.dumps(render(req, dec, totals, None if rows is None else list(rows)))
    written = render_json(req, dec, totals, None if rows is None else iter(rows))
    assert written == expected
    return written


# --- property ---------------------------------------------------------------------------------


grouping_names = st.one_of(st.text(max_size=12), st.sampled_from(AWKWARD_NAMES)).filter(
    lambda name: bool(name) and name not in RESERVED_KEYS
)


@st.composite
def cases(draw: st.DrawFn) -> tuple[EngagementRequest, Decision, Totals | None, Rows | None]:
    endpoint = draw(st.sampled_from(list(Endpoint)))
    windowed = endpoint is not TOTALS
    ids = tuple(sorted(draw(st.sets(st.integers(1, 2**64 - 1), min_size=1, max_size=5))))
    asked = draw(st.lists(st.sampled_from(NAMES[endpoint]), min_size=1, max_size=4, unique=True))
    shapes = draw(
        st.lists(
            st.sampled_from(GROUP_BYS if windowed else TOTALS_GROUP_BYS), min_size=1, max_size=3
        ).filter(lambda gs: sum(len(g) == 4 for g in gs) <= 1)
    )
    names = draw(st.lists(grouping_names, min_size=len(shapes), max_size=len(shapes), unique=True))
    window = None
    if windowed:
        start = BASE_HOUR + draw(st.integers(0, 47))
        window = make_window(start, draw(st.sampled_from([1, 2, 23, 24, 25, 29, 49, 80])))
    req = make_request(endpoint, ids, asked, list(zip(names, shapes, strict=True)), window)
    canonical = sorted({m.metric.name for m in req.metrics})
    pairs = [(pid, name) for pid in ids for name in canonical]
    zeroed = frozenset(draw(st.sets(st.sampled_from(pairs), max_size=3)))
    some_ids = st.lists(st.integers(1, 2**64 - 1), max_size=3).map(lambda xs: tuple(sorted(xs)))
    dec = Decision(
        ids,
        draw(some_ids),
        draw(some_ids),
        draw(some_ids),
        tuple(draw(st.lists(st.text(max_size=8), max_size=2))),
        zeroed,
    )
    other_ids = [*ids, 0, 7]
    other_names = [*canonical, "impressions", "replies"]
    if window is None:
        totals = draw(
            st.dictionaries(
                st.tuples(st.sampled_from(other_ids), st.sampled_from(other_names)),
                st.integers(-10, 10**15),
                max_size=20,
            )
        )
        return req, dec, totals, None
    start, end = window.start_hour, window.end_hour
    if draw(st.booleans()):  # dense: every hour of every pair, small and repeated values too
        rng = random.Random(draw(st.integers(0, 2**32)))
        high = draw(st.sampled_from([0, 1, 3, 1000]))
        rows = [(pid, name, h, rng.randint(-high, high)) for pid, name in pairs
                for h in range(start, end)]  # fmt: skip
    else:
        rows = draw(
            st.lists(
                st.tuples(
                    st.sampled_from(other_ids),
                    st.sampled_from(other_names),
                    st.integers(start - 3, end + 3),
                    st.integers(-5, 50),
                ),
                max_size=60,
            )
        )
    return req, dec, None, rows


@settings(max_examples=300, deadline=None)
@given(cases())
def test_render_json_is_orjson_of_render(
    case: tuple[EngagementRequest, Decision, Totals | None, Rows | None],
) -> None:
    assert_same(*case)


@settings(max_examples=150, deadline=None)
@given(cases())
def test_totals_from_columns_are_the_same_bytes(
    case: tuple[EngagementRequest, Decision, Totals | None, Rows | None],
) -> None:
    """``lifetime=`` (the store's columns: per asked metric, a count per Post of the decision)
    gives what ``totals`` gives, for every /totals shape."""
    req, dec, totals, _ = case
    if totals is None:
        return
    columns = [[totals.get((pid, m.metric.name), 0) for pid in dec.post_ids] for m in req.metrics]
    expected = orjson.dumps(render(req, dec, totals, None))
    assert render_json(req, dec, None, None, columns) == expected


@settings(max_examples=150, deadline=None)
@given(cases())
def test_hours_by_metric_code_are_the_same_bytes(
    case: tuple[EngagementRequest, Decision, Totals | None, Rows | None],
) -> None:
    """``coded=`` (the store's rows: a metric's code for its name) gives what ``hourly`` gives;
    a row of a code no metric has counts nowhere."""
    req, dec, _, rows = case
    if rows is None:
        return
    assert req.window is not None and 999 not in BY_CODE
    coded = [(pid, METRICS[name].code, hour, n) for pid, name, hour, n in rows]
    coded.append((dec.post_ids[0], 999, req.window.start_hour, 5))
    expected = orjson.dumps(render(req, dec, None, rows))
    assert render_json(req, dec, None, None, None, iter(coded)) == expected


# --- edge cases -------------------------------------------------------------------------------


def at(text: str) -> int:
    return hour_index(datetime.fromisoformat(text).replace(tzinfo=UTC))


def plain(ids: tuple[int, ...], zeroed: frozenset[tuple[int, str]] = frozenset()) -> Decision:
    return Decision(ids, (), (), (), (), zeroed)


PARTIAL = make_window(at("2026-10-01T22:00"), 28)  # 22:00 to 02:00 two days later
ROWS = [
    (5, "favorites", at("2026-10-01T22:00"), 1),
    (5, "favorites", at("2026-10-02T22:00"), -10),
    (5, "favorites", at("2026-10-03T01:00"), 1000),
    (6, "favorites", at("2026-10-03T01:00"), 3),
    (6, "media_engagements", at("2026-10-02T12:00"), 7),
    (6, "media_engagements", at("2026-10-02T12:00"), 7),
    (5, "favorites", at("2026-10-03T02:00"), 99),  # just after the window
    (5, "favorites", at("2026-10-01T21:00"), 99),  # just before it
    (8, "favorites", at("2026-10-02T05:00"), 99),  # not in the decision
]
EVERY_WINDOWED = [(f"g{i}", levels) for i, levels in enumerate(GROUP_BYS) if len(levels) < 4]


def partial_results() -> tuple[EngagementRequest, Decision]:
    posts = {
        1: PostFacts(1, 5, NOW - timedelta(days=1), True),
        2: PostFacts(2, 5, NOW - timedelta(days=100), True),
        3: PostFacts(3, 5, NOW - timedelta(days=2000), True),
        4: PostFacts(4, 5, NOW, False),
    }
    raw = body(tweet_ids=["4", "3", "2", "1", "9"], engagement_types=["impressions", "video_views"])
    req = parse(TOTALS, raw)
    return req, decide(req, 5, posts, NOW)


def escaped_names() -> EngagementRequest:
    groupings = {name: {"group_by": ["engagement.type", "tweet.id"]} for name in AWKWARD_NAMES[:3]}
    return parse(TOTALS, body(tweet_ids=["1", "2"], groupings=groupings))


EDGE_CASES = {
    "totals, clamped at 0": (
        make_request(TOTALS, (1, 2, 3), ["favorites", "replies"],
                     [("perTweet", (TWEET_ID, TYPE)), ("byType", (TYPE,)),
                      ("t", (TYPE, TWEET_ID))]),
        plain((1, 2, 3)),
        {(1, "favorites"): -5, (2, "favorites"): 3, (3, "replies"): 10**20, (9, "replies"): 4},
        None,
    ),
    "totals without counts": (
        make_request(TOTALS, (2**64 - 1,), ["impressions"], [("g", (TYPE,))]), plain((2**64 - 1,)),
        None, None,
    ),
    "partial days, every grouping of up to 3 levels": (
        make_request(HISTORICAL, (5, 6), ["favorites", "media_clicks", "media_engagements"],
                     EVERY_WINDOWED, PARTIAL),
        plain((5, 6)), None, ROWS,
    ),
    "4 levels, tweet.id first, negative counts": (
        make_request(HISTORICAL, (5, 6), ["favorites"], [("h", FOUR_LEVELS[0])], PARTIAL),
        plain((5, 6)), None, ROWS,
    ),
    "4 levels, engagement.type first, zeroed pair": (
        make_request(HISTORICAL, (5, 6), ["favorites", "media_views"], [("h", FOUR_LEVELS[1])],
                     PARTIAL),
        plain((5, 6), frozenset({(5, "favorites")})), None, ROWS,
    ),
    "one hour window": (
        make_request(HR28, (5,), ["favorites"], EVERY_WINDOWED,
                     make_window(at("2026-10-02T23:00"), 1)),
        plain((5,)), None, ROWS,
    ),
    "28 days from midnight, no rows at all": (
        make_request(HISTORICAL, (5, 6), ["favorites"], [("h", FOUR_LEVELS[0]), ("d", (DAY, TYPE))],
                     make_window(BASE_HOUR, 28 * 24)),
        plain((5, 6)), None, [],
    ),
    "/28hr window of now": (
        make_request(HR28, (5, 6), ["favorites", "media_engagements"],
                     [("hd", (HOUR, DAY, TYPE)), ("x", FOUR_LEVELS[1])], window_28hr(NOW)),
        plain((5, 6)), None,
        [(6, "favorites", hour_index(NOW) - h, h % 3 - 1) for h in range(30)],
    ),
    "windowed without a time level": (
        make_request(HISTORICAL, (5, 6), ["favorites"], [("a", (TYPE,)), ("b", (TWEET_ID, TYPE))],
                     PARTIAL),
        plain((5, 6)), None, ROWS,
    ),
    "errors and the ID lists": (
        *partial_results(), {(i, "impressions"): 7 for i in range(5)}, None,
    ),
    "grouping names that need escaping": (
        make_request(HISTORICAL, (5,), ["favorites"],
                     [(name, GROUP_BYS[i]) for i, name in enumerate(AWKWARD_NAMES)], PARTIAL),
        plain((5,)), None, ROWS,
    ),
    "escaped names from a parsed body, in request order": (
        escaped_names(), plain((1, 2)), {(2, "favorites"): 1}, None,
    ),
    "the same day over and over (memoized), and a vector non-zero all through": (
        make_request(HISTORICAL, (5, 6), ["favorites", "replies"],
                     [("h", FOUR_LEVELS[0]), ("t", (TYPE, HOUR, DAY))],
                     make_window(BASE_HOUR + 5, 100)),
        plain((5, 6)), None,
        [(5, "favorites", BASE_HOUR + 24 * d + 9, 3) for d in range(5)]
        + [(6, "replies", BASE_HOUR + h, h - 50) for h in range(110)],
    ),
    "a grouping name repeated: the first place, the last value": (
        make_request(HISTORICAL, (5,), ["favorites"], [("g", (TYPE,)), ("h", (DAY, TYPE)),
                                                       ("g", (TYPE, HOUR))], PARTIAL),
        plain((5,)), None, ROWS,
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", EDGE_CASES.values(), ids=list(EDGE_CASES))
def test_edge_cases(case: tuple[EngagementRequest, Decision, Totals | None, Rows | None]) -> None:
    assert_same(*case)


def test_the_edge_cases_cover_what_they_claim() -> None:
    req, dec, totals, _ = EDGE_CASES["errors and the ID lists"]
    out = orjson.loads(render_json(req, dec, totals, None))
    assert list(out)[-4:] == [
        "errors",
        "unavailable_tweet_ids",
        "unsupported_for_impressions_engagements_tweet_ids",
        "unsupported_for_video_views_tweet_ids",
    ]
    req, dec, _, rows = EDGE_CASES["grouping names that need escaping"]
    raw = render_json(req, dec, None, rows)
    assert b'"q\\"uote"' in raw and b'"back\\\\slash"' in raw and b"\\u0000" in raw
    assert "é".encode() in raw
    out = orjson.loads(raw)
    assert list(out) == ["start", "end", *(g.name for g in req.groupings)]


# --- the comparison can fail ------------------------------------------------------------------


def test_one_changed_value_changes_the_bytes() -> None:
    req = make_request(HISTORICAL, (5, 6), ["favorites"], [("h", FOUR_LEVELS[0])], PARTIAL)
    dec = plain((5, 6))
    written = render_json(req, dec, None, ROWS)
    tree = render(req, dec, None, ROWS)
    assert orjson.dumps(tree) == written
    tree["h"]["6"]["favorites"]["2026-10-03"]["01"] = "4"  # type: ignore[index]
    assert orjson.dumps(tree) != written
    bumped = [*ROWS, (6, "favorites", at("2026-10-03T01:00"), 1)]
    assert render_json(req, dec, None, bumped) == orjson.dumps(tree)
    assert render_json(req, dec, None, bumped) != written
