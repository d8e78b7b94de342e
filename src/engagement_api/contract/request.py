"""Parsing and validating a read request body (spec sections 3 and 4).

:func:`parse_request` reports every problem of a body at once, in the order of the fields of
the spec: ``tweet_ids``, ``engagement_types``, ``groupings``, ``start``/``end``.

Decisions **(ours)** where the spec is silent:

- A missing required field and ``null`` get the same "required" message.
- ``Invalid Tweet ID`` messages are listed once per distinct value, in request order; numbers
  are echoed as written in the body (even those over 2**64-1, which JSON parsers read as floats).
- "Too many Tweet IDs" counts the distinct *valid* IDs.
- Unknown or not-allowed engagement types are listed sorted and de-duplicated in the spec's one
  message; entries that are not non-empty strings are shown as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from engagement_api.contract.body import decode_object, label, raw_field, show
from engagement_api.contract.errors import BadRequest
from engagement_api.contract.groupings import Grouping, parse_groupings
from engagement_api.contract.ids import U64_MAX, IdError, parse_id
from engagement_api.contract.metrics import Endpoint, Metric, resolve
from engagement_api.contract.windows import Window, historical_window, window_28hr

__all__ = [
    "AskedMetric",
    "EngagementRequest",
    "Grouping",
    "Window",
    "parse_request",
    "unsupported_engagement_types",
]

DEFAULT_LOOKBACK_DAYS = 365


@dataclass(frozen=True)
class AskedMetric:
    """A metric as asked: ``asked`` is the wire name used (``media_clicks``), ``metric`` the
    canonical :class:`Metric` it stands for."""

    asked: str
    metric: Metric


@dataclass(frozen=True)
class EngagementRequest:
    """A valid request: IDs distinct and ascending, metrics distinct and sorted by asked name,
    groupings in request order, the window (``None`` on ``/totals``)."""

    endpoint: Endpoint
    post_ids: tuple[int, ...]
    metrics: tuple[AskedMetric, ...]
    groupings: tuple[Grouping, ...]
    window: Window | None


def parse_request(
    endpoint: Endpoint, body: bytes, now: datetime, lookback_days: int = DEFAULT_LOOKBACK_DAYS
) -> EngagementRequest:
    """Parse a request body for ``endpoint``; raises :class:`BadRequest` listing every problem."""
    fields = decode_object(body)
    post_ids, problems = _tweet_ids(fields.get("tweet_ids"), endpoint, body)
    metrics, more = _engagement_types(fields.get("engagement_types"), endpoint)
    problems += more
    groupings, more = parse_groupings(fields.get("groupings"), endpoint)
    problems += more
    window: Window | None = None
    if endpoint is Endpoint.HISTORICAL:
        window, more = historical_window(fields, now, lookback_days)
        problems += more
    elif endpoint is Endpoint.HR28:
        window = window_28hr(now)
    if problems:
        raise BadRequest(problems)
    return EngagementRequest(endpoint, post_ids, metrics, groupings, window)


def unsupported_engagement_types(names: list[str]) -> str:
    """The spec's message for engagement types that are unknown or not allowed here."""
    listed = ", ".join(sorted(set(names)))
    return (
        f"One or more of the engagement types you have specified are not supported: ({listed}). "
        "Please adjust your request and try again."
    )


def _tweet_ids(value: object, endpoint: Endpoint, body: bytes) -> tuple[tuple[int, ...], list[str]]:
    if value is None:
        return (), ["tweet_ids: required, a non-empty array of Tweet ID strings"]
    if not isinstance(value, list):
        return (), [f"tweet_ids: must be an array of Tweet ID strings, not {show(value)}"]
    if not value:
        return (), ["tweet_ids: [] must contain at least one Tweet ID"]
    fast = _plain_ids(value)
    ids: set[int] = set() if fast is None else set(fast)
    invalid: dict[str, None] = {}
    written: list[object] = value
    for position, item in enumerate(() if fast is not None else value):
        try:
            ids.add(parse_id(item))
        except IdError:
            if isinstance(item, float) and written is value:
                written = _as_written(body, value)
            invalid[f"Invalid Tweet ID: {show(written[position])}"] = None
    problems = list(invalid)
    if len(ids) > endpoint.max_ids:
        problems.append(
            f"Too many Tweet IDs: {len(ids)} given, at most {endpoint.max_ids} allowed on "
            f"{endpoint.path}"
        )
    return tuple(sorted(ids)), problems


#: The most digits an ID may have and still be read by :func:`_plain_ids` (below 2**64 - 1).
_PLAIN_DIGITS = len(str(U64_MAX)) - 1


def _plain_ids(value: list[object]) -> map[int] | None:
    """The IDs of a list of plain ASCII-digit strings of at most 19 digits (every one a valid
    ID, as :func:`parse_id` reads it), decoded in C; None when any item is anything else (each
    item then goes through :func:`parse_id`, for its own message)."""
    try:
        joined = "".join(value)  # type: ignore[arg-type]  # (a TypeError: not all strings)
    except TypeError:
        return None
    strings = cast(list[str], value)
    # (bytes.isdigit knows ASCII digits only, and is faster than str.isdigit)
    if not (joined.isascii() and joined.encode().isdigit()) or not all(strings):
        return None
    if max(map(len, strings)) > _PLAIN_DIGITS:
        return None
    return map(int, strings)


def _engagement_types(
    value: object, endpoint: Endpoint
) -> tuple[tuple[AskedMetric, ...], list[str]]:
    if value is None:
        return (), ["engagement_types: required, a non-empty array of engagement type names"]
    if not isinstance(value, list):
        return (), [
            f"engagement_types: must be an array of engagement type names, not {show(value)}"
        ]
    if not value:
        return (), ["engagement_types: [] must contain at least one engagement type"]
    asked: dict[str, Metric] = {}
    refused: list[str] = []
    for item in value:
        metric = resolve(item) if isinstance(item, str) else None
        if isinstance(item, str) and metric is not None and endpoint in metric.endpoints:
            asked[item] = metric
        else:
            refused.append(label(item))
    if refused:
        return (), [unsupported_engagement_types(refused)]
    return tuple(AskedMetric(name, asked[name]) for name in sorted(asked)), []


def _as_written(body: bytes, value: list[object]) -> list[object]:
    """``tweet_ids`` re-read with numbers as written (orjson reads big integers as floats)."""
    raw = raw_field(body, "tweet_ids")
    return raw if isinstance(raw, list) and len(raw) == len(value) else value
