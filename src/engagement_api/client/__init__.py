"""A Python client for the Engagement API: ours, or any server that speaks the contract.

>>> from engagement_api.client import EngagementClient, OAuth1User
>>> client = EngagementClient("https://host/insights/engagement",
...                           auth=OAuth1User(key, secret, token, token_secret))  # doctest: +SKIP
>>> client.historical(ids, ["impressions"], start="2026-01-01", end="2026-03-01")  # doctest: +SKIP

``EngagementClient`` (sync) and ``AsyncEngagementClient`` take any number of Post IDs and, on
``historical``, any date range: they split IDs (250 per request on ``/totals``, 25 on ``/28hr``
and ``/historical``) and ranges (windows of at most 28 days, on whole hours), send the pieces
with bounded concurrency, retry what is worth retrying, and merge the answers into the answer
one big request would have given. See docs/client.md.

Signing is an ``httpx.Auth``: :class:`OAuth1User` (OAuth 1.0a user context),
:class:`OAuth1App` (OAuth 1.0a app-only, no token) and :class:`BearerAuth`.

Exceptions::

    EngagementError                 every error the client raises
    ├── TransportError              could not connect / connection broke (after retries)
    └── ApiError                    an error status; .status_code, .messages, .response
        ├── ValidationError         400 (invalid request; "Tweet ID(s) are unavailable")
        ├── AuthenticationError     401 (credentials not accepted)
        ├── ForbiddenError          403 (app not enabled, private metrics, unowned Posts;
        │                                .forbidden_tweet_ids)
        ├── RateLimitedError        429 (.reset: x-per-minute-reset, Unix seconds)
        └── ServerError             5xx

Other statuses (404, 405, 413) raise ``ApiError`` itself. 429, 500, 502, 503 and transport
errors are retried first (:class:`RetryPolicy`); the error is raised once the retries run out.
``ValueError``/``TypeError`` are raised, before anything is sent, for arguments of the wrong
shape (no IDs, a string where a list is wanted, an unreadable date).
"""

from __future__ import annotations

from engagement_api.client.aio import AsyncEngagementClient
from engagement_api.client.auth import BearerAuth, OAuth1, OAuth1App, OAuth1User
from engagement_api.client.errors import (
    ApiError,
    AuthenticationError,
    EngagementError,
    ForbiddenError,
    RateLimitedError,
    ServerError,
    TransportError,
    ValidationError,
)
from engagement_api.client.result import Result, Row
from engagement_api.client.retry import NO_RETRY, RetryPolicy
from engagement_api.client.sync import EngagementClient

__all__ = [
    "NO_RETRY",
    "ApiError",
    "AsyncEngagementClient",
    "AuthenticationError",
    "BearerAuth",
    "EngagementClient",
    "EngagementError",
    "ForbiddenError",
    "OAuth1",
    "OAuth1App",
    "OAuth1User",
    "RateLimitedError",
    "Result",
    "RetryPolicy",
    "Row",
    "ServerError",
    "TransportError",
    "ValidationError",
]
