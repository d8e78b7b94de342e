"""The ``groupings`` field of a request (spec section 3) and the response's reserved keys.

Decisions **(ours)** where the spec is silent:

- ``group_by`` entries are matched after ``str.lower()``; no other normalisation (no trimming).
- Extra keys inside a grouping object (next to ``group_by``) are ignored.
- Unknown ``group_by`` values, and ``engagement.day``/``engagement.hour`` on ``/totals``, are
  reported together in the one "groupBys ... not supported" message of the spec, values sorted
  and de-duplicated (known values in their lower-case form, unknown ones as given).
- A grouping whose ``group_by`` is not an array of 1 to 4 entries gets that one message; its
  other rules are not checked (they would only repeat the same mistake).
- Per-grouping messages come in request order, then the request-wide ones (unsupported
  groupBys, more than one 4-entry grouping).
"""

from __future__ import annotations

from dataclasses import dataclass

from engagement_api.contract.body import label, show
from engagement_api.contract.metrics import Endpoint

TWEET_ID = "tweet.id"
TYPE = "engagement.type"
DAY = "engagement.day"
HOUR = "engagement.hour"
KNOWN = frozenset({TWEET_ID, TYPE, DAY, HOUR})
TIME_LEVELS = frozenset({DAY, HOUR})
FOUR_LEVEL_ORDERS = ((TWEET_ID, TYPE, DAY, HOUR), (TYPE, TWEET_ID, DAY, HOUR))
MAX_GROUPINGS = 3
MAX_LEVELS = 4

#: Top-level response keys that a grouping name may not take (spec section 5).
RESERVED_KEYS = frozenset(
    {
        "start",
        "end",
        "errors",
        "unavailable_tweet_ids",
        "unsupported_for_impressions_engagements_tweet_ids",
        "unsupported_for_video_views_tweet_ids",
    }
)

_EXAMPLE = '{"group_by": ["tweet.id", "engagement.type"]}'


@dataclass(frozen=True)
class Grouping:
    """One named grouping: the response key and its nesting levels (lower-case, in order)."""

    name: str
    group_by: tuple[str, ...]


def unsupported_group_bys(values: list[str]) -> str:
    """The spec's message for group_by values that are unknown or not allowed here."""
    listed = ", ".join(sorted(set(values)))
    return (
        f"One or more of the groupBys you have specified are not supported: ({listed}). "
        "Please adjust your request and try again."
    )


def parse_groupings(value: object, endpoint: Endpoint) -> tuple[tuple[Grouping, ...], list[str]]:
    """The groupings in request order, and every problem found (empty when valid)."""
    if value is None:
        example = f'{{"perTweet": {_EXAMPLE}}}'
        return (), [f"groupings: required, an object of named groupings such as {example}"]
    if not isinstance(value, dict):
        return (), [f"groupings: must be an object of named groupings, not {show(value)}"]
    problems: list[str] = []
    if not 1 <= len(value) <= MAX_GROUPINGS:
        problems.append(f"groupings: {len(value)} given, 1 to {MAX_GROUPINGS} allowed")
    unsupported: list[str] = []
    groupings: list[Grouping] = []
    for name, spec in value.items():
        grouping = _parse_one(name, spec, endpoint, problems, unsupported)
        if grouping is not None:
            groupings.append(grouping)
    if unsupported:
        problems.append(unsupported_group_bys(unsupported))
    four = [g.name for g in groupings if len(g.group_by) == MAX_LEVELS]
    if len(four) > 1:
        names = ", ".join(show(n) for n in four)
        problems.append(f"groupings: at most one grouping may have 4 group_by entries ({names})")
    return tuple(groupings), problems


def _parse_one(
    name: str, spec: object, endpoint: Endpoint, problems: list[str], unsupported: list[str]
) -> Grouping | None:
    """One grouping; appends its problems (and its unsupported values) and returns None if bad."""
    before = len(problems)
    where = f"groupings: {show(name)}"
    if not name:
        problems.append(f"{where} is not a valid grouping name: it must not be empty")
    elif name in RESERVED_KEYS:
        problems.append(f"{where} is a reserved response key and cannot name a grouping")
    entries = spec.get("group_by") if isinstance(spec, dict) else None
    if not isinstance(spec, dict):
        problems.append(f"{where} must be an object such as {_EXAMPLE}, not {show(spec)}")
        return None
    if not isinstance(entries, list):
        problems.append(f"{where} group_by must be an array of 1 to 4 entries, not {show(entries)}")
        return None
    if not 1 <= len(entries) <= MAX_LEVELS:
        problems.append(f"{where} group_by must have 1 to 4 entries")
        return None
    levels: list[str] = []
    for entry in entries:
        level = entry.lower() if isinstance(entry, str) else None
        if level not in KNOWN:
            unsupported.append(label(entry))
            continue
        if endpoint is Endpoint.TOTALS and level in TIME_LEVELS:
            unsupported.append(level)
        if level in levels:
            problems.append(f"{where} group_by lists {show(level)} more than once")
        else:
            levels.append(level)
    if TYPE not in levels:
        problems.append(f'{where} group_by must include "engagement.type"')
    if len(levels) == MAX_LEVELS and tuple(levels) not in FOUR_LEVEL_ORDERS:
        orders = " or ".join(_listing(order) for order in FOUR_LEVEL_ORDERS)
        given = _listing(levels)
        problems.append(f"{where} group_by {given} is not a valid 4-entry order: use {orders}")
    if len(problems) > before or len(levels) != len(entries):
        return None
    return Grouping(name, tuple(levels))


def _listing(levels: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(levels) + "]"
