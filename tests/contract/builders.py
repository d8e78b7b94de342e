"""Small builders shared by the contract tests."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from engagement_api.contract.metrics import Endpoint
from engagement_api.contract.request import EngagementRequest, parse_request

#: The fixed "now" of the contract tests (never the real clock).
NOW = datetime(2026, 11, 26, 11, 20, 30, tzinfo=UTC)

PER_TWEET = {"perTweet": {"group_by": ["tweet.id", "engagement.type"]}}

_UNSET = object()


def body(
    tweet_ids: object = _UNSET,
    engagement_types: object = _UNSET,
    groupings: object = _UNSET,
    **extra: object,
) -> bytes:
    """A request body with sensible defaults; pass a field to replace it, `extra` to add."""
    fields: dict[str, object] = {
        "tweet_ids": ["20"] if tweet_ids is _UNSET else tweet_ids,
        "engagement_types": ["favorites"] if engagement_types is _UNSET else engagement_types,
        "groupings": PER_TWEET if groupings is _UNSET else groupings,
    }
    fields.update(extra)
    return orjson.dumps(fields)


def without(field: str) -> bytes:
    """The default body without one field."""
    fields = orjson.loads(body())
    del fields[field]
    return orjson.dumps(fields)


def parse(endpoint: Endpoint, raw: bytes, now: datetime = NOW) -> EngagementRequest:
    return parse_request(endpoint, raw, now)
