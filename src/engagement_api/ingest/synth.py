"""The traffic model of the synthetic generator: hourly, pre-aggregated event lines per Post.

A Post's impressions per hour follow ``peak * (1 + h / tau) ** -alpha``, ``h`` hours after the
later of its creation and the window start. Hours are drawn one by one while that rate is at
least :data:`CUTOFF`; the thin tail after it is sampled as individual impressions spread by the
same power law (so a quiet Post costs a few random draws, not one per hour).

In each hour, given its impressions ``I``: the engagement events ``E ~ Poisson(I * rate)`` are
split across the engagement metrics the Post can have (URL clicks only with a URL, media
engagements only with media, ...), media views and video views are drawn from ``I``, and now and
then a few favorites are undone, never more than the Post has collected so far.
"""

from __future__ import annotations

import math
import random
from bisect import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Final

HOUR: Final = 3600
#: Below this many expected impressions an hour, the tail is sampled sparsely.
CUTOFF: Final = 0.3

#: Engagement metrics, their weight within a Post's engagements, and what they need.
_ENGAGEMENT_WEIGHTS: Final = (
    ("favorites", 20.0, ""),
    ("retweets", 4.0, ""),
    ("replies", 1.5, ""),
    ("quote_tweets", 0.6, ""),
    ("detail_expands", 10.0, ""),
    ("user_profile_clicks", 3.0, ""),
    ("permalink_clicks", 0.8, ""),
    ("url_clicks", 6.0, "url"),
    ("hashtag_clicks", 2.0, "hashtag"),
    ("media_engagements", 8.0, "media"),
    ("user_follows", 0.4, ""),
    ("email_tweet", 0.05, ""),
    ("app_opens", 0.3, "app"),
    ("app_install_attempts", 0.15, "app"),
    ("other_engagements", 4.0, ""),
)
#: Engagement events per impression for a Post of average appeal, per unit of weight.
_RATE_PER_WEIGHT: Final = 0.001
_MEDIA_VIEW_RATE: Final = 0.35
_VIDEO_VIEW_RATE: Final = 0.2
_UNDO_CHANCE: Final = 0.03


@dataclass(slots=True)
class PostPlan:
    """What the model needs of one Post, and the traffic parameters drawn for it."""

    post_id: str
    created: int  # epoch seconds
    media: str  # none | photo | video | animated_gif
    url: bool
    hashtag: bool
    app: bool
    peak: float = 0.0
    tau: float = 3.0
    alpha: float = 1.5
    rate: float = 0.0
    names: list[str] = field(default_factory=list)
    cumulative: list[float] = field(default_factory=list)


def plan_traffic(plan: PostPlan, rnd: random.Random, scale: float, window_start: int) -> None:
    """Draw a Post's popularity, decay and engagement mix."""
    peak = rnd.lognormvariate(2.3, 1.4)
    if rnd.random() < 0.005:
        peak *= rnd.uniform(30, 300)  # viral
    if plan.created < window_start:
        age_days = (window_start - plan.created) / 86400
        peak *= 0.25 * (1 + age_days / 7) ** -0.8
    plan.peak = min(peak * scale, 5e6)
    plan.tau = rnd.uniform(1.5, 8.0)
    plan.alpha = rnd.uniform(1.2, 1.9)
    needs = {"": True, "url": plan.url, "hashtag": plan.hashtag, "app": plan.app}
    needs["media"] = plan.media != "none"
    total = 0.0
    for name, weight, need in _ENGAGEMENT_WEIGHTS:
        if needs[need]:
            total += weight
            plan.names.append(name)
            plan.cumulative.append(total)
    plan.rate = total * _RATE_PER_WEIGHT * rnd.lognormvariate(0, 0.5)


@lru_cache(maxsize=1 << 16)
def hour_prefix(hour: int) -> str:
    """``YYYY-MM-DDTHH`` of an hour index."""
    return datetime.fromtimestamp(hour * HOUR, UTC).strftime("%Y-%m-%dT%H")


def poisson(rnd: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean < 12:
        limit, product, count = math.exp(-mean), rnd.random(), 0
        while product > limit:
            product *= rnd.random()
            count += 1
        return count
    return max(0, round(rnd.gauss(mean, math.sqrt(mean))))


def event_lines(plan: PostPlan, window_start: int, now: int, rnd: random.Random) -> Iterator[str]:
    """The Post's event lines over ``[max(created, window_start), now]``."""
    start = max(plan.created, window_start)
    if start > now:
        return
    favorites = [0]
    hour = start // HOUR
    last = now // HOUR
    while hour <= last:
        lo, hi = _bounds(hour, start, now)
        rate = _rate(plan, (hour * HOUR - start) / HOUR) * (hi - lo + 1) / HOUR
        if rate < CUTOFF:
            break
        yield from _hour_lines(plan, hour, lo, hi, poisson(rnd, rate), rnd, favorites)
        hour += 1
    if hour <= last:
        for tail_hour, impressions in _tail(plan, start, hour, last, rnd):
            lo, hi = _bounds(tail_hour, start, now)
            yield from _hour_lines(plan, tail_hour, lo, hi, impressions, rnd, favorites)


def _bounds(hour: int, start: int, now: int) -> tuple[int, int]:
    """Seconds within the hour that events may use."""
    base = hour * HOUR
    return max(0, start - base), min(HOUR - 1, now - base)


def _rate(plan: PostPlan, hours: float) -> float:
    return plan.peak * float((1 + max(hours, 0.0) / plan.tau) ** -plan.alpha)


def _tail(
    plan: PostPlan, start: int, first: int, last: int, rnd: random.Random
) -> list[tuple[int, int]]:
    """Sparse impressions for hours ``first..last``, spread by the power law."""
    exponent = 1 - plan.alpha
    h0 = max((first * HOUR - start) / HOUR, 0.0)
    h1 = max(((last + 1) * HOUR - start) / HOUR, h0)
    f0, f1 = (1 + h0 / plan.tau) ** exponent, (1 + h1 / plan.tau) ** exponent
    expected = plan.peak * plan.tau / -exponent * (f0 - f1)
    counts: dict[int, int] = {}
    for _ in range(poisson(rnd, expected)):
        mass = rnd.uniform(f1, f0)
        hours = plan.tau * (mass ** (1 / exponent) - 1)
        hour = min(max(first, (start + int(hours * HOUR)) // HOUR), last)
        counts[hour] = counts.get(hour, 0) + 1
    return sorted(counts.items())


def _hour_lines(
    plan: PostPlan,
    hour: int,
    lo: int,
    hi: int,
    impressions: int,
    rnd: random.Random,
    favorites: list[int],
) -> Iterator[str]:
    if impressions <= 0:
        return
    counts = {"impressions": impressions}
    engaged = poisson(rnd, impressions * plan.rate)
    if engaged:
        _split(plan, engaged, rnd, counts)
    if plan.media != "none":
        counts["media_views"] = poisson(rnd, impressions * _MEDIA_VIEW_RATE)
    if plan.media == "video":
        counts["video_views"] = poisson(rnd, impressions * _VIDEO_VIEW_RATE)
    favorites[0] += counts.get("favorites", 0)
    prefix = hour_prefix(hour)
    for name, count in counts.items():
        if count:
            yield _line(plan.post_id, name, prefix, rnd.randint(lo, hi), count)
    if favorites[0] > 0 and rnd.random() < _UNDO_CHANCE:
        undone = rnd.randint(1, min(3, favorites[0]))
        favorites[0] -= undone
        yield _line(plan.post_id, "favorites", prefix, rnd.randint(lo, hi), -undone)


def _split(plan: PostPlan, engaged: int, rnd: random.Random, counts: dict[str, int]) -> None:
    """Share ``engaged`` events across the Post's engagement metrics by weight."""
    cumulative, names = plan.cumulative, plan.names
    total = cumulative[-1]
    if engaged <= 40:
        for _ in range(engaged):
            name = names[bisect(cumulative, rnd.random() * total)]
            counts[name] = counts.get(name, 0) + 1
        return
    remaining, left = engaged, total
    previous = 0.0
    for name, bound in zip(names, cumulative, strict=True):
        weight = bound - previous
        previous = bound
        share = weight / left if left > 0 else 1.0
        left -= weight
        if share >= 1.0:
            drawn = remaining
        else:
            mean = remaining * share
            drawn = round(rnd.gauss(mean, math.sqrt(mean * (1 - share))))
            drawn = min(max(drawn, 0), remaining)
        if drawn:
            counts[name] = drawn
        remaining -= drawn
        if not remaining:
            break


def _line(post_id: str, name: str, prefix: str, second: int, count: int) -> str:
    minute, second = divmod(second, 60)
    count_field = "" if count == 1 else f',"count":{count}'
    return (
        f'{{"tweet_id":"{post_id}","type":"{name}",'
        f'"at":"{prefix}:{minute:02d}:{second:02d}Z"{count_field}}}'
    )
