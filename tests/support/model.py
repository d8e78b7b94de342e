"""An independent model of what the read API should answer, computed from the events a test sent.

Written from the spec alone (engagement-api.md §4-§6, ingest.md), imports nothing of the
package, so that a test compares the server with a second, naive implementation:

- every event adds its ``count`` to its own metric in the UTC hour its ``at`` falls in
  (``media_clicks`` is ``media_engagements``; ``other_engagements`` has no metric of its own);
- a positive count of an interaction type also adds to ``engagements``; undo events never do;
- ``/totals`` is the lifetime sum, clamped at 0 per Post; its ``video_views`` is the sum over
  every Post carrying the same video;
- a grouping tree has one level per ``group_by`` entry, keys sorted, every key of the window
  present (zero-filled), leaves the sum of everything under their path.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

HOUR = timedelta(hours=1)

#: Interaction types: each positive event also counts one `engagements` (spec §6).
INTERACTIONS = frozenset(
    {
        "favorites",
        "retweets",
        "quote_tweets",
        "replies",
        "media_engagements",
        "url_clicks",
        "hashtag_clicks",
        "detail_expands",
        "permalink_clicks",
        "app_install_attempts",
        "app_opens",
        "email_tweet",
        "user_follows",
        "user_profile_clicks",
        "other_engagements",
    }
)
VIEWS = frozenset({"impressions", "video_views", "media_views"})
UNDOABLE = frozenset({"favorites", "retweets", "quote_tweets", "replies"})
ALIASES = {"media_clicks": "media_engagements"}

#: Metrics each endpoint may be asked for (spec §6).
TOTALS_METRICS = (
    "engagements",
    "favorites",
    "impressions",
    "quote_tweets",
    "replies",
    "retweets",
    "video_views",
)
WINDOWED_METRICS = tuple(
    sorted(
        {
            "impressions",
            "engagements",
            "favorites",
            "retweets",
            "replies",
            "video_views",
            "media_views",
            "media_engagements",
            "url_clicks",
            "hashtag_clicks",
            "detail_expands",
            "permalink_clicks",
            "app_install_attempts",
            "app_opens",
            "email_tweet",
            "user_follows",
            "user_profile_clicks",
        }
    )
)


@dataclass(frozen=True)
class Event:
    tweet_id: int
    type: str
    at: datetime
    count: int = 1

    def record(self) -> dict[str, object]:
        """The event as sent to the ingest API (``count`` left out when it is 1)."""
        out: dict[str, object] = {
            "tweet_id": str(self.tweet_id),
            "type": self.type,
            "at": iso(self.at),
        }
        if self.count != 1:
            out["count"] = self.count
        return out


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def parse_z(text: str) -> datetime:
    """``YYYY-MM-DDTHH:MM:SSZ`` (the response's start/end) as an aware datetime."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def hours_between(start: datetime, end: datetime) -> list[datetime]:
    """Every hour bucket of ``[start, end)``."""
    out = []
    moment = start
    while moment < end:
        out.append(moment)
        moment += HOUR
    return out


def contributions(event: Event) -> list[tuple[str, int]]:
    """(metric, count) pairs that one event adds."""
    name = ALIASES.get(event.type, event.type)
    out = []
    if name != "other_engagements":
        out.append((name, event.count))
    if name in INTERACTIONS and event.count > 0:
        out.append(("engagements", event.count))
    return out


#: (post, metric) -> values, one per hour of a window (or one lifetime value).
Series = Callable[[int, str], Sequence[int]]


class Counts:
    """Per (Post, metric, hour) sums of a list of events."""

    def __init__(self, events: Iterable[Event] = ()) -> None:
        self.hourly: Counter[tuple[int, str, datetime]] = Counter()
        self.total: Counter[tuple[int, str]] = Counter()
        for event in events:
            self.add(event)

    def add(self, event: Event) -> None:
        hour = floor_hour(event.at)
        for metric, count in contributions(event):
            self.hourly[(event.tweet_id, metric, hour)] += count
            self.total[(event.tweet_id, metric)] += count

    def window(self, post: int, metric: str, hours: Iterable[datetime]) -> int:
        return sum(self.series(post, metric, hours))

    def series(self, post: int, metric: str, hours: Iterable[datetime]) -> list[int]:
        """One value per hour of ``hours``."""
        metric = ALIASES.get(metric, metric)
        return [self.hourly.get((post, metric, h), 0) for h in hours]

    def over(self, hours: Sequence[datetime]) -> Series:
        """``series`` for :func:`tree`: (post, metric) -> one value per hour of ``hours``."""
        return lambda post, metric: self.series(post, metric, hours)

    def lifetime(self, post: int, metric: str) -> int:
        return self.total.get((post, ALIASES.get(metric, metric)), 0)

    def totals_value(self, post: int, metric: str, carriers: Sequence[int] = ()) -> int:
        """The /totals value: lifetime, clamped at 0; video views over every carrier."""
        if metric == "video_views" and carriers:
            return max(0, sum(self.lifetime(p, metric) for p in carriers))
        return max(0, self.lifetime(post, metric))


def tree(
    group_by: Sequence[str],
    posts: Sequence[int],
    metrics: Sequence[str],
    hours: Sequence[datetime] | None,
    series: Series,
) -> object:
    """The expected grouping tree: levels in ``group_by`` order, keys sorted and zero-filled.

    ``series(post, metric)`` is one Post's values of one metric, one per hour of ``hours``
    (for /totals pass ``hours=None`` and give a single lifetime value).
    """
    levels = [level.lower() for level in group_by]
    vectors = {(p, m): series(p, m) for p in posts for m in metrics}
    buckets = list(hours) if hours is not None else []

    def split(indexes: list[int], label: Callable[[datetime], Any]) -> dict[Any, list[int]]:
        """The indexes grouped by the label of their hour, labels ascending."""
        groups: dict[Any, list[int]] = {}
        for i in indexes:
            groups.setdefault(label(buckets[i]), []).append(i)
        return dict(sorted(groups.items()))

    def node(depth: int, posts: Sequence[int], metrics: Sequence[str], at: list[int]) -> object:
        if depth == len(levels):
            return str(sum(vectors[(p, m)][i] for p in posts for m in metrics for i in at))
        level = levels[depth]
        if level == "tweet.id":
            return {str(p): node(depth + 1, [p], metrics, at) for p in sorted(posts)}
        if level == "engagement.type":
            return {m: node(depth + 1, posts, [m], at) for m in sorted(metrics)}
        if level == "engagement.day":
            days = split(at, lambda h: h.date())
            return {d.isoformat(): node(depth + 1, posts, metrics, ix) for d, ix in days.items()}
        if level == "engagement.hour":
            of_day = split(at, lambda h: h.hour)
            return {f"{x:02d}": node(depth + 1, posts, metrics, ix) for x, ix in of_day.items()}
        raise ValueError(level)

    return node(0, posts, metrics, list(range(len(buckets))) if hours is not None else [0])


def key_order(value: object) -> object:
    """The keys of a nested dict, in order, at every level (dict equality ignores order)."""
    if isinstance(value, dict):
        return [(k, key_order(v)) for k, v in value.items()]
    return None
