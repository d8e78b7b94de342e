"""Posts: authors, immutable fields, media, flags, merging of repeated records."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engagement_api.domain import MediaItem, PostRecord
from engagement_api.ingest import BatchRejected, validate_posts
from engagement_api.ingest.decode import numbered

from .builders import CREATED, post

USERS = {42, 43}
STORED = {500: post(500, author_id=42)}


def tweet(**fields: object) -> dict[str, object]:
    record: dict[str, object] = {
        "id": "600",
        "author_id": "42",
        "created_at": "2026-11-20T08:15:00Z",
    }
    record.update(fields)
    return record


def test_fields_left_out_are_none() -> None:
    assert validate_posts(numbered([tweet()]), USERS, STORED) == [
        PostRecord(600, 42, CREATED, None, None, None)
    ]


def test_every_field() -> None:
    record = tweet(
        id=600,
        author_id=43,
        created_at="2026-11-20T10:15:00+02:00",
        media=[
            {"media_key": " 7_600 ", "type": "video"},
            {"media_key": "3_1", "type": "photo", "extra": 1},
        ],
        protected=True,
        deleted=False,
    )
    assert validate_posts(numbered([record]), USERS, STORED) == [
        PostRecord(
            600, 43, CREATED, (MediaItem("7_600", "video"), MediaItem("3_1", "photo")), True, False
        )
    ]


def test_null_fields_are_left_out_and_empty_media_clears() -> None:
    record = tweet(media=[], protected=None, deleted=None)
    assert validate_posts(numbered([record]), USERS, STORED) == [
        PostRecord(600, 42, CREATED, (), None, None)
    ]


def test_reloading_a_stored_post_keeps_author_and_created_at() -> None:
    record = tweet(id="500", deleted=True)
    assert validate_posts(numbered([record]), USERS, STORED) == [
        PostRecord(500, 42, CREATED, None, None, True)
    ]


def test_repeated_records_merge_in_order() -> None:
    records = [
        tweet(media=[{"media_key": "3_1", "type": "photo"}], protected=True),
        tweet(id="601"),
        tweet(deleted=True, protected=False),
    ]
    assert validate_posts(numbered(records), USERS, STORED) == [
        PostRecord(600, 42, CREATED, (MediaItem("3_1", "photo"),), False, True),
        PostRecord(601, 42, CREATED, None, None, None),
    ]


@pytest.mark.parametrize(
    ("records", "messages"),
    [
        ([tweet(author_id="99")], ['line 1: author_id "99": User not loaded']),
        ([tweet(author_id=None)], ["line 1: author_id: is required"]),
        ([tweet(id="x")], ['line 1: id "x": must be a string of decimal digits']),
        (
            [tweet(created_at="yesterday")],
            [
                'line 1: created_at "yesterday": must be a date or date-time such as '
                "2026-10-01T12:00:00Z"
            ],
        ),
        ([tweet(created_at=None)], ["line 1: created_at: is required"]),
        (
            [tweet(id="500", author_id="43")],
            ['line 1: author_id "43": differs from the loaded Post\'s author_id 42'],
        ),
        (
            [tweet(id="500", created_at="2026-11-20T08:15:01Z")],
            [
                'line 1: created_at "2026-11-20T08:15:01Z": differs from the loaded Post\'s '
                "created_at 2026-11-20T08:15:00Z"
            ],
        ),
        (
            [tweet(), tweet(author_id="43")],
            ['line 2: author_id "43": differs from author_id 42 on line 1'],
        ),
        (
            [tweet(), tweet(created_at="2026-11-21")],
            [
                'line 2: created_at "2026-11-21": differs from created_at 2026-11-20T08:15:00Z '
                "on line 1"
            ],
        ),
        ([tweet(protected="yes")], ['line 1: protected "yes": must be true or false']),
        ([tweet(deleted=0)], ["line 1: deleted 0: must be true or false"]),
        (
            [tweet(media="7_1")],
            ['line 1: media "7_1": must be an array of objects with media_key and type'],
        ),
        (
            [tweet(media=["7_1"])],
            ['line 1: media[0] "7_1": must be an object with media_key and type'],
        ),
        ([tweet(media=[{"type": "video"}])], ["line 1: media[0].media_key: is required"]),
        (
            [tweet(media=[{"media_key": " ", "type": "video"}])],
            ['line 1: media[0].media_key " ": must be a non-empty string'],
        ),
        (
            [tweet(media=[{"media_key": 7, "type": "video"}])],
            ["line 1: media[0].media_key 7: must be a non-empty string"],
        ),
        (
            [tweet(media=[{"media_key": "3_1", "type": "photo"}, {"media_key": "7_1"}])],
            ["line 1: media[1].type: is required"],
        ),
        (
            [tweet(media=[{"media_key": "7_1", "type": "gif"}])],
            ['line 1: media[0].type "gif": must be photo, video or animated_gif'],
        ),
        ([5], ["line 1: must be a JSON object, not a number"]),
    ],
)
def test_bad_lines(records: list[object], messages: list[str]) -> None:
    with pytest.raises(BatchRejected) as caught:
        validate_posts(numbered(records), USERS, STORED)
    assert caught.value.messages == messages


def test_created_at_is_compared_as_a_moment() -> None:
    stored = {500: post(500, created=datetime(2026, 11, 20, 8, 15, tzinfo=UTC))}
    record = tweet(id="500", created_at="2026-11-20T09:15:00+01:00")
    assert validate_posts(numbered([record]), USERS, stored)[0].created_at == CREATED
