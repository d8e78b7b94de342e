"""The metrics table of the contract (spec section 6) and the codes the store keeps them under."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Endpoint(str, Enum):  # noqa: UP042 (str() and format() stay as they are)
    """The three read endpoints."""

    TOTALS = "totals"
    HR28 = "28hr"
    HISTORICAL = "historical"

    @property
    def path(self) -> str:
        return "/" + self.value

    @property
    def max_ids(self) -> int:
        return 250 if self is Endpoint.TOTALS else 25


ALL_ENDPOINTS = frozenset(Endpoint)
WINDOWED = frozenset({Endpoint.HR28, Endpoint.HISTORICAL})


@dataclass(frozen=True, slots=True)
class Metric:
    """One metric: its wire name, its stable store code, where it may be asked, whether public."""

    name: str
    code: int
    endpoints: frozenset[Endpoint]
    public: bool
    is_engagement: bool  # each event of it also counts one `engagements`
    undoable: bool  # may carry negative counts (undo events)


_ROWS: tuple[Metric, ...] = (
    Metric("impressions", 1, ALL_ENDPOINTS, False, False, False),
    Metric("engagements", 2, ALL_ENDPOINTS, False, False, False),
    Metric("favorites", 3, ALL_ENDPOINTS, True, True, True),
    Metric("retweets", 4, ALL_ENDPOINTS, True, True, True),
    Metric("quote_tweets", 5, frozenset({Endpoint.TOTALS}), True, True, True),
    Metric("replies", 6, ALL_ENDPOINTS, True, True, True),
    Metric("video_views", 7, ALL_ENDPOINTS, True, False, False),
    Metric("media_views", 8, WINDOWED, False, False, False),
    Metric("media_engagements", 9, WINDOWED, False, True, False),
    Metric("url_clicks", 10, WINDOWED, False, True, False),
    Metric("hashtag_clicks", 11, WINDOWED, False, True, False),
    Metric("detail_expands", 12, WINDOWED, False, True, False),
    Metric("permalink_clicks", 13, WINDOWED, False, True, False),
    Metric("app_install_attempts", 14, WINDOWED, False, True, False),
    Metric("app_opens", 15, WINDOWED, False, True, False),
    Metric("email_tweet", 16, WINDOWED, False, True, False),
    Metric("user_follows", 17, WINDOWED, False, True, False),
    Metric("user_profile_clicks", 18, WINDOWED, False, True, False),
    # Interactions with no metric of their own: only ingested, only counted into `engagements`.
    Metric("other_engagements", 19, frozenset(), False, True, False),
)

METRICS: dict[str, Metric] = {m.name: m for m in _ROWS}
BY_CODE: dict[int, Metric] = {m.code: m for m in _ROWS}

#: Old names accepted in requests and events, mapped to the current name.
ALIASES: dict[str, str] = {"media_clicks": "media_engagements"}

ENGAGEMENTS = METRICS["engagements"]
IMPRESSIONS = METRICS["impressions"]
VIDEO_VIEWS = METRICS["video_views"]

#: Metric names that an ingested event may carry (after alias resolution).
INGESTIBLE: frozenset[str] = frozenset(m.name for m in _ROWS if m.name != "engagements")

#: Age limits (spec section 4): metric name -> (endpoints it applies on, max age in days).
AGE_LIMIT_DAYS_90 = 90
AGE_LIMIT_DAYS_1800 = 1800


def resolve(name: str) -> Metric | None:
    """The metric a wire name stands for (aliases included), or None when unknown."""
    return METRICS.get(ALIASES.get(name, name))


def allowed_on(endpoint: Endpoint) -> list[str]:
    """Names a request may ask for on an endpoint (sorted, aliases excluded)."""
    return sorted(m.name for m in _ROWS if endpoint in m.endpoints)
