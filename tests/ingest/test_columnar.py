"""The columnar path (polars) agrees exactly with the precise one, or steps aside."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from engagement_api.ingest import Batch, BatchRejected, FoldedBatch, Format, validate_events
from engagement_api.ingest.batch import COLUMNAR_MIN_BYTES
from engagement_api.ingest.columnar import fold_frame, frame_post_ids, read_frame
from engagement_api.ingest.events import fold_precise
from engagement_api.store.deltas import DeltaTable

from .builders import NOW
from .test_fast import POSTS, VALID, dump, encoded, events, with_undo


def columnar(data: bytes, now: datetime = NOW) -> FoldedBatch | None:
    frame = read_frame(data)
    if frame is None or frame_post_ids(frame) is None:
        return None
    return fold_frame(frame, POSTS, now)


def precise(data: bytes, now: datetime = NOW) -> FoldedBatch | None:
    batch = Batch(data, Format.NDJSON, "events")
    try:
        return fold_precise(batch.records, POSTS, now, batch.errors)
    except BatchRejected:
        return None


def line(**fields: object) -> bytes:
    return json.dumps(fields, separators=(",", ":")).encode()


GOOD = line(tweet_id="10", type="favorites", at="2026-11-26T10:00:00Z")


# NDJSON only (the columnar path reads nothing else): 300 examples are as many NDJSON batches as
# the 600 of encoded(events()) were, half of which were JSON arrays, returned from at once.
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(encoded(events(), json_too=False))
def test_columnar_path_never_disagrees_with_the_precise_path(case: tuple[bytes, Format]) -> None:
    data, fmt = case
    assert fmt is Format.NDJSON
    taken = columnar(data)
    if taken is not None:
        assert taken == precise(data)


def as_strings(event: dict[str, object]) -> dict[str, object]:
    return {**event, "tweet_id": str(event["tweet_id"])}


@settings(max_examples=300)
@given(st.lists(VALID.map(with_undo).map(as_strings), min_size=1, max_size=30))
def test_plain_valid_batches_take_the_columnar_path(batch: list[dict[str, object]]) -> None:
    lines = [dump(event) for event in batch]
    for data in (b"\n".join(lines), b"\n".join(lines) + b"\n"):
        taken = columnar(data)
        assert taken is not None
        assert taken == precise(data)
        assert isinstance(taken.deltas, DeltaTable)
        assert taken.events == len(batch)


@pytest.mark.parametrize(
    "data",
    [
        # duplicate keys: polars would read the first, JSON readers take the last
        b'{"tweet_id":"10","type":"favorites","type":"video_views","at":"2026-11-26T10:00:00Z"}',
        b'{"tweet_id":"10","type":"favorites","at":"2026-11-26T10:00:00Z","count":1,"count":-1}',
        b'{"tweet_id":"10","tweet_id":"11","type":"favorites","at":"2026-11-26T10:00:00Z"}',
        # numbers that polars would turn into ID strings
        b'{"tweet_id":10.0,"type":"favorites","at":"2026-11-26T10:00:00Z"}',
        b'{"tweet_id":1e1,"type":"favorites","at":"2026-11-26T10:00:00Z"}',
        # counts that are not JSON integers
        b'{"tweet_id":"10","type":"favorites","at":"2026-11-26T10:00:00Z","count":1.0}',
        b'{"tweet_id":"10","type":"favorites","at":"2026-11-26T10:00:00Z","count":true}',
        b'{"tweet_id":"10","type":"favorites","at":"2026-11-26T10:00:00Z","count":"2"}',
        # escapes, control characters, an invalid line
        b'{"tweet_id":"10","typ\\u0065":"favorites","at":"2026-11-26T10:00:00Z"}',
        b'{"tweet_id":"10\t","type":"favorites","at":"2026-11-26T10:00:00Z"}',
        b'{"tweet_id":"10","type":"favorites","at":"2026-11-26T10:00:00Z",}',
        # times out of the form or of range
        b'{"tweet_id":"10","type":"favorites","at":"2026-11-26T10:00:60Z"}',
        b'{"tweet_id":"10","type":"favorites","at":"2026-11-26T24:00:00Z"}',
        b'{"tweet_id":"10","type":"favorites","at":"2026-02-30T10:00:00Z"}',
        b'{"tweet_id":"10","type":"favorites","at":"2026-11-26T09:40:16Z"}',  # before created
        b'{"tweet_id":"12","type":"favorites","at":"2026-11-26T09:40:17Z"}',  # 0.5 s before
        b'{"tweet_id":"10","type":"favorites","at":"2026-11-26T12:35:01Z"}',  # > now + 5 min
        # rules of types and counts
        b'{"tweet_id":"10","type":"video_views","at":"2026-11-26T10:00:00Z"}',
        b'{"tweet_id":"10","type":"impressions","at":"2026-11-26T10:00:00Z","count":-1}',
        b'{"tweet_id":"10","type":"favorites","at":"2026-11-26T10:00:00Z","count":0}',
        b'{"tweet_id":"10","type":"favorites","at":"2026-11-26T10:00:00Z","count":1000000000001}',
        b'{"tweet_id":"10","type":"engagements","at":"2026-11-26T10:00:00Z"}',
        b'{"tweet_id":"13","type":"favorites","at":"2026-11-26T10:00:00Z"}',  # not loaded
        b'{"tweet_id":"x","type":"favorites","at":"2026-11-26T10:00:00Z"}',
        b'{"tweet_id":"10","type":"favorites","at":"2026-11-26T10:00:00Z","count":null}',
        b'{"tweet_id":"10","type":"favorites","at":"2026-11-26T10:00:00Z","note":"at"}',
        GOOD + b"\n\n" + GOOD,
        GOOD + b"\r\n" + GOOD,
        b"[" + GOOD + b"]",
    ],
)
def test_other_shapes_and_bad_lines_step_aside(data: bytes) -> None:
    assert columnar(GOOD + b"\n" + data + b"\n") is None


@example(b"2026-11-26T09:40:17Z")  # the creation second of Post 10
@example(b"2026-11-26T12:35:00Z")  # now + 5 minutes exactly
@given(st.sampled_from([b"2026-11-26T09:40:17Z", b"2026-11-26T12:35:00Z", b"2026-11-26T11:59:59Z"]))
def test_range_limits_are_inclusive_as_on_the_precise_path(at: bytes) -> None:
    data = b'{"tweet_id":"10","type":"favorites","at":"' + at + b'"}'
    taken = columnar(data)
    assert taken is not None
    assert taken == precise(data)


def test_large_plain_batches_are_folded_in_columns_through_validate_events() -> None:
    lines = [
        line(
            tweet_id=str(10 + i % 3), type="impressions", at=f"2026-11-26T1{i % 2}:{i % 60:02d}:00Z"
        )
        for i in range(COLUMNAR_MIN_BYTES // 40)
    ]
    batch = Batch(b"\n".join(lines) + b"\n", Format.NDJSON, "events")
    assert batch.event_frame is not None
    folded = validate_events(batch, POSTS, NOW)
    assert isinstance(folded.deltas, DeltaTable)
    assert folded == precise(batch.data)
    assert sum(folded.deltas.values()) == len(lines)


def test_delta_tables_sum_and_drop_zeros() -> None:
    one = DeltaTable.from_mapping({(10, 3, 5): 2, (2**64 - 1, 3, 5): 1})
    two = DeltaTable.from_mapping({(10, 3, 5): -2, (11, 3, 6): 4})
    summed = DeltaTable.sum([one, two])
    assert summed == {(2**64 - 1, 3, 5): 1, (11, 3, 6): 4}
    # key order is the signed one, as the tables store it: 2**64 - 1 is -1
    assert [row[0] for row in summed.rows()] == [-1, 11]
    assert DeltaTable.sum([{}]) == {}
    assert summed.totals() == [(-1, 3, 1), (11, 3, 4)]
