"""The fast path agrees exactly with the precise one, and folding keeps every count."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from engagement_api.contract import metrics
from engagement_api.domain import MediaItem, Post
from engagement_api.ingest import Batch, BatchRejected, FoldedBatch, Format
from engagement_api.ingest.events import RULES, fold_precise
from engagement_api.ingest.fast import decode_rows, fold_fast

from .builders import NOW, post

EARLY = datetime(2026, 11, 26, 9, 40, 17, tzinfo=UTC)  # created mid-hour
POSTS: dict[int, Post] = {
    10: post(10, created=EARLY),
    11: post(11, created=EARLY.replace(minute=0, second=0), media=(MediaItem("7_11", "video"),)),
    12: post(12, created=EARLY + timedelta(microseconds=500_000)),
}
#: JSON number literals that json.dumps cannot write, spliced in by :func:`dump`.
RAW = {"<1E400>": b"1E400", "<-0>": b"-0", "<1e2>": b"1e2", "<-1E400>": b"-1E400"}
TWEET_IDS = [10, "10", " 011 ", 11, 12, "12", 13, "13", "x", 1.5, True, None, -10, 2**64, "<-0>"]
TYPES = [*sorted(RULES), "engagements", "likes", "Favorites", None, 7]


def moments() -> st.SearchStrategy[datetime]:
    return st.datetimes(
        min_value=EARLY.replace(tzinfo=None) - timedelta(hours=2),
        max_value=NOW.replace(tzinfo=None) + timedelta(hours=1),
    ).map(lambda moment: moment.replace(tzinfo=UTC))


@st.composite
def timestamps(draw: st.DrawFn) -> object:
    moment = draw(st.one_of(moments(), st.sampled_from([EARLY, NOW + timedelta(minutes=5)])))
    form = draw(st.integers(0, 9))
    if form == 0:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if form == 1:
        offset = draw(st.sampled_from([1, -3, 14]))
        local = moment + timedelta(hours=offset)
        return (
            local.strftime("%Y-%m-%dT%H:%M:%S")
            + f"{'+' if offset > 0 else '-'}{abs(offset):02d}:00"
        )
    if form == 2:
        return moment.strftime("%Y-%m-%d %H:%M")
    if form == 3:
        return moment.strftime("%Y-%m-%d")
    if form == 4:
        return draw(
            st.sampled_from(
                [
                    "",
                    "nope",
                    "2026-13-01T00:00:00Z",
                    "2026-11-26T10:61:00Z",
                    "2026-11-26T10:15:60Z",
                    " 2026-11-26T10:15:03Z",
                    5,
                    None,
                ]
            )
        )
    if form == 5:
        return moment.strftime("%Y-%m-%dT%H:%M:%Sz")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


counts = st.one_of(
    st.integers(-3, 6),
    st.sampled_from([10**12, -(10**12), 10**12 + 1, 1.0, True, False, "2", None, [1], *RAW]),
)


@st.composite
def events(draw: st.DrawFn) -> object:
    if draw(st.integers(0, 40)) == 0:
        return draw(st.sampled_from([None, 1, "x", [], [{"tweet_id": 10}]]))
    event: dict[str, object] = {}
    for field, values in (
        ("tweet_id", st.sampled_from(TWEET_IDS)),
        ("type", st.sampled_from(TYPES)),
        ("at", timestamps()),
        ("count", counts),
    ):
        if draw(st.integers(0, 12)):
            event[field] = draw(values)
    if draw(st.integers(0, 8)) == 0:
        event["extra"] = draw(st.sampled_from([1, "é", {"a": [1, {"b": None}]}, *RAW]))
    return event


def dump(value: object) -> bytes:
    """Compact JSON, any integer size (IDs over 2**64 must reach the validators), with the
    :data:`RAW` number literals spliced in."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    for marker, literal in RAW.items():
        text = text.replace(b'"' + marker.encode() + b'"', literal)
    return text


@st.composite
def encoded(
    draw: st.DrawFn, values: st.SearchStrategy[object], junk: bool = True, json_too: bool = True
) -> tuple[bytes, Format]:
    """A batch of ``values`` as a JSON array (with ``json_too``, half the time) or NDJSON."""
    batch = draw(st.lists(values, max_size=8))
    if json_too and draw(st.booleans()):
        return dump(batch), Format.JSON
    lines = [dump(value) for value in batch]
    if draw(st.booleans()):
        lines = [
            draw(st.sampled_from([b"", b"  ", b" ", b"\t"]))
            + line
            + draw(st.sampled_from([b"", b" ", b"\r"]))
            for line in lines
        ]
        position = draw(st.integers(0, len(lines)))
        extra = [b"", b"  ", b"\r", b'{"tweet_id":'] if junk else [b"", b"  ", b"\r"]
        lines.insert(position, draw(st.sampled_from(extra)))
    end = draw(st.sampled_from([b"", b"\n", b"\r\n"]))
    separator = draw(st.sampled_from([b"\n", b"\r\n"]))
    return separator.join(lines) + end, Format.NDJSON


def both(
    data: bytes, fmt: Format, now: datetime = NOW
) -> tuple[FoldedBatch | None, FoldedBatch | None]:
    rows = decode_rows(data, fmt)
    fast = None if rows is None else fold_fast(rows, POSTS, now)
    batch = Batch(data, fmt, "events")
    try:
        precise = fold_precise(batch.records, POSTS, now, batch.errors)
    except BatchRejected:
        precise = None
    return fast, precise


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(encoded(events()))
@example((b'{"tweet_id":10,"type":"favorites","at":"2026-11-26T09:40:17Z"}', Format.NDJSON))
@example((b'{"tweet_id":12,"type":"favorites","at":"2026-11-26T09:40:17Z"}', Format.NDJSON))
@example((b'{"tweet_id":10,"type":"favorites","at":"2026-11-26T12:35:00Z"}', Format.NDJSON))
@example((b'{"tweet_id":10,"type":"favorites","at":"2026-11-26T12:35:01Z"}', Format.NDJSON))
@example(
    (b'{"tweet_id":10,"type":"favorites","at":"2026-11-26T10:00:00Z","x":1E400}', Format.NDJSON)
)
def test_fast_path_equals_precise_path(case: tuple[bytes, Format]) -> None:
    fast, precise = both(*case)
    assert fast == precise


VALID = st.fixed_dictionaries(
    {
        "tweet_id": st.sampled_from([10, "10", 11, "12"]),
        "type": st.sampled_from(sorted(RULES)),
        "at": moments()
        .filter(lambda m: EARLY + timedelta(seconds=1) <= m <= NOW + timedelta(minutes=5))
        .map(lambda m: m.strftime("%Y-%m-%dT%H:%M:%SZ")),
    },
    optional={"count": st.integers(1, 10**6)},
).map(
    lambda e: (
        e
        if e["type"] != "video_views" or str(e["tweet_id"]) == "11"
        else {**e, "type": "media_views"}
    )
)


def with_undo(event: dict[str, object]) -> dict[str, object]:
    rule = RULES[str(event["type"])]
    if rule.undoable and int(str(event.get("count", 1))) % 3 == 0:
        return {**event, "count": -int(str(event.get("count", 1)))}
    return event


@settings(max_examples=300)
@given(encoded(VALID.map(with_undo), junk=False))
def test_valid_batches_fold_on_the_fast_path(case: tuple[bytes, Format]) -> None:
    fast, precise = both(*case)
    assert fast is not None
    assert fast == precise


@settings(max_examples=300)
@given(st.lists(VALID.map(with_undo), max_size=30))
def test_folding_keeps_every_count(batch: list[dict[str, object]]) -> None:
    folded = fold_fast(decode_rows(dump(batch), Format.JSON) or [], POSTS, NOW)
    assert folded is not None
    assert folded.events == len(batch)
    assert 0 not in folded.deltas.values()
    sent: Counter[int] = Counter()
    for event in batch:
        rule = RULES[str(event["type"])]
        count = int(str(event.get("count", 1)))
        if rule.code is not None:
            sent[rule.code] += count
        if rule.engagement and count > 0:
            sent[metrics.ENGAGEMENTS.code] += count
    folded_sums: Counter[int] = Counter()
    for (_, code, _), value in folded.deltas.items():
        folded_sums[code] += value
    assert +folded_sums == +sent
    assert {code for code, value in sent.items() if value} >= {c for c in folded_sums}


@pytest.mark.parametrize(
    "data",
    [
        # each line on its own is invalid, though the whole decodes as a stream of values
        b'{"tweet_id":10,"type":"favorites","at":"2026-11-26T10:00:00Z","x":[{}\n{}]}\n',
        b'{"tweet_id":10,"type":"favorites","at":"2026-11-26T10:00:00Z","x":\n1}\n',
        b'{"tweet_id":10,"type":"favorites","at":"2026-11-26T10:00:00Z"} '
        b'{"tweet_id":10,"type":"favorites","at":"2026-11-26T10:00:00Z"}\n',
        b'{"tweet_id":10,"type":"favorites","at":"2026-11-26T10:00:00Z"}\n'
        b'{"tweet_id":10,"type":"favorites","at":"2026-11-26T10:00:00Z"}\r'
        b'{"tweet_id":10,"type":"favorites","at":"2026-11-26T10:00:00Z"}\n',
        b'{"tweet_id":10,"type":"favorites","at":"2026-11-26T10:00:00Z","x":"\xff"}\n',
    ],
)
def test_lines_that_do_not_stand_alone_are_refused_by_both_paths(data: bytes) -> None:
    assert both(data, Format.NDJSON) == (None, None)


def test_csv_rows_are_typed_for_the_fast_path() -> None:
    data = (
        b"tweet_id,type,at,count\n"
        b"10,favorites,2026-11-26T10:00:00Z,\n"
        b"10,favorites,2026-11-26T10:00:00Z,-1\n"
    )
    rows = decode_rows(data, Format.CSV)
    assert rows is not None and [row.count for row in rows] == [None, -1]
    assert decode_rows(data.replace(b"-1", b"x"), Format.CSV) is None
    assert decode_rows(b"tweet_id,type\n1,2\n", Format.CSV) is None
