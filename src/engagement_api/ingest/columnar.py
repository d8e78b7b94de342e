"""The columnar path for NDJSON event batches: parsed and folded by polars (compiled, all cores).

This is the first of three paths (then :mod:`~engagement_api.ingest.fast`, then the precise
:mod:`~engagement_api.ingest.events`). Like the fast path it never explains a problem: it takes
the common, plain shape of a batch and gives up (None) on anything else, so that a later path
decides. On a batch it takes it gives exactly the fold of the precise path (a Hypothesis test
holds it to that).

What it takes: UTF-8 NDJSON with no blank line, no ``\r`` and no backslash anywhere (so no
escaped key or value can read differently from its bytes); each line an object that names
``tweet_id``, ``type`` and ``at`` exactly once and ``count`` at most once (and not as null), and
uses none of those names for anything else, with ``tweet_id`` a string literal; ``at`` in the
form ``YYYY-MM-DDTHH:MM:SSZ``. Polars reads duplicate keys first-wins where JSON readers take
the last, and turns numbers into strings (``1.0`` into ``"1"``): the per-line name count and the
string ``tweet_id`` rule out both. A ``count`` must be written as a JSON integer (checked on
the line: some polars versions read ``1.0`` or ``true`` into an integer column); ``type`` and
``at`` values that were not strings cannot pass the checks below. (The columnar and store
tests pass with polars 1.20, the lowest version ``pyproject.toml`` allows, and with 2.1.)

The rules themselves are those of the precise path: IDs and type names are checked in Python,
once per distinct value, by the same functions; times, ranges, counts and the video rule are
checked on whole columns.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Final

import polars as pl

from engagement_api.contract.ids import IdError, parse_id, to_signed
from engagement_api.contract.metrics import BY_CODE
from engagement_api.contract.times import EPOCH
from engagement_api.domain import Post
from engagement_api.ingest.events import (
    ENGAGEMENTS_CODE,
    FUTURE_TOLERANCE,
    MAX_COUNT,
    RULES,
    FoldedBatch,
)
from engagement_api.ingest.text import strip_bom, utf8_problem
from engagement_api.store.deltas import DeltaTable

_SCHEMA: Final = {"tweet_id": pl.String, "type": pl.String, "at": pl.String, "count": pl.Int64}
#: Bytes that send a batch to the next path: escapes (a key or value could differ from its
#: bytes), carriage returns (line splitting), the column separator below. (A blank line inside
#: the batch is a null line below and a skipped one in ``read_ndjson``: the counts differ.)
_REFUSED: Final = (b"\\", b"\r", b"\x1f")
_SEPARATOR: Final = "\x1f"
#: Each line must name each field once (``count`` only when it is not null) and nothing else by
#: those names, and give ``tweet_id`` as a string literal.
_NAMES: Final = r'"(?:tweet_id|type|at|count)"'
_STRING_ID: Final = r'"tweet_id": ?"'
#: A ``count`` that is there must be written as a JSON integer (some polars versions read
#: ``1.0`` or ``true`` into an integer column).
_INTEGER_COUNT: Final = r'"count": ?-?(?:0|[1-9][0-9]*)[,} ]'
_AT_FORM: Final = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z$"
_AT_FORMAT: Final = "%Y-%m-%dT%H:%M:%SZ"
_HOUR_US: Final = 3_600_000_000
_HOUR_OFFSET: Final = 2**25  # hours in the fold key: 1970 +- 3800 years
_METRIC_UNIT: Final = 2**26
_RANK_UNIT: Final = 2**32
assert max(BY_CODE) < _RANK_UNIT // _METRIC_UNIT


def _micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def read_frame(data: bytes) -> pl.DataFrame | None:
    """The batch as a frame of its four fields, or None when it is not of the plain shape."""
    data = strip_bom(data)
    if not data.startswith(b"{") or any(byte in data for byte in _REFUSED):
        return None
    if utf8_problem(data) is not None:
        return None
    line = pl.col("line")
    try:
        lines = pl.read_csv(
            io.BytesIO(data),
            has_header=False,
            separator=_SEPARATOR,
            quote_char=None,
            schema={"line": pl.String},
        ).select(
            shape=line.str.starts_with("{")
            & line.str.ends_with("}")
            & line.str.contains(_STRING_ID),
            names=line.str.count_matches(_NAMES),
            integer_count=line.str.contains(_INTEGER_COUNT),
        )
        frame = pl.read_ndjson(io.BytesIO(data), schema=_SCHEMA)
    except (pl.exceptions.PolarsError, RuntimeError):  # (older polars: some as RuntimeError)
        return None
    shape = lines.get_column("shape")
    if frame.height != lines.height or frame.height == 0 or shape.has_nulls():
        return None
    has_count = frame.get_column("count").is_not_null()
    present = 3 + has_count.cast(pl.UInt32)
    if not shape.all() or not (lines.get_column("names") == present).all():
        return None
    if not (lines.get_column("integer_count") | ~has_count).all():
        return None
    if any(frame.get_column(name).has_nulls() for name in ("tweet_id", "type", "at")):
        return None
    return frame


def frame_post_ids(frame: pl.DataFrame) -> set[int] | None:
    """The Post IDs of the batch, or None when a ``tweet_id`` is not a valid ID."""
    ids = set()
    for raw in frame.get_column("tweet_id").unique().to_list():
        try:
            ids.add(parse_id(raw))
        except IdError:
            return None
    return ids


def fold_frame(frame: pl.DataFrame, posts: Mapping[int, Post], now: datetime) -> FoldedBatch | None:
    """Validate and fold a frame from :func:`read_frame`; None at the first problem."""
    by_id: dict[int, tuple[list[str], Post]] = {}
    for raw in frame.get_column("tweet_id").unique().to_list():
        try:
            post = posts.get(parse_id(raw))
        except IdError:
            return None
        if post is None:
            return None
        by_id.setdefault(to_signed(post.id), ([], post))[0].append(raw)
    # Posts ranked by signed ID: a delta's key (rank, metric, hour) sorts as the tables do.
    signed_ids = sorted(by_id)
    post_table = pl.DataFrame(
        [
            (raw, rank, _micros(post.created_at), post.video_key is not None)
            for rank, signed in enumerate(signed_ids)
            for raws, post in [by_id[signed]]
            for raw in raws
        ],
        schema={
            "tweet_id": pl.String,
            "rank": pl.Int64,
            "created": pl.Int64,
            "has_video": pl.Boolean,
        },
        orient="row",
    )
    rules = []
    for name in frame.get_column("type").unique().to_list():
        rule = RULES.get(name)
        if rule is None:
            return None
        rules.append((name, rule.code or 0, rule.engagement, rule.undoable, rule.video))
    type_table = pl.DataFrame(
        rules,
        schema={
            "type": pl.String,
            "metric": pl.Int64,
            "engagement": pl.Boolean,
            "undoable": pl.Boolean,
            "video": pl.Boolean,
        },
        orient="row",
    )

    c = pl.col
    at = c("at")
    events = (
        frame.lazy()
        .join(post_table.lazy(), on="tweet_id", how="inner")
        .join(type_table.lazy(), on="type", how="inner")
        .select(
            "rank",
            "created",
            "has_video",
            "metric",
            "engagement",
            "undoable",
            "video",
            form=at.str.contains(_AT_FORM),
            us=at.str.strptime(pl.Datetime("us", "UTC"), _AT_FORMAT, strict=False).dt.epoch("us"),
            count=c("count").fill_null(1),
        )
        .collect()
    )
    if events.height != frame.height:
        return None

    limit = _micros(now + FUTURE_TOLERANCE)
    count = c("count")
    bad = events.select(
        (~c("form")).any()
        | c("us").is_null().any()
        | (c("us") < c("created")).any()
        | (c("us") > limit).any()
        | (count == 0).any()
        | (count.abs() > MAX_COUNT).any()
        | ((count < 0) & ~c("undoable")).any()
        | (c("video") & ~c("has_video")).any()
    ).item()
    if bad:
        return None

    # Fold on one integer key: rank * 2^32 + metric * 2^26 + (hour + 2^25).
    hour = c("us") // _HOUR_US + _HOUR_OFFSET
    first, last = events.select(hour.min().alias("first"), hour.max().alias("last")).row(0)
    if first < 0 or last >= _METRIC_UNIT:
        return None  # hours this key cannot hold (before the year -1800): the row paths fold
    base = c("rank") * _RANK_UNIT + hour
    own = (
        events.lazy()
        .filter(c("metric") != 0)
        .select(key=base + c("metric") * _METRIC_UNIT, count=count)
    )
    engagements = (
        events.lazy()
        .filter(c("engagement") & (count > 0))
        .select(key=base + ENGAGEMENTS_CODE * _METRIC_UNIT, count=count)
    )
    key = c("key")
    deltas = (
        pl.concat([own, engagements])
        .group_by("key")
        .agg(count.sum())
        .filter(count != 0)
        .sort("key")
        .select(
            post_id=pl.lit(pl.Series(signed_ids, dtype=pl.Int64)).gather(key // _RANK_UNIT),
            metric=key // _METRIC_UNIT % (_RANK_UNIT // _METRIC_UNIT),
            hour=key % _METRIC_UNIT - _HOUR_OFFSET,
            count=count,
        )
        .collect()
    )
    return FoldedBatch(frame.height, DeltaTable(deltas))
