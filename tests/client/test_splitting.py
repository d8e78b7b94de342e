"""Chunking boundaries (250/251 IDs, 25/26) and windows (28 days, 28 days plus one hour)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from engagement_api.client import EngagementClient
from engagement_api.client.plan import Window, normalise_ids, parse_moment, split_range
from tests.client.fake import FakeServer, ids_from
from tests.support import NOW

BASE = 2 * 10**18


@pytest.mark.parametrize(
    ("method", "count", "sizes"),
    [
        ("totals", 1, [1]),
        ("totals", 250, [250]),
        ("totals", 251, [250, 1]),
        ("totals", 501, [250, 250, 1]),
        ("last_28_hours", 25, [25]),
        ("last_28_hours", 26, [25, 1]),
        ("historical", 25, [25]),
        ("historical", 26, [25, 1]),
        ("historical", 60, [25, 25, 10]),
    ],
)
def test_ids_are_cut_at_the_endpoint_limit(
    method: str,
    count: int,
    sizes: list[int],
    make_client: Callable[..., EngagementClient],
    fake: FakeServer,
) -> None:
    ids = ids_from(BASE, count)
    fake.available = set(ids)
    result = getattr(make_client(max_concurrency=1), method)(ids, ["favorites"])
    assert [len(body["tweet_ids"]) for _, body in fake.bodies] == sizes
    assert list(result["perTweet"]) == [str(i) for i in ids]
    assert result.requests == len(sizes)


def test_duplicates_whitespace_and_leading_zeros_count_once(
    make_client: Callable[..., EngagementClient], fake: FakeServer
) -> None:
    ids = ids_from(BASE, 25)
    fake.available = set(ids)
    sent: list[str | int] = [*ids, f" {ids[0]}\n", "0" + str(ids[1]), str(ids[2])]
    make_client().last_28_hours(sent, ["favorites"])
    assert len(fake.bodies) == 1  # still 25 distinct IDs: one request


def test_normalise_ids_keeps_what_the_server_must_refuse() -> None:
    assert normalise_ids(["007", 7, " 8 ", "12ab", True]) == ["7", "8", "12ab", "True"]


H = timedelta(hours=1)
D28 = timedelta(days=28)
S = datetime(2026, 9, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end", "windows"),
    [
        # exactly 28 days: one request, sent as given
        ("2026-09-01", "2026-09-29", [Window("2026-09-01", "2026-09-29")]),
        # 28 days and one hour: two windows on whole hours
        (
            "2026-09-01T00:00:00Z",
            "2026-09-29T01:00:00Z",
            [
                Window("2026-09-01T00:00:00Z", "2026-09-29T00:00:00Z"),
                Window("2026-09-29T00:00:00Z", "2026-09-29T01:00:00Z"),
            ],
        ),
        # bounds inside hours are floored/ceiled first: 28 days + 1 h once aligned
        (
            "2026-09-01T00:30:00Z",
            "2026-09-29T00:10:00Z",
            [
                Window("2026-09-01T00:00:00Z", "2026-09-29T00:00:00Z"),
                Window("2026-09-29T00:00:00Z", "2026-09-29T01:00:00Z"),
            ],
        ),
        # a 28-day span that only fits once aligned stays one request
        (
            "2026-09-01T00:30:00Z",
            "2026-09-28T23:10:00Z",
            [Window("2026-09-01T00:30:00Z", "2026-09-28T23:10:00Z")],
        ),
        # 60 days: 28 + 28 + 4
        (
            S,
            S + timedelta(days=60),
            [
                Window("2026-09-01T00:00:00Z", "2026-09-29T00:00:00Z"),
                Window("2026-09-29T00:00:00Z", "2026-10-27T00:00:00Z"),
                Window("2026-10-27T00:00:00Z", "2026-10-31T00:00:00Z"),
            ],
        ),
        # missing bounds: left to the server
        (None, None, [Window(None, None)]),
        (None, "2026-11-01", [Window(None, "2026-11-01")]),
        ("2026-11-01", None, [Window("2026-11-01", None)]),
        # a start long ago and no end: up to ceil(now); the last window's end left to the server
        (
            "2026-09-01",
            None,
            [
                Window("2026-09-01T00:00:00Z", "2026-09-29T00:00:00Z"),
                Window("2026-09-29T00:00:00Z", "2026-10-27T00:00:00Z"),
                Window("2026-10-27T00:00:00Z", "2026-11-24T00:00:00Z"),
                Window("2026-11-24T00:00:00Z", None),
            ],
        ),
        (
            date(2026, 9, 1),
            "2026-09-02T05:00:00+02:00",
            [Window("2026-09-01T00:00:00Z", "2026-09-02T05:00:00+02:00")],
        ),
    ],
)
def test_split_range(
    start: str | datetime | None, end: str | datetime | None, windows: list[Window]
) -> None:
    assert split_range(start, end, NOW) == windows


def test_windows_cover_the_range_exactly() -> None:
    for extra in range(0, 100, 7):
        start, end = S, S + 2 * D28 + extra * H
        got = split_range(start, end, NOW)
        bounds = [(parse_moment(w.start or ""), parse_moment(w.end or "")) for w in got]
        assert bounds[0][0] == start and bounds[-1][1] == end
        assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))
        assert all(e - s <= D28 for s, e in bounds)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10-01", datetime(2026, 10, 1, tzinfo=UTC)),
        ("2026-10-01T12:00:00Z", datetime(2026, 10, 1, 12, tzinfo=UTC)),
        ("2026-10-01T12:00", datetime(2026, 10, 1, 12, tzinfo=UTC)),
        ("2026-10-01 12:00:00+02:00", datetime(2026, 10, 1, 10, tzinfo=UTC)),
    ],
)
def test_parse_moment(text: str, expected: datetime) -> None:
    assert parse_moment(text) == expected


def test_a_60_day_range_makes_three_requests_per_chunk(
    make_client: Callable[..., EngagementClient], fake: FakeServer
) -> None:
    ids = ids_from(BASE, 26)
    fake.available = set(ids)
    result = make_client().historical(ids, ["favorites"], start=NOW - timedelta(days=60), end=NOW)
    assert len(fake.bodies) == 6
    assert result.start == "2026-09-27T12:00:00Z" and result.end == "2026-11-26T13:00:00Z"
