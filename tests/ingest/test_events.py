"""Events: the rules of each line (exact messages) and folding into hourly deltas."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engagement_api.contract import metrics
from engagement_api.ingest import Batch, BatchRejected, FoldedBatch, validate_events
from engagement_api.ingest.decode import numbered

from .builders import GIF, MISSING_POST, NOW, PLAIN, VIDEO, catalog, event, event_batch, hour

ENG = metrics.ENGAGEMENTS.code
FAV = metrics.METRICS["favorites"].code
IMP = metrics.IMPRESSIONS.code
H10 = hour("2026-11-26T10")
UNDO = "may be negative only for favorites, retweets, quote_tweets, replies"
BOTH = pytest.mark.parametrize("as_batch", [True, False], ids=["bytes", "records"])


def fold(*events: object, as_batch: bool = True) -> FoldedBatch:
    source = event_batch(*events) if as_batch else numbered(list(events))
    return validate_events(source, catalog(), NOW)


def messages(*events: object, as_batch: bool = True) -> list[str]:
    with pytest.raises(BatchRejected) as caught:
        fold(*events, as_batch=as_batch)
    return caught.value.messages


@BOTH
@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        (
            event(tweet_id=str(MISSING_POST)),
            ['line 2: tweet_id "1869999999999999998": Post not loaded'],
        ),
        (event(tweet_id=MISSING_POST), ["line 2: tweet_id 1869999999999999998: Post not loaded"]),
        (event(tweet_id="12ab"), ['line 2: tweet_id "12ab": must be a string of decimal digits']),
        (
            event(tweet_id=1.0),
            ["line 2: tweet_id 1.0: must be a string of digits or an integer, not a float"],
        ),
        (event(tweet_id=None), ["line 2: tweet_id: is required"]),
        (event(type="likes"), ['line 2: type "likes": is not an engagement type']),
        (
            event(type="engagements"),
            ['line 2: type "engagements": is derived from the other types and is never sent'],
        ),
        (event(type=["favorites"]), ['line 2: type ["favorites"]: must be a string']),
        (event(type=None), ["line 2: type: is required"]),
        (
            event(at="yesterday"),
            ['line 2: at "yesterday": must be a date or date-time such as 2026-10-01T12:00:00Z'],
        ),
        (
            event(at=1764150000),
            ["line 2: at 1764150000: must be a string such as 2026-10-01 or 2026-10-01T12:00:00Z"],
        ),
        (
            event(at="2026-02-30T10:00:00Z"),
            ['line 2: at "2026-02-30T10:00:00Z": is not a real date or time'],
        ),
        (event(at=None), ["line 2: at: is required"]),
        (
            event(at="2026-11-20T08:14:59Z"),
            [
                'line 2: at "2026-11-20T08:14:59Z": precedes the Post\'s created_at '
                "2026-11-20T08:15:00Z"
            ],
        ),
        (
            event(at="2026-11-26T12:35:01Z"),
            ['line 2: at "2026-11-26T12:35:01Z": is more than 5 minutes in the future'],
        ),
        (
            event(at="2026-11-26T13:35:00+01:00:00"),
            [
                'line 2: at "2026-11-26T13:35:00+01:00:00": must be a date or date-time such as '
                "2026-10-01T12:00:00Z"
            ],
        ),
        (event(count=0), ["line 2: count 0: must not be zero"]),
        (event(count=1.0), ["line 2: count 1.0: must be an integer"]),
        (event(count=True), ["line 2: count true: must be an integer"]),
        (event(count="3"), ['line 2: count "3": must be an integer']),
        (
            event(count=10**12 + 1),
            ["line 2: count 1000000000001: must be between -1000000000000 and 1000000000000"],
        ),
        (
            event(count=-(10**12) - 1),
            ["line 2: count -1000000000001: must be between -1000000000000 and 1000000000000"],
        ),
        (event(type="impressions", count=-1), [f"line 2: count -1: {UNDO}"]),
        (event(type="media_clicks", count=-1), [f"line 2: count -1: {UNDO}"]),
        (event(type="video_views"), ['line 2: type "video_views": the Post has no video media']),
        (
            event(tweet_id=str(GIF), type="video_views"),
            ['line 2: type "video_views": the Post has no video media'],
        ),
        ("favorites", ["line 2: must be a JSON object, not a string"]),
        (None, ["line 2: must be a JSON object, not null"]),
        (
            {},
            [
                "line 2: tweet_id: is required",
                "line 2: type: is required",
                "line 2: at: is required",
            ],
        ),
        (
            event(tweet_id="x", type="x", at="x", count=0),
            [
                'line 2: tweet_id "x": must be a string of decimal digits',
                'line 2: type "x": is not an engagement type',
                'line 2: at "x": must be a date or date-time such as 2026-10-01T12:00:00Z',
                "line 2: count 0: must not be zero",
            ],
        ),
    ],
)
def test_bad_line(bad: object, expected: list[str], as_batch: bool) -> None:
    assert messages(event(), bad, event(), as_batch=as_batch) == expected


def test_every_bad_line_is_listed_and_blank_lines_keep_numbering() -> None:
    data = b"\n".join(
        [
            b'{"tweet_id":"1060976163948904448","type":"favorites","at":"2026-11-26T10:00:00Z"}',
            b"",
            b'{"tweet_id":"1869999999999999998","type":"favorites","at":"2026-11-26T10:00:00Z"}',
            b"{not json",
            b'{"tweet_id":"1060976163948904448","type":"favorites","at":"2026-11-26T10:00:00Z",'
            b'"count":0}',
        ]
    )
    with pytest.raises(BatchRejected) as caught:
        validate_events(Batch(data, "ndjson", "events"), catalog(), NOW)
    assert caught.value.messages[0] == 'line 3: tweet_id "1869999999999999998": Post not loaded'
    assert caught.value.messages[1].startswith("line 4: invalid JSON: ")
    assert caught.value.messages[2] == "line 5: count 0: must not be zero"


@BOTH
@pytest.mark.parametrize(
    "at",
    [
        "2026-11-20T08:15:00Z",  # exactly created_at
        "2026-11-26T12:35:00Z",  # exactly now + 5 minutes
        "2026-11-26T12:35:00.000000Z",
        "2026-11-26T13:35:00+01:00",
        "2026-11-26T12:35",
        "2026-11-26 12:00:00",
        "2026-11-26",
        " 2026-11-26T10:15:03Z ",
    ],
)
def test_accepted_times(at: str, as_batch: bool) -> None:
    assert fold(event(at=at), as_batch=as_batch).events == 1


@BOTH
def test_folding_derives_engagements_from_positive_engagement_events(as_batch: bool) -> None:
    folded = fold(
        event(type="favorites", at="2026-11-26T10:01:00Z"),
        event(type="favorites", at="2026-11-26T10:59:59Z", count=3),
        event(type="impressions", at="2026-11-26T10:30:00Z", count=100),
        event(type="url_clicks", at="2026-11-26T11:00:00Z", count=2),
        event(tweet_id=VIDEO, type="video_views", at="2026-11-26T10:00:00Z", count=5),
        event(tweet_id=GIF, type="media_views", at="2026-11-26T10:00:00Z"),
        as_batch=as_batch,
    )
    url = metrics.METRICS["url_clicks"].code
    assert folded == FoldedBatch(
        6,
        {
            (PLAIN, FAV, H10): 4,
            (PLAIN, ENG, H10): 4,
            (PLAIN, IMP, H10): 100,
            (PLAIN, url, H10 + 1): 2,
            (PLAIN, ENG, H10 + 1): 2,
            (VIDEO, metrics.VIDEO_VIEWS.code, H10): 5,
            (GIF, metrics.METRICS["media_views"].code, H10): 1,
        },
    )


@BOTH
def test_undo_changes_only_its_own_metric(as_batch: bool) -> None:
    folded = fold(
        event(type="favorites", count=2),
        event(type="favorites", count=-1),
        event(type="retweets", count=-1),
        as_batch=as_batch,
    )
    retweets = metrics.METRICS["retweets"].code
    assert folded.deltas == {
        (PLAIN, FAV, H10): 1,
        (PLAIN, ENG, H10): 2,
        (PLAIN, retweets, H10): -1,
    }


@BOTH
def test_zero_sums_are_dropped(as_batch: bool) -> None:
    folded = fold(event(count=-2), event(count=2), as_batch=as_batch)
    assert folded == FoldedBatch(2, {(PLAIN, ENG, H10): 2})


@BOTH
def test_media_clicks_is_media_engagements(as_batch: bool) -> None:
    code = metrics.METRICS["media_engagements"].code
    folded = fold(event(type="media_clicks"), event(type="media_engagements"), as_batch=as_batch)
    assert folded.deltas == {(PLAIN, code, H10): 2, (PLAIN, ENG, H10): 2}


@BOTH
def test_other_engagements_counts_only_into_engagements(as_batch: bool) -> None:
    folded = fold(event(type="other_engagements", count=7), as_batch=as_batch)
    assert folded.deltas == {(PLAIN, ENG, H10): 7}


@BOTH
def test_ids_may_be_integers_and_counts_default_to_one(as_batch: bool) -> None:
    folded = fold(
        event(tweet_id=PLAIN), event(tweet_id=f" 0{PLAIN} ", count=None), as_batch=as_batch
    )
    assert folded.deltas[(PLAIN, FAV, H10)] == 2


@BOTH
def test_unknown_fields_are_ignored(as_batch: bool) -> None:
    assert fold(event(source="app", extra={"a": [1]}), as_batch=as_batch).events == 1


def test_an_empty_batch_folds_to_nothing() -> None:
    assert validate_events(Batch(b"", "ndjson", "events"), {}, NOW) == FoldedBatch(0, {})
    assert validate_events([], {}, NOW) == FoldedBatch(0, {})


def test_future_tolerance_follows_now() -> None:
    later = NOW + timedelta(hours=1)
    batch = event_batch(event(at="2026-11-26T13:30:00Z"))
    assert validate_events(batch, catalog(), later).events == 1


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_other_formats_fold_the_same(fmt: str) -> None:
    if fmt == "json":
        data = (
            b'[{"tweet_id":"1060976163948904448","type":"favorites",'
            b'"at":"2026-11-26T10:00:00Z","count":2}]'
        )
    else:
        data = b"tweet_id,type,at,count\n1060976163948904448,favorites,2026-11-26T10:00:00Z,2\n"
    folded = validate_events(Batch(data, fmt, "events"), catalog(), NOW)
    assert folded == FoldedBatch(1, {(PLAIN, FAV, H10): 2, (PLAIN, ENG, H10): 2})


def test_csv_bad_lines_are_numbered_with_the_header_as_line_one() -> None:
    data = (
        b"tweet_id,type,at,count\n"
        b"1060976163948904448,favorites,2026-11-26T10:00:00Z,\n"
        b"1060976163948904448,favorites,2026-11-26T10:00:00Z,x\n"
    )
    with pytest.raises(BatchRejected) as caught:
        validate_events(Batch(data, "csv", "events"), catalog(), NOW)
    assert caught.value.messages == ['line 3: count "x": must be an integer']
