"""Request parsing: tweet_ids, engagement_types, groupings, and every problem at once."""

from __future__ import annotations

import orjson
import pytest

from engagement_api.contract.errors import BadRequest
from engagement_api.contract.groupings import Grouping
from engagement_api.contract.metrics import METRICS, Endpoint, allowed_on
from engagement_api.contract.request import AskedMetric
from engagement_api.contract.windows import window_28hr

from .builders import NOW, PER_TWEET, body, parse, without

TOTALS, HR28, HISTORICAL = Endpoint.TOTALS, Endpoint.HR28, Endpoint.HISTORICAL
U64_MAX = 2**64 - 1


def problems(endpoint: Endpoint, raw: bytes) -> list[str]:
    with pytest.raises(BadRequest) as caught:
        parse(endpoint, raw)
    return caught.value.messages


# --- tweet_ids --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tweet_ids", "expected"),
    [
        (["20"], (20,)),
        (["30", "20", "10"], (10, 20, 30)),
        ([20, "10"], (10, 20)),  # JSON integers accepted
        (["123\n", " 7 "], (7, 123)),  # surrounding whitespace trimmed
        (["0123", "123", 123], (123,)),  # leading zeros dropped, duplicates once
        (["0"], (0,)),
        ([str(U64_MAX)], (U64_MAX,)),
        ([U64_MAX], (U64_MAX,)),  # read exactly, never through a float
        ([str(U64_MAX - 1), U64_MAX - 1], (U64_MAX - 1,)),
    ],
)
def test_tweet_ids_leniencies(tweet_ids: list[object], expected: tuple[int, ...]) -> None:
    assert parse(TOTALS, body(tweet_ids=tweet_ids)).post_ids == expected


@pytest.mark.parametrize(
    ("raw_ids", "messages"),
    [
        (b'["12ab"]', ['Invalid Tweet ID: "12ab"']),
        (b'["1.5"]', ['Invalid Tweet ID: "1.5"']),
        (b"[1.5]", ["Invalid Tweet ID: 1.5"]),
        (b"[1e3]", ["Invalid Tweet ID: 1e3"]),  # echoed as written
        (b"[20.0]", ["Invalid Tweet ID: 20.0"]),
        (b"[true]", ["Invalid Tweet ID: true"]),
        (b"[null]", ["Invalid Tweet ID: null"]),
        (b'[""]', ['Invalid Tweet ID: ""']),
        (b'["  "]', ['Invalid Tweet ID: "  "']),
        (b"[-1]", ["Invalid Tweet ID: -1"]),
        (b'["-1"]', ['Invalid Tweet ID: "-1"']),
        (b'["+1"]', ['Invalid Tweet ID: "+1"']),
        (b'["\xd9\xa3"]', ['Invalid Tweet ID: "\u0663"']),  # non-ASCII digit
        (b'["18446744073709551616"]', ['Invalid Tweet ID: "18446744073709551616"']),
        (b"[18446744073709551616]", ["Invalid Tweet ID: 18446744073709551616"]),
        (b"[99999999999999999999999]", ["Invalid Tweet ID: 99999999999999999999999"]),
        (b'[["1"]]', ['Invalid Tweet ID: ["1"]']),
        (b'[{"id": "1"}]', ['Invalid Tweet ID: {"id":"1"}']),
        (b'["12ab", "20", "12ab", "x"]', ['Invalid Tweet ID: "12ab"', 'Invalid Tweet ID: "x"']),
        (b'"20"', ['tweet_ids: must be an array of Tweet ID strings, not "20"']),
        (b"20", ["tweet_ids: must be an array of Tweet ID strings, not 20"]),
        (b'{"20": 1}', ['tweet_ids: must be an array of Tweet ID strings, not {"20":1}']),
        (b"[]", ["tweet_ids: [] must contain at least one Tweet ID"]),
        (b"null", ["tweet_ids: required, a non-empty array of Tweet ID strings"]),
    ],
)
def test_tweet_ids_problems(raw_ids: bytes, messages: list[str]) -> None:
    raw = b'{"tweet_ids": ' + raw_ids + b', "engagement_types": ["favorites"], "groupings": '
    raw += orjson.dumps(PER_TWEET) + b"}"
    assert problems(TOTALS, raw) == messages


def test_tweet_ids_missing() -> None:
    assert problems(TOTALS, without("tweet_ids")) == [
        "tweet_ids: required, a non-empty array of Tweet ID strings"
    ]


@pytest.mark.parametrize(
    ("endpoint", "count", "message"),
    [
        (HR28, 26, "Too many Tweet IDs: 26 given, at most 25 allowed on /28hr"),
        (HISTORICAL, 30, "Too many Tweet IDs: 30 given, at most 25 allowed on /historical"),
        (TOTALS, 251, "Too many Tweet IDs: 251 given, at most 250 allowed on /totals"),
    ],
)
def test_too_many_tweet_ids(endpoint: Endpoint, count: int, message: str) -> None:
    assert problems(endpoint, body(tweet_ids=[str(i) for i in range(1, count + 1)])) == [message]


@pytest.mark.parametrize(("endpoint", "limit"), [(HR28, 25), (HISTORICAL, 25), (TOTALS, 250)])
def test_the_maximum_counts_after_de_duplication(endpoint: Endpoint, limit: int) -> None:
    ids = [str(i) for i in range(1, limit + 1)]
    with_copies = ids + ["0" + i for i in ids] + [int(i) for i in ids]
    assert len(parse(endpoint, body(tweet_ids=with_copies)).post_ids) == limit


def test_too_many_counts_distinct_valid_ids_and_lists_invalid_ones_first() -> None:
    ids: list[object] = [*(str(i) for i in range(1, 27)), "bad", "1"]
    assert problems(HR28, body(tweet_ids=ids)) == [
        'Invalid Tweet ID: "bad"',
        "Too many Tweet IDs: 26 given, at most 25 allowed on /28hr",
    ]


# --- engagement_types --------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", list(Endpoint))
def test_every_allowed_type_parses(endpoint: Endpoint) -> None:
    names = allowed_on(endpoint)
    request = parse(endpoint, body(engagement_types=list(reversed(names))))
    assert [m.asked for m in request.metrics] == names
    assert all(m.metric is METRICS[m.asked] for m in request.metrics)


@pytest.mark.parametrize(
    ("endpoint", "types", "expected"),
    [
        (TOTALS, ["replies", "favorites", "replies"], ["favorites", "replies"]),
        (HR28, ["media_clicks"], ["media_clicks"]),
        (HISTORICAL, ["media_engagements", "media_clicks"], ["media_clicks", "media_engagements"]),
    ],
)
def test_engagement_types_de_duplicated_and_sorted(
    endpoint: Endpoint, types: list[str], expected: list[str]
) -> None:
    request = parse(endpoint, body(engagement_types=types))
    assert [m.asked for m in request.metrics] == expected


def test_media_clicks_is_the_old_name_of_media_engagements() -> None:
    request = parse(HR28, body(engagement_types=["media_clicks"]))
    assert request.metrics == (AskedMetric("media_clicks", METRICS["media_engagements"]),)


def unsupported(names: str) -> str:
    return (
        f"One or more of the engagement types you have specified are not supported: ({names}). "
        "Please adjust your request and try again."
    )


@pytest.mark.parametrize(
    ("endpoint", "types", "messages"),
    [
        (HR28, ["quote_tweets"], [unsupported("quote_tweets")]),
        (HISTORICAL, ["favorites", "quote_tweets"], [unsupported("quote_tweets")]),
        (TOTALS, ["media_clicks", "url_clicks"], [unsupported("media_clicks, url_clicks")]),
        (
            TOTALS,
            ["url_clicks", "media_views", "url_clicks"],
            [unsupported("media_views, url_clicks")],
        ),
        (TOTALS, ["Favorites"], [unsupported("Favorites")]),  # case-sensitive
        (TOTALS, ["likes", "favorites"], [unsupported("likes")]),
        (TOTALS, ["other_engagements"], [unsupported("other_engagements")]),
        (HR28, ["other_engagements"], [unsupported("other_engagements")]),
        (TOTALS, ["favorites", 3, None, ""], [unsupported('"", 3, null')]),
        (TOTALS, [], ["engagement_types: [] must contain at least one engagement type"]),
        (
            TOTALS,
            "favorites",
            ['engagement_types: must be an array of engagement type names, not "favorites"'],
        ),
        (
            TOTALS,
            None,
            ["engagement_types: required, a non-empty array of engagement type names"],
        ),
    ],
)
def test_engagement_types_problems(endpoint: Endpoint, types: object, messages: list[str]) -> None:
    assert problems(endpoint, body(engagement_types=types)) == messages


def test_engagement_types_missing() -> None:
    assert problems(TOTALS, without("engagement_types")) == [
        "engagement_types: required, a non-empty array of engagement type names"
    ]


# --- groupings --------------------------------------------------------------------------------

ID, T, D, H = "tweet.id", "engagement.type", "engagement.day", "engagement.hour"
FULL = [ID, T, D, H]
FULL_BY_TYPE = [T, ID, D, H]


def gb(*levels: object) -> dict[str, object]:
    """A grouping object."""
    return {"group_by": list(levels)}


@pytest.mark.parametrize(
    ("endpoint", "groupings", "expected"),
    [
        (TOTALS, PER_TWEET, [("perTweet", (ID, T))]),
        (TOTALS, {"Grand Totals": gb(T)}, [("Grand Totals", (T,))]),
        (TOTALS, {"a": gb("Engagement.Type", "TWEET.ID")}, [("a", (T, ID))]),
        (TOTALS, {"b": {"group_by": [T], "extra": 1}, "a": gb(T)}, [("b", (T,)), ("a", (T,))]),
        (HR28, {"h": gb(*FULL)}, [("h", tuple(FULL))]),
        (HISTORICAL, {"h": gb(*FULL_BY_TYPE)}, [("h", tuple(FULL_BY_TYPE))]),
        (HR28, {"x": gb(H, T)}, [("x", (H, T))]),
        (HR28, {"x": gb(H, D, T)}, [("x", (H, D, T))]),
        (HR28, {"x": gb(D, ID, T)}, [("x", (D, ID, T))]),
        (HR28, {" ": gb(T), "Start": gb(T)}, [(" ", (T,)), ("Start", (T,))]),
        (
            HR28,
            {"a": gb(*FULL), "b": gb(T), "c": gb(D, T)},
            [("a", tuple(FULL)), ("b", (T,)), ("c", (D, T))],
        ),
    ],
)
def test_groupings_parse(
    endpoint: Endpoint, groupings: object, expected: list[tuple[str, tuple[str, ...]]]
) -> None:
    request = parse(endpoint, body(groupings=groupings))
    assert request.groupings == tuple(Grouping(name, levels) for name, levels in expected)


def not_supported(values: str) -> str:
    return (
        f"One or more of the groupBys you have specified are not supported: ({values}). "
        "Please adjust your request and try again."
    )


def bad(name: str, problem: str) -> str:
    return f'groupings: "{name}" {problem}'


FOUR_ORDERS = (
    "is not a valid 4-entry order: use [tweet.id, engagement.type, engagement.day, "
    "engagement.hour] or [engagement.type, tweet.id, engagement.day, engagement.hour]"
)
RESERVED = "is a reserved response key and cannot name a grouping"
NEEDS_TYPE = 'group_by must include "engagement.type"'
ONE_TO_FOUR = "group_by must have 1 to 4 entries"
EXAMPLE = '{"group_by": ["tweet.id", "engagement.type"]}'


@pytest.mark.parametrize(
    ("endpoint", "groupings", "messages"),
    [
        (TOTALS, {"x": gb(ID, T, H)}, [not_supported(H)]),
        (TOTALS, {"x": gb(H, T, D)}, [not_supported("engagement.day, engagement.hour")]),
        (TOTALS, {"x": gb("Engagement.Day", T), "y": gb(T, D)}, [not_supported(D)]),
        (HR28, {"x": gb("tweet.ids", T)}, [not_supported("tweet.ids")]),
        (HR28, {"x": gb(" tweet.id", T, 4)}, [not_supported('" tweet.id", 4')]),
        (HR28, {}, ["groupings: 0 given, 1 to 3 allowed"]),
        (HR28, {n: gb(T) for n in "abcd"}, ["groupings: 4 given, 1 to 3 allowed"]),
        (
            HR28,
            None,
            [
                "groupings: required, an object of named groupings such as "
                f'{{"perTweet": {EXAMPLE}}}'
            ],
        ),
        (HR28, [ID], ['groupings: must be an object of named groupings, not ["tweet.id"]']),
        (
            HR28,
            {"perTweet": [ID]},
            [bad("perTweet", f'must be an object such as {EXAMPLE}, not ["tweet.id"]')],
        ),
        (
            HR28,
            {"perTweet": {}},
            [bad("perTweet", "group_by must be an array of 1 to 4 entries, not null")],
        ),
        (
            HR28,
            {"p": {"group_by": ID}},
            [bad("p", 'group_by must be an array of 1 to 4 entries, not "tweet.id"')],
        ),
        (HR28, {"perTweet": gb()}, [bad("perTweet", ONE_TO_FOUR)]),
        (HR28, {"perTweet": gb(*FULL, ID)}, [bad("perTweet", ONE_TO_FOUR)]),
        (HR28, {"perTweet": gb(ID)}, [bad("perTweet", NEEDS_TYPE)]),
        (HR28, {"perTweet": gb(D, H)}, [bad("perTweet", NEEDS_TYPE)]),
        (
            HR28,
            {"perTweet": gb(ID, "Tweet.id", T)},
            [bad("perTweet", 'group_by lists "tweet.id" more than once')],
        ),
        (HR28, {"x": gb(D, T, ID, H)}, [bad("x", f"group_by [{D}, {T}, {ID}, {H}] {FOUR_ORDERS}")]),
        (HR28, {"x": gb(ID, T, H, D)}, [bad("x", f"group_by [{ID}, {T}, {H}, {D}] {FOUR_ORDERS}")]),
        (
            HR28,
            {"a": gb(*FULL), "b": gb(*FULL_BY_TYPE)},
            ['groupings: at most one grouping may have 4 group_by entries ("a", "b")'],
        ),
        (HR28, {"": gb(T)}, [bad("", "is not a valid grouping name: it must not be empty")]),
        (HR28, {"errors": gb(T)}, [bad("errors", RESERVED)]),
        (
            HR28,
            {"start": gb(T), "unavailable_tweet_ids": gb(T)},
            [bad("start", RESERVED), bad("unavailable_tweet_ids", RESERVED)],
        ),
        (
            HR28,
            {"a": gb(ID), "b": gb("x", T), "c": gb()},
            [bad("a", NEEDS_TYPE), bad("c", ONE_TO_FOUR), not_supported("x")],
        ),
    ],
)
def test_groupings_problems(endpoint: Endpoint, groupings: object, messages: list[str]) -> None:
    assert problems(endpoint, body(groupings=groupings)) == messages


def test_spec_example_of_hour_on_totals() -> None:
    raw = body(groupings={"x": gb(T, H)})
    assert problems(TOTALS, raw) == [
        "One or more of the groupBys you have specified are not supported: (engagement.hour). "
        "Please adjust your request and try again."
    ]


@pytest.mark.parametrize(
    "name",
    [
        "start",
        "end",
        "errors",
        "unavailable_tweet_ids",
        "unsupported_for_impressions_engagements_tweet_ids",
        "unsupported_for_video_views_tweet_ids",
    ],
)
def test_every_reserved_key_is_refused_as_a_grouping_name(name: str) -> None:
    messages = problems(TOTALS, body(groupings={name: gb(T)}))
    assert messages == [bad(name, RESERVED)]


def test_groupings_missing() -> None:
    assert problems(TOTALS, without("groupings"))[0].startswith("groupings: required")


# --- the request as a whole -------------------------------------------------------------------


def test_spec_example_body() -> None:
    raw = orjson.dumps(
        {
            "tweet_ids": ["1060976163948904448", "1045709644067471360"],
            "engagement_types": ["impressions", "engagements", "favorites"],
            "groupings": {
                "perTweet": {"group_by": ["tweet.id", "engagement.type"]},
                "Grand Totals": {"group_by": ["engagement.type"]},
            },
            "start": "2026-10-01",
            "end": "2026-10-15T12:00:00Z",
        }
    )
    request = parse(HISTORICAL, raw)
    assert request.endpoint is HISTORICAL
    assert request.post_ids == (1045709644067471360, 1060976163948904448)
    assert [m.asked for m in request.metrics] == ["engagements", "favorites", "impressions"]
    assert [g.name for g in request.groupings] == ["perTweet", "Grand Totals"]
    assert request.window is not None
    assert request.window.start.isoformat() == "2026-10-01T00:00:00+00:00"
    assert request.window.end.isoformat() == "2026-10-15T12:00:00+00:00"
    assert parse(TOTALS, raw).window is None


def test_unknown_top_level_fields_are_ignored() -> None:
    raw = body(foo=1, tweet_id="x", granularity="hour", engagement_type=["nope"])
    assert parse(TOTALS, raw).post_ids == (20,)


def test_start_and_end_are_ignored_off_historical() -> None:
    raw = body(start="not a date", end=[1])
    assert parse(TOTALS, raw).window is None
    assert parse(HR28, raw).window == window_28hr(NOW)


def test_every_problem_is_listed_in_field_order() -> None:
    raw = orjson.dumps(
        {
            "end": "2026-10-40",
            "groupings": {"g": {"group_by": ["tweet.id"]}},
            "engagement_types": ["quote_tweets"],
            "start": 5,
            "tweet_ids": ["12ab", *[str(i) for i in range(1, 27)]],
        }
    )
    assert problems(HISTORICAL, raw) == [
        'Invalid Tweet ID: "12ab"',
        "Too many Tweet IDs: 26 given, at most 25 allowed on /historical",
        unsupported("quote_tweets"),
        'groupings: "g" group_by must include "engagement.type"',
        "start: 5 must be a string such as 2026-10-01 or 2026-10-01T12:00:00Z",
        'end: "2026-10-40" is not a real date or time',
    ]


def test_bad_request_is_a_400_with_every_message() -> None:
    with pytest.raises(BadRequest) as caught:
        parse(HR28, b'{"tweet_ids": [], "engagement_types": [], "groupings": {}}')
    assert caught.value.status == 400
    assert len(caught.value.messages) == 3


def test_body_level_problems_come_alone() -> None:
    with pytest.raises(BadRequest) as caught:
        parse(TOTALS, b"[]", NOW)
    assert caught.value.messages == ["Request body must be a JSON object, not an array"]
