"""Building the response body (spec section 5): grouped, zero-filled trees plus metadata.

How it works: the counts are first gathered into one vector per (Post, canonical metric) — a
single lifetime value on ``/totals``, one value per hour of the window otherwise. For each
grouping, every vector is then *reduced* along its time levels (summed per day, per
hour-of-day, in total, or left per hour) and summed across Posts when ``tweet.id`` is not a
level. A *layout* (labels in sorted order, ending in indexes into the reduced vectors) drives
one dict comprehension per tree node, so a leaf costs an index and a ``str()``.

Decisions **(ours)** where the spec is silent:

- Top-level key order: ``start``, ``end``, the groupings in request order, then ``errors``,
  ``unavailable_tweet_ids``, ``unsupported_for_impressions_engagements_tweet_ids``,
  ``unsupported_for_video_views_tweet_ids``.
- On ``/totals`` each Post's lifetime total is clamped at 0 before any summing across Posts.
- With ``engagement.hour`` before ``engagement.day``, each hour holds the days of the window
  on which that hour lies, so the leaves are exactly the hours of the window.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeAlias, cast

from engagement_api.contract.groupings import DAY, HOUR, TIME_LEVELS, TWEET_ID, TYPE
from engagement_api.contract.policy import Decision
from engagement_api.contract.request import EngagementRequest
from engagement_api.contract.times import format_timestamp
from engagement_api.contract.windows import Window

#: Labels in key order; an ``int`` is an index into a reduced vector (a leaf).
Layout: TypeAlias = "int | list[tuple[str, Layout]]"
Vectors = dict[tuple[int | None, str], list[int]]

_EPOCH_DAY = date(1970, 1, 1)
_ALL = [slice(None)]


def render(
    request: EngagementRequest,
    decision: Decision,
    totals: Mapping[tuple[int, str], int] | None,
    hourly: Iterable[tuple[int, str, int, int]] | None,
) -> dict[str, object]:
    """The response body for a permitted request.

    ``totals`` (``/totals``): (Post ID, canonical metric name) -> lifetime count.
    ``hourly`` (windowed): (Post ID, canonical metric name, hour index, count) rows; rows
    outside the window, or for Posts/metrics not in the decision, are ignored.
    """
    window = request.window
    if window is None:
        series = _lifetime(request, decision, totals or {})
    else:
        series = _per_hour(request, decision, window, hourly or ())
    body: dict[str, object] = {}
    if window is not None:
        body["start"] = format_timestamp(window.start)
        body["end"] = format_timestamp(window.end)
    asked = [m.asked for m in request.metrics]
    canonical = {m.asked: m.metric.name for m in request.metrics}
    zeros = [0] * (1 if window is None else window.end_hour - window.start_hour)
    for grouping in request.groupings:
        time_levels = tuple(level for level in grouping.group_by if level in TIME_LEVELS)
        slices, layout = _time_axis(window, time_levels)
        reduced = _Reduced(series, zeros, slices)
        vectors = reduced.vectors(decision.post_ids, asked, canonical, grouping.group_by)
        body[grouping.name] = _tree(grouping.group_by, decision.post_ids, asked, vectors, layout)
    if decision.errors:
        body["errors"] = list(decision.errors)
    for key, ids in (
        ("unavailable_tweet_ids", decision.unavailable),
        ("unsupported_for_impressions_engagements_tweet_ids", decision.unsupported_impressions),
        ("unsupported_for_video_views_tweet_ids", decision.unsupported_video),
    ):
        if ids:
            body[key] = [str(i) for i in ids]
    return body


def _wanted(request: EngagementRequest, decision: Decision) -> set[tuple[int, str]]:
    names = {m.metric.name for m in request.metrics}
    pairs = {(pid, name) for pid in decision.post_ids for name in names}
    return pairs - decision.zeroed


def _lifetime(
    request: EngagementRequest, decision: Decision, totals: Mapping[tuple[int, str], int]
) -> dict[tuple[int, str], list[int]]:
    return {key: [max(0, totals.get(key, 0))] for key in _wanted(request, decision)}


def _per_hour(
    request: EngagementRequest,
    decision: Decision,
    window: Window,
    hourly: Iterable[tuple[int, str, int, int]],
) -> dict[tuple[int, str], list[int]]:
    start, size = window.start_hour, window.end_hour - window.start_hour
    series = {key: [0] * size for key in _wanted(request, decision)}
    for pid, name, hour, count in hourly:
        values = series.get((pid, name))
        offset = hour - start
        if values is not None and 0 <= offset < size:
            values[offset] += count
    return series


def _time_axis(window: Window | None, levels: tuple[str, ...]) -> tuple[list[slice] | None, Layout]:
    """How to reduce an hourly vector for these time levels (None: keep every hour), and the
    layout of the time levels in their order. Hours are hours since the epoch, which began at
    midnight UTC: ``hour // 24`` is the day, ``hour % 24`` the hour of day."""
    if window is None:
        return None, 0  # a lifetime total is already one value
    if not levels:
        return _ALL, 0
    start, end = window.start_hour, window.end_hour
    days = range(start // 24, (end - 1) // 24 + 1)
    hours_of_day = sorted({hour % 24 for hour in range(start, min(end, start + 24))})

    def in_day(day: int) -> range:
        return range(max(day * 24, start), min(day * 24 + 24, end))

    def at_hour(hour_of_day: int) -> range:
        return range(start + (hour_of_day - start) % 24, end, 24)

    if levels == (DAY,):
        spans = [in_day(d) for d in days]
        return [slice(r.start - start, r.stop - start) for r in spans], [
            (_day_label(d), j) for j, d in enumerate(days)
        ]
    if levels == (HOUR,):
        return [slice(at_hour(h).start - start, None, 24) for h in hours_of_day], [
            (f"{h:02d}", j) for j, h in enumerate(hours_of_day)
        ]
    if levels == (DAY, HOUR):
        by_day: list[tuple[str, Layout]] = [
            (_day_label(d), [(f"{t % 24:02d}", t - start) for t in in_day(d)]) for d in days
        ]
        return None, by_day
    by_hour: list[tuple[str, Layout]] = [
        (f"{h:02d}", [(_day_label(t // 24), t - start) for t in at_hour(h)]) for h in hours_of_day
    ]
    return None, by_hour


def _day_label(day: int) -> str:
    return (_EPOCH_DAY + timedelta(days=day)).isoformat()


@dataclass(frozen=True)
class _Reduced:
    """Per-(Post, metric) vectors reduced along a grouping's time levels."""

    series: Mapping[tuple[int, str], list[int]]
    zeros: list[int]  # the vector of a (Post, metric) without counts, or zeroed
    slices: list[slice] | None  # None: keep every hour

    def vectors(
        self,
        post_ids: tuple[int, ...],
        asked: list[str],
        canonical: Mapping[str, str],
        group_by: tuple[str, ...],
    ) -> Vectors:
        """One vector per (Post ID, asked name), or per (None, asked name) without tweet.id."""
        vectors: Vectors = {}
        for name in asked:
            per_post = [self.one(pid, canonical[name]) for pid in post_ids]
            if TWEET_ID in group_by:
                vectors.update(((pid, name), v) for pid, v in zip(post_ids, per_post, strict=True))
            else:
                vectors[(None, name)] = [sum(column) for column in zip(*per_post, strict=True)]
        return vectors

    def one(self, pid: int, metric: str) -> list[int]:
        values = self.series.get((pid, metric), self.zeros)
        return values if self.slices is None else [sum(values[s]) for s in self.slices]


def _tree(
    group_by: tuple[str, ...],
    post_ids: tuple[int, ...],
    asked: list[str],
    vectors: Vectors,
    layout: Layout,
) -> object:
    """The nested, zero-filled tree of one grouping (levels in ``group_by`` order)."""
    ids = [(pid, str(pid)) for pid in post_ids]
    last = len(group_by) - 1

    def node(depth: int, pid: int | None, name: str, here: Layout) -> object:
        level = group_by[depth]
        if depth == last:
            if level == TWEET_ID:
                index = cast(int, here)
                return {key: str(vectors[(p, name)][index]) for p, key in ids}
            if level == TYPE:
                index = cast(int, here)
                return {n: str(vectors[(pid, n)][index]) for n in asked}
            values = vectors[(pid, name)]
            return {key: str(values[i]) for key, i in cast(list[tuple[str, int]], here)}
        if level == TWEET_ID:
            return {key: node(depth + 1, p, name, here) for p, key in ids}
        if level == TYPE:
            return {n: node(depth + 1, pid, n, here) for n in asked}
        return {
            key: node(depth + 1, pid, name, sub)
            for key, sub in cast(list[tuple[str, Layout]], here)
        }

    return node(0, None, "", layout)
