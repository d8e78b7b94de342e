"""Unowned Posts (drop_unowned), wholly unavailable pieces, metadata merging."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from engagement_api.client import EngagementClient, ForbiddenError, ValidationError
from engagement_api.client.merge import merge
from tests.client.fake import FakeServer, ids_from
from tests.support import NOW

BASE = 3 * 10**18


def test_unowned_ids_fail_the_request_by_default(
    make_client: Callable[..., EngagementClient], fake: FakeServer
) -> None:
    ids = ids_from(BASE, 5)
    fake.available, fake.owned = set(ids), set(ids[:3])
    with pytest.raises(ForbiddenError) as caught:
        make_client().last_28_hours(ids, ["impressions"])
    assert caught.value.forbidden_tweet_ids == [str(i) for i in ids[3:]]


def test_drop_unowned_removes_them_retries_and_reports(
    make_client: Callable[..., EngagementClient], fake: FakeServer
) -> None:
    ids = ids_from(BASE, 30)
    fake.available, fake.owned = set(ids), set(ids[:20]) | {ids[27]}
    result = make_client(max_concurrency=1).historical(
        ids, ["impressions"], start=NOW - timedelta(days=40), end=NOW, drop_unowned=True
    )
    assert result.dropped_tweet_ids == [str(i) for i in ids[20:27] + ids[28:]]
    assert list(result["perTweet"]) == [str(i) for i in [*ids[:20], ids[27]]]
    assert "errors" not in result.data
    # each chunk learns once; the second window of a chunk already leaves the dropped IDs out
    refused = [b for _, b in fake.bodies if not set(map(int, b["tweet_ids"])) <= fake.owned]
    assert len(refused) == 2


def test_drop_unowned_with_every_id_unowned_raises(
    make_client: Callable[..., EngagementClient], fake: FakeServer
) -> None:
    ids = ids_from(BASE, 3)
    fake.available, fake.owned = set(ids), set()
    with pytest.raises(ForbiddenError):
        make_client().totals(ids, ["impressions"], drop_unowned=True)


def test_a_piece_with_no_available_post_is_merged_as_unavailable(
    make_client: Callable[..., EngagementClient], fake: FakeServer
) -> None:
    ids = ids_from(BASE, 27)
    fake.available = set(ids[:25])  # the second chunk (2 IDs) answers 400 on its own
    result = make_client().last_28_hours(ids, ["favorites"], {"g": ["engagement.type"]})
    assert result.unavailable_tweet_ids == [str(ids[25]), str(ids[26])]
    assert result.errors == ["2 Tweet ID(s) are unavailable"]


def test_no_available_post_at_all_raises_as_one_request_would(
    make_client: Callable[..., EngagementClient], fake: FakeServer
) -> None:
    with pytest.raises(ValidationError, match=r"Tweet ID\(s\) are unavailable"):
        make_client().last_28_hours(ids_from(BASE, 30), ["favorites"])


def test_metadata_is_concatenated_deduplicated_and_recounted() -> None:
    groupings = {"g": {"group_by": ["engagement.type"]}}
    answers = [
        {
            "start": "2026-10-01T00:00:00Z",
            "end": "2026-10-29T00:00:00Z",
            "g": {"a": "1"},
            "errors": [
                "2 Tweet ID(s) are unavailable",
                "Video views for tweets older than 1800 days are not supported",
            ],
            "unavailable_tweet_ids": ["9", "10"],
            "unsupported_for_video_views_tweet_ids": ["5"],
        },
        {
            "start": "2026-10-29T00:00:00Z",
            "end": "2026-11-02T00:00:00Z",
            "g": {"a": "-3"},
            "errors": [
                "1 Tweet ID(s) are unavailable",
                "Video views for tweets older than 1800 days are not supported",
            ],
            "unavailable_tweet_ids": ["10"],
            "unsupported_for_video_views_tweet_ids": ["5"],
        },
    ]
    assert merge(answers, groupings, ["100"]) == {
        "start": "2026-10-01T00:00:00Z",
        "end": "2026-11-02T00:00:00Z",
        "g": {"a": -2},
        "errors": [
            "3 Tweet ID(s) are unavailable",
            "Video views for tweets older than 1800 days are not supported",
        ],
        "unavailable_tweet_ids": ["9", "10", "100"],
        "unsupported_for_video_views_tweet_ids": ["5"],
    }


def test_hour_of_day_sums_across_windows() -> None:
    groupings = {"h": {"group_by": ["engagement.type", "engagement.hour"]}}
    one = {"h": {"likes": {"00": "1", "23": "4"}}}
    two = {"h": {"likes": {"00": "2", "05": "1"}}}
    assert merge([one, two], groupings)["h"] == {"likes": {"00": 3, "05": 1, "23": 4}}


def test_age_limit_messages_keep_the_servers_order() -> None:
    groupings = {"g": {"group_by": ["engagement.type"]}}
    vv = "Video views for tweets older than 1800 days are not supported"
    ie = "Impressions & engagements for tweets older than 90 days are not supported"
    answers = [
        {"g": {}, "errors": [vv], "unsupported_for_video_views_tweet_ids": ["2"]},
        {
            "g": {},
            "errors": ["1 Tweet ID(s) are unavailable", ie, vv],
            "unavailable_tweet_ids": ["3"],
            "unsupported_for_impressions_engagements_tweet_ids": ["4"],
        },
    ]
    assert merge(answers, groupings)["errors"] == ["1 Tweet ID(s) are unavailable", ie, vv]
