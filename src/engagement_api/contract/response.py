"""Building the response body (spec section 5): grouped, zero-filled trees plus metadata.

How it works: the counts are first gathered into one vector per (Post, canonical metric) — a
single lifetime value on ``/totals``, one value per hour of the window otherwise. For each
grouping, every vector is then *reduced* along its time levels (summed per day, per
hour-of-day, in total, or left per hour) and summed across Posts when ``tweet.id`` is not a
level. A *layout* (labels in sorted order, ending in indexes into the reduced vectors) drives
one dict comprehension per tree node, so a leaf costs an index and a ``str()``.
:mod:`.response_json` writes the same body straight to JSON text, from the same vectors.

Decisions **(ours)** where the spec is silent:

- Top-level key order: ``start``, ``end``, the groupings in request order, then ``errors``,
  ``unavailable_tweet_ids``, ``unsupported_for_impressions_engagements_tweet_ids``,
  ``unsupported_for_video_views_tweet_ids``.
- On ``/totals`` each Post's lifetime total is clamped at 0 before any summing across Posts.
- With ``engagement.hour`` before ``engagement.day``, each hour holds the days of the window
  on which that hour lies, so the leaves are exactly the hours of the window.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from itertools import product, repeat
from typing import Any, TypeAlias, cast

from engagement_api.contract.groupings import DAY, HOUR, TIME_LEVELS, TWEET_ID, TYPE
from engagement_api.contract.metrics import BY_CODE
from engagement_api.contract.policy import Decision
from engagement_api.contract.request import EngagementRequest
from engagement_api.contract.times import format_timestamp
from engagement_api.contract.windows import Window

#: Labels in key order; an ``int`` is an index into a reduced vector (a leaf).
Layout: TypeAlias = "int | list[tuple[str, Layout]]"
Vectors = dict[tuple[int | None, str], list[int]]
Series = dict[tuple[int, str], list[int]]

_EPOCH_DAY = date(1970, 1, 1)
_ALL = [slice(None)]


class _Names(dict[int, str]):
    """Metric code -> name; "" (no metric's) for a code of none."""

    def __missing__(self, code: int) -> str:
        return ""


_METRIC_NAMES = _Names({code: metric.name for code, metric in BY_CODE.items()})


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
    series = gather(request, decision, totals, hourly)
    body: dict[str, object] = dict(bounds(request.window))
    asked = [m.asked for m in request.metrics]
    for grouping in request.groupings:
        rows, layout = reduce_grouping(request, decision, series, grouping.group_by)
        keys = vector_keys(decision.post_ids, asked, grouping.group_by)
        vectors = dict(zip(keys, rows, strict=True))
        body[grouping.name] = _tree(grouping.group_by, decision.post_ids, asked, vectors, layout)
    body.update(metadata(decision))
    return body


def gather(
    request: EngagementRequest,
    decision: Decision,
    totals: Mapping[tuple[int, str], int] | None,
    hourly: Iterable[tuple[int, str, int, int]] | None,
    coded: Iterable[tuple[int, int, int, int]] | None = None,
) -> Series:
    """One vector per wanted (Post, canonical metric): its lifetime total, or its hours.

    The hours may come as ``coded`` instead of ``hourly``: the same rows with the metric's
    code in place of its name (as the store reads them)."""
    window = request.window
    if window is None:
        return _lifetime(request, decision, totals or {})
    if coded is not None:
        return _per_hour(request, decision, window, coded, _METRIC_NAMES.__getitem__)
    return _per_hour(request, decision, window, hourly or (), str)  # (a name is its own)


def bounds(window: Window | None) -> list[tuple[str, str]]:
    """The ``start`` and ``end`` keys of a windowed answer."""
    if window is None:
        return []
    return [("start", format_timestamp(window.start)), ("end", format_timestamp(window.end))]


def reduce_grouping(
    request: EngagementRequest, decision: Decision, series: Series, group_by: tuple[str, ...]
) -> tuple[list[list[int]], Layout]:
    """The grouping's vectors, in the order of :func:`vector_keys`, and its layout."""
    window = request.window
    asked = [m.asked for m in request.metrics]
    canonical = {m.asked: m.metric.name for m in request.metrics}
    zeros = [0] * (1 if window is None else window.end_hour - window.start_hour)
    time_levels = tuple(level for level in group_by if level in TIME_LEVELS)
    slices, layout = time_axis(window, time_levels)
    reduced = _Reduced(series, zeros, slices)
    return reduced.vectors(decision.post_ids, asked, canonical, TWEET_ID in group_by), layout


def vector_keys(
    post_ids: tuple[int, ...], asked: list[str], group_by: tuple[str, ...]
) -> list[tuple[int | None, str]]:
    """(Post ID, asked name) per vector, name-major; (None, asked name) without tweet.id."""
    ids: tuple[int | None, ...] = post_ids if TWEET_ID in group_by else (None,)
    return [(pid, name) for name in asked for pid in ids]


def metadata(decision: Decision) -> list[tuple[str, list[str]]]:
    """The keys after the groupings, in key order, when present."""
    found: list[tuple[str, list[str]]] = []
    if decision.errors:
        found.append(("errors", list(decision.errors)))
    for key, ids in (
        ("unavailable_tweet_ids", decision.unavailable),
        ("unsupported_for_impressions_engagements_tweet_ids", decision.unsupported_impressions),
        ("unsupported_for_video_views_tweet_ids", decision.unsupported_video),
    ):
        if ids:
            found.append((key, [str(i) for i in ids]))
    return found


def _wanted(request: EngagementRequest, decision: Decision) -> set[tuple[int, str]]:
    names = {m.metric.name for m in request.metrics}
    return set(product(decision.post_ids, names)) - decision.zeroed


def _lifetime(
    request: EngagementRequest, decision: Decision, totals: Mapping[tuple[int, str], int]
) -> Series:
    keys = list(_wanted(request, decision))
    clamped = map(max, repeat(0), map(totals.get, keys, repeat(0)))
    return dict(zip(keys, map(list, zip(clamped)), strict=True))  # key -> [max(0, total)]


def _per_hour(
    request: EngagementRequest,
    decision: Decision,
    window: Window,
    hourly: Iterable[tuple[int, Any, int, int]],
    name_of: Callable[[Any], str],
) -> Series:
    """The series of the window from rows whose second place ``name_of`` turns into the
    metric's name. Only the wanted (Post, metric)s with a row get a vector; the others are all
    zeros (see :class:`_Reduced`)."""
    start, size = window.start_hour, window.end_hour - window.start_hour
    wanted = _wanted(request, decision)
    series: Series = {}
    get = series.get
    for pid, metric, hour, count in hourly:
        key = (pid, name_of(metric))
        values = get(key)
        if values is None:
            if key not in wanted:
                continue
            values = series[key] = [0] * size
        offset = hour - start
        if 0 <= offset < size:
            values[offset] += count
    return series


@lru_cache(maxsize=32)
def time_axis(window: Window | None, levels: tuple[str, ...]) -> tuple[list[slice] | None, Layout]:
    """How to reduce an hourly vector for these time levels (None: keep every hour), and the
    layout of the time levels in their order. Hours are hours since the epoch, which began at
    midnight UTC: ``hour // 24`` is the day, ``hour % 24`` the hour of day.

    Cached (a window and its levels recur): callers must not change what it returns."""
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
        per_post: bool,
    ) -> list[list[int]]:
        """One vector per (asked name, Post ID), name-major, or per asked name summed across
        Posts when not ``per_post`` (the order of :func:`vector_keys`). Every vector of a
        (Post, metric) without counts is the same list object: callers must not change them."""
        vectors: list[list[int]] = []
        get, zeros = self.series.get, self.zeros
        reduced_zeros = zeros if self.slices is None else self.reduce(zeros)
        for name in asked:
            found = map(get, zip(post_ids, repeat(canonical[name])), repeat(zeros))
            if self.slices is None:
                rows = list(found)
            else:  # (one reduced vector for all those without counts, as for the hours)
                rows = [reduced_zeros if v is zeros else self.reduce(v) for v in found]
            if per_post:
                vectors += rows
            else:
                vectors.append(list(map(sum, zip(*rows, strict=True))))
        return vectors

    def reduce(self, values: list[int]) -> list[int]:
        return list(map(sum, map(values.__getitem__, cast(list[slice], self.slices))))


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
