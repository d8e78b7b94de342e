"""Results: the wire shape, int counts, rows, CSV, DataFrame, series."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest

from engagement_api.client import EngagementClient, Result, Row
from tests.client.fake import FakeServer, floor_hour
from tests.support import NOW

A, B = 10**18 + 1, 10**18 + 2
HOUR0 = floor_hour(NOW)


@pytest.fixture
def result(make_client: Callable[..., EngagementClient], fake: FakeServer) -> Result:
    fake.available = {A, B}
    fake.hourly = {
        (A, "favorites", HOUR0): 3,
        (B, "favorites", HOUR0): -1,
        (A, "impressions", HOUR0): 10,
    }
    return make_client().last_28_hours(
        [A, B, 7],
        ["favorites", "impressions"],
        {
            "perTweet": ["tweet.id", "engagement.type"],
            "hourly": ["engagement.type", "engagement.day", "engagement.hour"],
        },
    )


def test_wire_shape_and_int_counts(result: Result) -> None:
    wire = result.to_dict()
    assert list(wire) == ["start", "end", "perTweet", "hourly", "errors", "unavailable_tweet_ids"]
    assert wire["perTweet"][str(A)] == {"favorites": "3", "impressions": "10"}
    assert result.to_dict(int_counts=True)["perTweet"][str(B)] == {
        "favorites": -1,
        "impressions": 0,
    }
    assert wire["unavailable_tweet_ids"] == ["7"]


def test_rows_of_the_first_or_a_named_grouping(result: Result) -> None:
    assert list(result.rows()) == [
        Row(str(A), "favorites", None, None, 3),
        Row(str(A), "impressions", None, None, 10),
        Row(str(B), "favorites", None, None, -1),
        Row(str(B), "impressions", None, None, 0),
    ]
    hourly = list(result.rows("hourly"))
    assert len(hourly) == 2 * 29
    assert Row(None, "favorites", "2026-11-26", "12", 2) in hourly
    with pytest.raises(KeyError):
        list(result.rows("nope"))


def test_csv(result: Result) -> None:
    text = result.to_csv()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["post_id", "metric", "day", "hour", "count"]
    assert rows[1] == [str(A), "favorites", "", "", "3"]
    out = io.StringIO()
    assert result.to_csv(out, grouping="hourly") == ""
    assert out.getvalue().count("\n") == 1 + 58


def test_dataframe(result: Result) -> None:
    pytest.importorskip("pandas")
    frame = result.to_dataframe("hourly")
    assert list(frame.columns) == ["post_id", "metric", "day", "hour", "count"]
    assert int(frame["count"].sum()) == 12


def test_series(result: Result) -> None:
    series = result.series("hourly")
    assert list(series) == ["favorites", "impressions"]
    assert series["favorites"][("2026-11-26", "12")] == 2
    assert len(series["impressions"]) == 29
    with pytest.raises(ValueError, match=r"engagement\.day"):
        result.series("perTweet")
