"""What the dashboard shows, read through the public API's read road: every count on a page is
asked of :class:`~engagement_api.service.reading.EngagementReader` with a request body the API
would accept (parsed by the contract, decided by the policy, answered by the same store calls),
on behalf of the Post's author. So a number on a page is the number the API answers; the age
limits and partial results come from the same answers. No HTTP in here.

- The overview: a user's Posts created in a range of UTC dates, with their lifetime counts
  (``/totals``, 250 Posts a request), ranked by a metric.
- A Post: its lifetime counts (``/totals``), the last 28 hours (``/28hr``), and a range of up
  to a year of days read in 28-day windows (``/historical``), per engagement type.
- The Post's hourly rows over a range, for its CSV: the client's rows
  ``post_id,metric,day,hour,count`` with a non-zero count, ordered as a merged answer is.

Dates are ``YYYY-MM-DD`` in UTC, ``start`` inclusive and ``end`` exclusive. A range reaching
past now is read up to the end of the current hour (the API refuses an end in the future).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson

from engagement_api.contract.errors import BadRequest, NotFound
from engagement_api.contract.metrics import METRICS, Endpoint, allowed_on
from engagement_api.contract.policy import PostFacts
from engagement_api.contract.times import ceil_hour, format_timestamp
from engagement_api.contract.windows import MAX_SPAN
from engagement_api.domain import User
from engagement_api.service.reading import EngagementReader
from engagement_api.store.protocols import CatalogStore

#: The overview's columns after ``post_id`` and ``created_at``: what ``/totals`` answers.
PUBLIC_METRICS = ("favorites", "retweets", "quote_tweets", "replies", "video_views")
TOTALS_METRICS = ("impressions", "engagements", *PUBLIC_METRICS)
#: Every metric a windowed endpoint answers (what a Post's charts and CSV read).
WINDOWED_METRICS = tuple(allowed_on(Endpoint.HISTORICAL))
#: The engagement types a chart stacks: each event of one also counts one ``engagements``.
ENGAGEMENT_TYPES = tuple(m for m in WINDOWED_METRICS if METRICS[m].is_engagement)
#: Stacked separately, by their share of the range; the rest are summed as "other".
STACKED_TYPES = 5
#: Most Posts of one ``/totals`` request (spec section 3).
TOTALS_BATCH = Endpoint.TOTALS.max_ids
#: The longest range of days a Post page reads.
MAX_RANGE_DAYS = 365
#: What the overview's rank may be asked by.
RANKABLE = (*TOTALS_METRICS, "engagement_rate")

NO_SUCH_POST = "No such Post"


def _date(name: str, raw: str | None, default: date, problems: list[str]) -> date:
    if raw is None or raw == "":
        return default
    try:
        if len(raw) == 10:
            return date.fromisoformat(raw)
    except ValueError:
        pass
    problems.append(f"{name}: must be a date YYYY-MM-DD (UTC), not {raw!r}")
    return default


def parse_range(
    start: str | None, end: str | None, now: datetime, default_days: int, max_days: int | None
) -> tuple[date, date]:
    """``start`` and ``end`` dates (``YYYY-MM-DD``, end exclusive); by default the
    ``default_days`` days up to and including today. Raises :class:`BadRequest` naming each
    wrong field."""
    problems: list[str] = []
    today = now.astimezone(UTC).date()
    last = _date("end", end, today + timedelta(days=1), problems)
    first = _date("start", start, last - timedelta(days=default_days), problems)
    if not problems and first >= last:
        problems.append(f"start: {first} must be before end: {last}")
    elif not problems and max_days is not None and (last - first).days > max_days:
        problems.append(
            f"start: {first} to end: {last} is {(last - first).days} days; "
            f"at most {max_days} allowed"
        )
    if problems:
        raise BadRequest(problems)
    return first, last


def check_metric(metric: str) -> str:
    """What the overview may be ranked by; :class:`BadRequest` naming the field else."""
    if metric not in RANKABLE:
        raise BadRequest(f"metric: must be one of {', '.join(RANKABLE)}, not {metric!r}")
    return metric


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class PostCounts:
    """One Post's lifetime counts as ``/totals`` answers them; a metric over an age limit is
    ``None`` (the API answers ``"0"`` and lists the Post as unsupported)."""

    post_id: int
    created_at: datetime
    counts: Mapping[str, int | None]

    @property
    def engagement_rate(self) -> float | None:
        """Engagements divided by impressions; None without impressions."""
        impressions = self.counts.get("impressions")
        engagements = self.counts.get("engagements")
        if not impressions or engagements is None:
            return None
        return engagements / impressions

    def rank(self, metric: str) -> float:
        value = self.engagement_rate if metric == "engagement_rate" else self.counts.get(metric)
        return -1.0 if value is None else float(value)


@dataclass(frozen=True)
class Overview:
    user: User
    start: date
    end: date
    metric: str
    posts: list[PostCounts]  # every available Post created in the range, ranked
    unavailable: int  # Posts created in the range that are deleted or protected
    notes: list[str]  # the API's partial-result messages (age limits)


@dataclass(frozen=True)
class Series:
    """Counts per bucket (an hour or a day) for each metric, buckets ascending."""

    buckets: list[str]  # "2026-11-26T13" (hours) or "2026-11-26" (days)
    values: dict[str, list[int]] = field(default_factory=dict)

    def total(self, metric: str) -> int:
        return sum(self.values.get(metric, ()))

    def stacked(self) -> list[tuple[str, list[int]]]:
        """The engagement types to stack: the largest :data:`STACKED_TYPES` of the range by
        name, then ``other`` (the rest of ``engagements``), skipping series that are all 0."""
        ranked = sorted(ENGAGEMENT_TYPES, key=lambda m: (-self.total(m), m))[:STACKED_TYPES]
        chosen = [m for m in ranked if self.total(m) > 0]
        engagements = self.values.get("engagements", [0] * len(self.buckets))
        other = [
            max(0, total - sum(self.values[m][i] for m in chosen))
            for i, total in enumerate(engagements)
        ]
        out = [(m, self.values[m]) for m in chosen]
        if any(other):
            out.append(("other", other))
        return out


@dataclass(frozen=True)
class PostPage:
    facts: PostFacts
    lifetime: PostCounts | None  # None: unavailable (deleted or protected)
    hours: Series | None
    days: Series | None
    start: date
    end: date
    notes: list[str]


def _ints(tree: Mapping[str, Any]) -> dict[str, int]:
    return {key: int(value) for key, value in tree.items()}


class DashboardReader:
    """The dashboard's reads, each through the read road of the public API."""

    def __init__(self, reader: EngagementReader, catalog: CatalogStore) -> None:
        self.reader = reader
        self.catalog = catalog

    @property
    def now(self) -> datetime:
        return self.reader.settings.clock.now()

    def ask(self, endpoint: Endpoint, body: Mapping[str, Any], user_id: int) -> dict[str, Any]:
        """One request of the public API, answered for ``user_id``, as its decoded body."""
        request = self.reader.parse(endpoint, orjson.dumps(body))
        return self.reader.answer(request, user_id)

    # -- who and which Posts --------------------------------------------------------------------

    def find_user(self, ref: str) -> User | None:
        """A user by ID or by handle (with or without ``@``)."""
        ref = ref.strip()
        if ref.isdigit() and len(ref) <= 20:
            found = self.catalog.get_users([int(ref)]).get(int(ref))
            if found is not None:
                return found
        handle = ref.removeprefix("@").lower()
        return self.catalog.users_by_handle([handle]).get(handle) if handle else None

    def post_facts(self, post_id: int, viewer: int | None) -> PostFacts:
        """The Post's facts, or :class:`NotFound` when it is unknown or (``viewer`` given: an
        owner) another user's: an owner is not told that someone else's Post exists."""
        facts = self.catalog.post_facts([post_id]).get(post_id)
        if facts is None or (viewer is not None and facts.author_id != viewer):
            raise NotFound(NO_SUCH_POST)
        return facts

    # -- the overview ---------------------------------------------------------------------------

    def overview(self, user: User, start: date, end: date, metric: str) -> Overview:
        check_metric(metric)
        first, last = midnight(start), midnight(end)
        facts = self.catalog.post_facts(self.catalog.posts_by_author(user.id))
        wanted = [f for f in facts.values() if first <= f.created_at < last]
        available = sorted(f.id for f in wanted if f.available)
        created = {f.id: f.created_at for f in wanted}
        posts: list[PostCounts] = []
        notes: dict[str, None] = {}
        for i in range(0, len(available), TOTALS_BATCH):
            ids = available[i : i + TOTALS_BATCH]
            for counts in self._lifetime(ids, user.id, created, notes):
                posts.append(counts)
        posts.sort(key=lambda p: (-p.rank(metric), p.post_id))
        return Overview(user, start, end, metric, posts, len(wanted) - len(available), list(notes))

    def _lifetime(
        self,
        ids: Sequence[int],
        author: int,
        created: Mapping[int, datetime],
        notes: dict[str, None],
    ) -> Iterator[PostCounts]:
        body = {
            "tweet_ids": [str(i) for i in ids],
            "engagement_types": list(TOTALS_METRICS),
            "groupings": {"p": {"group_by": ["tweet.id", "engagement.type"]}},
        }
        answer = self.ask(Endpoint.TOTALS, body, author)
        notes.update(dict.fromkeys(answer.get("errors", [])))
        old = set(answer.get("unsupported_for_impressions_engagements_tweet_ids", []))
        no_video = set(answer.get("unsupported_for_video_views_tweet_ids", []))
        for key, tree in answer["p"].items():
            counts: dict[str, int | None] = dict(_ints(tree))
            if key in old:
                counts["impressions"] = counts["engagements"] = None
            if key in no_video:
                counts["video_views"] = None
            yield PostCounts(int(key), created[int(key)], counts)

    # -- one Post -------------------------------------------------------------------------------

    def post(self, facts: PostFacts, start: date, end: date) -> PostPage:
        """The Post page's counts (the API answers nothing for a deleted or protected Post)."""
        if not facts.available:
            return PostPage(facts, None, None, None, start, end, [])
        notes: dict[str, None] = {}
        lifetime = next(
            self._lifetime([facts.id], facts.author_id, {facts.id: facts.created_at}, notes)
        )
        return PostPage(
            facts,
            lifetime,
            self.last_28_hours(facts),
            self.days(facts, start, end),
            start,
            end,
            list(notes),
        )

    def last_28_hours(self, facts: PostFacts) -> Series:
        body = {
            "tweet_ids": [str(facts.id)],
            "engagement_types": list(WINDOWED_METRICS),
            "groupings": {
                "h": {"group_by": ["engagement.type", "engagement.day", "engagement.hour"]}
            },
        }
        answer = self.ask(Endpoint.HR28, body, facts.author_id)
        buckets: list[str] = []
        values: dict[str, list[int]] = {}
        for metric, days in answer["h"].items():
            flat = [
                (f"{day}T{hour}", int(n))
                for day, hours in days.items()
                for hour, n in hours.items()
            ]
            buckets = [b for b, _ in flat]
            values[metric] = [n for _, n in flat]
        return Series(buckets, values)

    def windows(self, start: date, end: date) -> Iterator[tuple[datetime, datetime]]:
        """``[start, end)`` in windows of at most 28 days, the last cut at the current hour."""
        first, last = midnight(start), min(midnight(end), ceil_hour(self.now))
        while first < last:
            yield first, min(first + MAX_SPAN, last)
            first += MAX_SPAN

    def _historical(
        self, facts: PostFacts, start: date, end: date, group_by: list[str]
    ) -> Iterator[dict[str, Any]]:
        for first, last in self.windows(start, end):
            body = {
                "tweet_ids": [str(facts.id)],
                "engagement_types": list(WINDOWED_METRICS),
                "groupings": {"g": {"group_by": group_by}},
                "start": format_timestamp(first),
                "end": format_timestamp(last),
            }
            yield self.ask(Endpoint.HISTORICAL, body, facts.author_id)["g"]

    def days(self, facts: PostFacts, start: date, end: date) -> Series:
        per_day: dict[str, dict[str, int]] = {}
        for tree in self._historical(facts, start, end, ["engagement.type", "engagement.day"]):
            for metric, days in tree.items():
                into = per_day.setdefault(metric, {})
                for day, n in days.items():
                    into[day] = into.get(day, 0) + int(n)
        buckets = sorted({day for days in per_day.values() for day in days})
        values = {m: [days.get(b, 0) for b in buckets] for m, days in per_day.items()}
        return Series(buckets, values)

    def hourly_rows(
        self, facts: PostFacts, start: date, end: date
    ) -> list[tuple[str, str, str, str, int]]:
        """The client's rows ``(post_id, metric, day, hour, count)``, non-zero counts only."""
        levels = ["tweet.id", "engagement.type", "engagement.day", "engagement.hour"]
        rows = [
            (pid, metric, day, hour, int(n))
            for tree in self._historical(facts, start, end, levels)
            for pid, metrics in tree.items()
            for metric, days in metrics.items()
            for day, hours in days.items()
            for hour, n in hours.items()
            if int(n) != 0
        ]
        rows.sort(key=lambda r: (r[1], r[2], r[3]))
        return rows
