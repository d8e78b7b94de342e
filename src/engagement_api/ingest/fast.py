"""The fast path for event batches: typed decoding of the whole batch, then one tight loop.

It never explains a problem: at the first sign of one it gives up (returns None) and the caller
runs the precise path (:mod:`engagement_api.ingest.events`), which lists every bad line. On a
valid batch both paths give the same :class:`FoldedBatch`; a Hypothesis test holds them to it.

Where the speed comes from:

- msgspec decodes straight into :class:`EventRow` structs, which also type-checks the fields
  (``count`` an integer, not a boolean or a float).
- NDJSON in canonical form (every newline between a ``}`` and a ``{``) is decoded in one
  ``decode_lines`` call. Inside a JSON value a ``}`` can only be followed by ``,``, ``}`` or
  ``]``, so in a batch that decodes, each such newline lies between two top-level values; with
  as many values as lines, each line then holds exactly one value, as line-by-line decoding
  would see it. Other NDJSON (blank lines, trailing spaces) is decoded line by line.
- The Post of a ``tweet_id`` is looked up once per distinct value sent; the hour of an ``at`` in
  the common ``YYYY-MM-DDTHH:MM:SSZ`` form once per ``YYYY-MM-DDTHH`` prefix (other forms are
  parsed in full). Exact time comparisons are made only in the Post's creation hour and in the
  hour of ``now`` + 5 minutes; every other hour is wholly inside or outside the allowed range.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import msgspec

from engagement_api.contract.ids import IdError, parse_id
from engagement_api.contract.times import TimeFormatError, hour_index, parse_timestamp
from engagement_api.domain import Post
from engagement_api.ingest.csvrows import decode_csv
from engagement_api.ingest.events import (
    ENGAGEMENTS_CODE,
    FUTURE_TOLERANCE,
    MAX_COUNT,
    RULES,
    FoldedBatch,
    Key,
    drop_zeros,
)
from engagement_api.ingest.records import Format, Kind
from engagement_api.ingest.text import is_blank, strip_bom, utf8_problem


class EventRow(msgspec.Struct, gc=False):
    """One event as sent (None: left out or null)."""

    tweet_id: str | int | None = None
    type: str | None = None
    at: str | None = None
    count: int | None = None


_ROW = msgspec.json.Decoder(EventRow)
_ARRAY = msgspec.json.Decoder(list[EventRow])

#: The tail of the common timestamp form after its ``YYYY-MM-DDTHH`` prefix.
_SUFFIXES = frozenset(f":{m:02d}:{s:02d}Z" for m in range(60) for s in range(60))
_PREFIX = 13

#: type name -> (own metric code or 0 for none, counts into engagements, undoable, needs video)
_RULES: dict[str | None, tuple[int, bool, bool, bool]] = {
    name: (rule.code or 0, rule.engagement, rule.undoable, rule.video)
    for name, rule in RULES.items()
}

#: raw tweet_id -> (post id, creation hour, has a video, created_at)
_PostInfo = tuple[int, int, bool, datetime]


def decode_rows(data: bytes, fmt: Format | str) -> list[EventRow] | None:
    """Every event of a batch as a typed row, or None when some line does not decode so."""
    fmt = Format(fmt)
    data = strip_bom(data)
    if utf8_problem(data) is not None:
        return None
    try:
        if fmt is Format.JSON:
            return _ARRAY.decode(data)
        if fmt is Format.NDJSON:
            return _ndjson_rows(data)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return None
    return _csv_rows(data)


def _ndjson_rows(data: bytes) -> list[EventRow]:
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n")
    lines = data.count(b"\n") + 1
    if data.endswith(b"\n"):
        lines -= 1
        closed = data.endswith(b"}\n")
    else:
        closed = data.endswith(b"}")
    if closed and data.startswith(b"{") and data.count(b"}\n{") == lines - 1:
        rows = _ROW.decode_lines(data)
        if len(rows) == lines:
            return rows
    return [_ROW.decode(line) for line in data.split(b"\n") if not is_blank(line)]


def _csv_rows(data: bytes) -> list[EventRow] | None:
    decoded = decode_csv(data, Kind.EVENTS)
    if decoded.errors:
        return None
    rows = []
    for _, record in decoded.records:
        assert isinstance(record, dict)
        count = record.get("count")
        if count is not None and not isinstance(count, int):
            return None
        rows.append(EventRow(record.get("tweet_id"), record.get("type"), record.get("at"), count))
    return rows


def _post_info(raw: object, posts: Mapping[int, Post]) -> _PostInfo | None:
    try:
        post_id = parse_id(raw)
    except IdError:
        return None
    post = posts.get(post_id)
    if post is None:
        return None
    created = post.created_at
    return post_id, hour_index(created), post.video_key is not None, created


def _slow_hour(at: str, hours: dict[str, int]) -> int | None:
    try:
        hour = hour_index(parse_timestamp(at))
    except TimeFormatError:
        return None
    if at[_PREFIX:] in _SUFFIXES:
        hours[at[:_PREFIX]] = hour
    return hour


def _in_range(at: str, created: datetime, limit: datetime) -> bool:
    return created <= parse_timestamp(at) <= limit


def fold_fast(
    rows: Sequence[EventRow], posts: Mapping[int, Post], now: datetime
) -> FoldedBatch | None:
    """Validate and fold typed rows; None at the first problem (the precise path explains)."""
    limit = now + FUTURE_TOLERANCE
    limit_hour = hour_index(limit)
    rules = _RULES
    suffixes = _SUFFIXES
    found: dict[object, _PostInfo] = {}
    hours: dict[str, int] = {}
    deltas: dict[Key, int] = {}
    get = deltas.get
    engagements = ENGAGEMENTS_CODE
    undone = False
    for row in rows:
        raw = row.tweet_id
        info = found.get(raw)
        if info is None:
            info = _post_info(raw, posts)
            if info is None:
                return None
            found[raw] = info
        post_id, created_hour, has_video, created = info
        rule = rules.get(row.type)
        if rule is None:
            return None
        code, engagement, undoable, video = rule
        at = row.at
        if at is None:
            return None
        hour = hours.get(at[:_PREFIX])
        if hour is None or at[_PREFIX:] not in suffixes:
            hour = _slow_hour(at, hours)
            if hour is None:
                return None
        if (hour <= created_hour or hour >= limit_hour) and not _in_range(at, created, limit):
            return None
        count = row.count
        if count is None:
            count = 1
        elif count <= 0:
            if count == 0 or not undoable or count < -MAX_COUNT:
                return None
            undone = True
        elif count > MAX_COUNT:
            return None
        if video and not has_video:
            return None
        if code:
            key = (post_id, code, hour)
            deltas[key] = get(key, 0) + count
        if engagement and count > 0:
            key = (post_id, engagements, hour)
            deltas[key] = get(key, 0) + count
    return FoldedBatch(len(rows), drop_zeros(deltas) if undone else deltas)
