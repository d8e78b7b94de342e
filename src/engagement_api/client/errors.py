"""The client's exception tree (see the package docstring for the picture)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import httpx

_FORBIDDEN_TWEETS = re.compile(r"^Forbidden to access tweets: (\d+(?:, \d+)*)$")
UNAVAILABLE_MESSAGE = "Tweet ID(s) are unavailable"


class EngagementError(Exception):
    """Base class of every error this client raises."""


class TransportError(EngagementError):
    """The server could not be reached or the connection broke (after the retries)."""

    def __init__(self, message: str, cause: httpx.TransportError | None = None) -> None:
        super().__init__(message)
        self.cause = cause


class ApiError(EngagementError):
    """The server answered with an error status. ``messages`` is its ``{"errors": [...]}``."""

    def __init__(
        self, status_code: int, messages: Sequence[str], response: httpx.Response | None = None
    ) -> None:
        self.status_code = status_code
        self.messages: list[str] = list(messages)
        self.response = response
        super().__init__(f"{status_code}: " + "; ".join(self.messages))


class AuthenticationError(ApiError):
    """401: the credentials were not accepted."""


class ForbiddenError(ApiError):
    """403: authenticated, but not allowed (app not enabled, private metrics, unowned Posts)."""

    @property
    def forbidden_tweet_ids(self) -> list[str]:
        """The IDs named by ``Forbidden to access tweets: ...`` (empty for other 403s)."""
        return forbidden_tweet_ids(self.messages)


class ValidationError(ApiError):
    """400: the request was refused as invalid (including ``Tweet ID(s) are unavailable``)."""


class RateLimitedError(ApiError):
    """429: over the per-minute limit. ``reset`` is ``x-per-minute-reset`` (Unix seconds)."""

    @property
    def reset(self) -> float | None:
        return _reset_of(self.response)


class ServerError(ApiError):
    """5xx: a server fault or the store is unavailable."""


def _reset_of(response: httpx.Response | None) -> float | None:
    if response is None:
        return None
    raw = response.headers.get("x-per-minute-reset")
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


def forbidden_tweet_ids(messages: Sequence[str]) -> list[str]:
    out: list[str] = []
    for message in messages:
        match = _FORBIDDEN_TWEETS.match(message)
        if match:
            out.extend(match.group(1).split(", "))
    return out


def error_for(response: httpx.Response) -> ApiError:
    """The exception for an error response (its body's messages, else its text)."""
    try:
        body = response.json()
        messages = [str(m) for m in body["errors"]]
    except Exception:  # not the contract's error body
        messages = [response.text.strip() or response.reason_phrase]
    status = response.status_code
    kind: type[ApiError]
    if status == 400:
        kind = ValidationError
    elif status == 401:
        kind = AuthenticationError
    elif status == 403:
        kind = ForbiddenError
    elif status == 429:
        kind = RateLimitedError
    elif status >= 500:
        kind = ServerError
    else:
        kind = ApiError
    return kind(status, messages, response)
