"""Engagement events: the precise rules, line by line, and folding into hourly deltas.

This is the reference path: it checks every line, names every problem, and folds. The fast path
(:mod:`engagement_api.ingest.fast`) must give exactly the same result on every valid batch and
give up on every invalid one; tests hold both to that.

Rules (spec ``ingest.md``) and the decisions taken where it is silent:

- ``tweet_id``: an ID (string or JSON integer) of a loaded Post, else ``Post not loaded``.
- ``type``: an ingestible metric name, case-sensitive (``media_clicks`` is read as
  ``media_engagements``); ``engagements`` is refused (derived, never sent).
- ``count``: an integer (not a boolean, not a float such as ``1.0``), default 1, never 0, at most
  :data:`MAX_COUNT` in absolute value (so a 64 MiB batch cannot overflow a 64-bit sum);
  negative only for metrics that can be undone (favorites, retweets, quote_tweets, replies).
- ``at``: an accepted timestamp form, not before the Post's ``created_at``, not more than
  :data:`FUTURE_TOLERANCE` after ``now``.
- ``video_views`` only on a Post with a ``video`` media item.

Folding, keyed ``(post_id, metric_code, hour_index)``:

- every event adds its count to its own metric's hour;
- a positive count of a metric with ``is_engagement`` also adds to ``engagements``;
  negative counts (undo) never touch ``engagements``;
- ``other_engagements`` adds **only** to ``engagements``: it has no row of its own, as no
  endpoint reads it;
- keys whose sum is zero are dropped; ``events`` is the number of lines folded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from engagement_api.contract import metrics
from engagement_api.contract.times import hour_index
from engagement_api.domain import Post
from engagement_api.ingest.errors import MISSING, BatchRejected, LineError
from engagement_api.ingest.fields import LineReader, format_moment
from engagement_api.ingest.records import Record

#: The reason given for an event of a Post that was never loaded.
POST_NOT_LOADED = "Post not loaded"

#: How far past ``now`` an event's ``at`` may lie (clock skew between producers and server).
FUTURE_TOLERANCE: Final = timedelta(minutes=5)

#: Largest absolute ``count`` of one event.
MAX_COUNT: Final = 10**12

ENGAGEMENTS_CODE: Final = metrics.ENGAGEMENTS.code
OTHER_ENGAGEMENTS: Final = "other_engagements"

#: Metrics that may carry negative counts, in table order (for messages).
UNDOABLE: Final = tuple(m.name for m in metrics.METRICS.values() if m.undoable)

Key = tuple[int, int, int]

_FUTURE_REASON: Final = f"is more than {FUTURE_TOLERANCE.seconds // 60} minutes in the future"


@dataclass(frozen=True, slots=True)
class FoldedBatch:
    """A validated batch: how many events it held and the deltas to add."""

    events: int
    deltas: Mapping[Key, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MetricRule:
    """What folding needs of a metric: its own code (None: none kept), whether it counts into
    engagements, whether it may be negative, whether it needs a video."""

    name: str
    code: int | None
    engagement: bool
    undoable: bool
    video: bool


def _rules() -> dict[str, MetricRule]:
    rules = {}
    for name in metrics.INGESTIBLE:
        metric = metrics.METRICS[name]
        own = None if name == OTHER_ENGAGEMENTS else metric.code
        video = name == metrics.VIDEO_VIEWS.name
        rules[name] = MetricRule(name, own, metric.is_engagement, metric.undoable, video)
    for alias, name in metrics.ALIASES.items():
        rules[alias] = rules[name]
    return rules


#: Ingestible type names (aliases included) -> their folding rule.
RULES: Final = _rules()


def fold_event(
    deltas: dict[Key, int], post_id: int, rule: MetricRule, hour: int, count: int
) -> None:
    """Add one valid event to the deltas."""
    if rule.code is not None:
        key = (post_id, rule.code, hour)
        deltas[key] = deltas.get(key, 0) + count
    if rule.engagement and count > 0:
        key = (post_id, ENGAGEMENTS_CODE, hour)
        deltas[key] = deltas.get(key, 0) + count


def drop_zeros(deltas: dict[Key, int]) -> dict[Key, int]:
    """Remove keys whose sum is zero, in place (only undo events can cause them)."""
    for key in [key for key, value in deltas.items() if not value]:
        del deltas[key]
    return deltas


def fold_precise(
    records: Iterable[Record],
    posts: Mapping[int, Post],
    now: datetime,
    decode_errors: Sequence[LineError] = (),
) -> FoldedBatch:
    """Validate every line and fold; raise :class:`BatchRejected` listing every bad line."""
    errors = list(decode_errors)
    limit = now + FUTURE_TOLERANCE
    deltas: dict[Key, int] = {}
    events = 0
    for line, value in records:
        event = check_event(line, value, posts, limit, errors)
        if event is not None and not errors:
            fold_event(deltas, *event)
        events += 1
    if errors:
        raise BatchRejected(errors)
    return FoldedBatch(events, drop_zeros(deltas))


def check_event(
    line: int,
    value: object,
    posts: Mapping[int, Post],
    limit: datetime,
    errors: list[LineError],
) -> tuple[int, MetricRule, int, int] | None:
    """One event's (post_id, rule, hour, count), or None after recording its problems."""
    reader = LineReader(line, value, errors)
    if not reader.ok:
        return None
    post_id = reader.id("tweet_id")
    post = None
    if post_id is not None:
        post = posts.get(post_id)
        if post is None:
            reader.fail("tweet_id", reader.raw("tweet_id"), POST_NOT_LOADED)
    rule = _rule(reader)
    moment = reader.timestamp("at")
    count = _count(reader, rule)
    if post is not None and moment is not None:
        if moment < post.created_at:
            reason = f"precedes the Post's created_at {format_moment(post.created_at)}"
            reader.fail("at", reader.raw("at"), reason)
        elif moment > limit:
            reader.fail("at", reader.raw("at"), _FUTURE_REASON)
    if post is not None and rule is not None and rule.video and post.video_key is None:
        reader.fail("type", reader.raw("type"), "the Post has no video media")
    if not reader.ok or post_id is None or rule is None or moment is None or count is None:
        return None
    return post_id, rule, hour_index(moment), count


def _rule(reader: LineReader) -> MetricRule | None:
    name = reader.string("type")
    if name is None:
        return None
    if name == metrics.ENGAGEMENTS.name:
        reader.fail("type", name, "is derived from the other types and is never sent")
        return None
    rule = RULES.get(name)
    if rule is None:
        reader.fail("type", name, "is not an engagement type")
    return rule


def _count(reader: LineReader, rule: MetricRule | None) -> int | None:
    value = reader.raw("count")
    if value is MISSING:  # left out or null: one event
        return 1
    if isinstance(value, bool) or not isinstance(value, int):
        reader.fail("count", value, "must be an integer")
        return None
    if value == 0:
        reader.fail("count", value, "must not be zero")
        return None
    if abs(value) > MAX_COUNT:
        reader.fail("count", value, f"must be between -{MAX_COUNT} and {MAX_COUNT}")
        return None
    if value < 0 and rule is not None and not rule.undoable:
        reason = f"may be negative only for {', '.join(UNDOABLE)}"
        reader.fail("count", value, reason)
        return None
    return value
