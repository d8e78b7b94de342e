"""Who may see what (spec section 2), Post age limits (section 4) and partial results (section 5).

:func:`decide` runs after the body is valid, in the order of the end of spec section 7:

1. 403 policy: app-only on ``/28hr``/``/historical``; app-only asking private metrics on
   ``/totals``; a private metric asked for an available Post the user does not own on
   ``/totals``; any available Post the user does not own on ``/28hr``/``/historical``.
2. 400 ``Tweet ID(s) are unavailable`` when no requested Post is available.
3. Partial results: unavailable Posts, and Posts over an age limit (kept, with ``"0"``).

Decisions **(ours)** where the spec is silent:

- A Post's age is ``now - created_at``, an exact duration (not calendar days). "At most 90 days
  old" means ``age <= 90 days``, so a Post exactly 90 days old still counts and one a
  microsecond older does not. The same for 1800 days. A Post dated after ``now`` is 0 days old.
- A Post missing from ``posts`` is unknown, hence unavailable.
- ``errors`` lists, in this order: unavailable, impressions & engagements.
- A Post over 90 days is listed only when ``impressions`` or ``engagements`` was asked, and
  only on ``/totals``; a Post over 1800 days only when ``video_views`` was asked.
- Video views of a Post over 1800 days add no message to ``errors``: the answer lists it in
  ``unsupported_for_video_views_tweet_ids`` only, as the public API's own example does (clients
  that take any ``errors`` in a 200 as fatal would stop there).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from engagement_api.contract.errors import BadRequest, Forbidden
from engagement_api.contract.metrics import (
    AGE_LIMIT_DAYS_90,
    AGE_LIMIT_DAYS_1800,
    ENGAGEMENTS,
    IMPRESSIONS,
    VIDEO_VIEWS,
    WINDOWED,
    Endpoint,
)
from engagement_api.contract.request import EngagementRequest

USER_CONTEXT_REQUIRED = "Forbidden to access endpoint: user context required"
NONE_AVAILABLE = "Tweet ID(s) are unavailable"
IMPRESSIONS_TOO_OLD = "Impressions & engagements for tweets older than 90 days are not supported"


class PostFacts(NamedTuple):
    """What the policy needs to know about one requested Post (a named tuple: the stores make
    hundreds per answer, and a tuple is made in C)."""

    id: int
    author_id: int
    created_at: datetime
    available: bool


@dataclass(frozen=True)
class Decision:
    """What a permitted request may see, and the partial-result metadata of the response."""

    post_ids: tuple[int, ...]  # available requested IDs, ascending
    unavailable: tuple[int, ...]
    unsupported_impressions: tuple[int, ...]
    unsupported_video: tuple[int, ...]
    errors: tuple[str, ...]
    zeroed: frozenset[tuple[int, str]]  # (post ID, canonical metric name) forced to "0"


def forbidden_metrics(names: list[str]) -> str:
    return "Forbidden to access metrics: " + ", ".join(sorted(names))


def forbidden_tweets(ids: list[int]) -> str:
    return "Forbidden to access tweets: " + ", ".join(str(i) for i in sorted(ids))


def unavailable_message(count: int) -> str:
    return f"{count} Tweet ID(s) are unavailable"


def decide(
    request: EngagementRequest,
    user_id: int | None,
    posts: Mapping[int, PostFacts],
    now: datetime,
) -> Decision:
    """Apply the access policy and age limits; ``user_id`` None means app-only.

    Raises :class:`Forbidden` or :class:`BadRequest`; otherwise returns the :class:`Decision`.
    """
    windowed = request.endpoint in WINDOWED
    if windowed and user_id is None:
        raise Forbidden(USER_CONTEXT_REQUIRED)
    found = [(i, posts.get(i)) for i in request.post_ids]
    available = [i for i, facts in found if facts is not None and facts.available]
    unavailable = [i for i, facts in found if facts is None or not facts.available]
    private = [m.asked for m in request.metrics if not m.metric.public]
    if private and user_id is None:
        raise Forbidden(forbidden_metrics(private))
    if windowed or private:
        unowned = [i for i in available if posts[i].author_id != user_id]
        if unowned:
            raise Forbidden(forbidden_tweets(unowned))
    if not available:
        raise BadRequest(NONE_AVAILABLE)

    asked = {m.metric.name for m in request.metrics}
    errors: list[str] = [unavailable_message(len(unavailable))] if unavailable else []
    zeroed: set[tuple[int, str]] = set()
    old_for_impressions: list[int] = []
    limited = asked & {IMPRESSIONS.name, ENGAGEMENTS.name}
    if request.endpoint is Endpoint.TOTALS and limited:
        old_for_impressions = _older_than(available, posts, now, AGE_LIMIT_DAYS_90)
        zeroed.update((i, name) for i in old_for_impressions for name in limited)
        if old_for_impressions:
            errors.append(IMPRESSIONS_TOO_OLD)
    old_for_video: list[int] = []
    if VIDEO_VIEWS.name in asked:
        old_for_video = _older_than(available, posts, now, AGE_LIMIT_DAYS_1800)
        zeroed.update((i, VIDEO_VIEWS.name) for i in old_for_video)
    return Decision(
        post_ids=tuple(available),
        unavailable=tuple(unavailable),
        unsupported_impressions=tuple(old_for_impressions),
        unsupported_video=tuple(old_for_video),
        errors=tuple(errors),
        zeroed=frozenset(zeroed),
    )


def _older_than(
    ids: list[int], posts: Mapping[int, PostFacts], now: datetime, days: int
) -> list[int]:
    """The Posts whose age ``now - created_at`` exceeds ``days`` days (see module docstring)."""
    cutoff = now - timedelta(days=days)  # now - created > limit, exactly: created < cutoff
    return [i for i in ids if posts[i].created_at < cutoff]
