"""The document's examples: requests, answers and error messages.

Answers are built from the answer Structs, and every error message comes from where the server
makes it (the contract's exceptions, the auth reasons, the policy's messages, or by running the
code that raises it), so an example cannot drift from what is sent. The test of the document
loads exactly these examples and checks the server's answers match.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

import msgspec
import orjson

from engagement_api.api.answers import (
    HEALTHY,
    Accepted,
    Answer,
    CountedUser,
    EventsAccepted,
    Usage,
    unavailable,
)
from engagement_api.api.body import Body
from engagement_api.api.errors import method_not_allowed, not_found
from engagement_api.api.reading import PREFIX
from engagement_api.auth import reasons
from engagement_api.contract.errors import (
    ApiError,
    BadRequest,
    Conflict,
    Forbidden,
    InternalError,
    RateLimited,
    ServiceUnavailable,
    Unauthorized,
)
from engagement_api.contract.metrics import Endpoint
from engagement_api.contract.policy import NONE_AVAILABLE, USER_CONTEXT_REQUIRED
from engagement_api.contract.request import parse_request
from engagement_api.ingest import events
from engagement_api.ingest.errors import BatchRejected, LineError
from engagement_api.store.errors import IdempotencyConflict

Json = dict[str, Any]

#: Example Post, user and counts (tests load exactly this and check the answers match).
EXAMPLE_POST: Final = "1060976163948904448"
EXAMPLE_USER: Final = "42"
#: The ``Idempotency-Key`` of the events example.
EXAMPLE_KEY: Final = "batch-0001"


def answer(value: Answer) -> Json:
    """An answer Struct as the JSON value of an example."""
    found: Json = msgspec.to_builtins(value)
    return found


def _raised(call: Callable[[], object]) -> ApiError:
    """The error that ``call`` raises (the server's own code makes the message)."""
    try:
        call()
    except ApiError as exc:
        return exc
    raise AssertionError(f"{call!r} raised no ApiError")


# -- the read endpoints ------------------------------------------------------------------------


def read_examples(endpoint: Endpoint) -> tuple[Json, Json]:
    """(request example, answer example) for one read endpoint."""
    if endpoint is Endpoint.TOTALS:
        request: Json = {
            "tweet_ids": [EXAMPLE_POST],
            "engagement_types": ["favorites", "replies"],
            "groupings": {"perTweet": {"group_by": ["tweet.id", "engagement.type"]}},
        }
        tree: Json = {"perTweet": {EXAMPLE_POST: {"favorites": "12", "replies": "2"}}}
    elif endpoint is Endpoint.HR28:
        request = {
            "tweet_ids": [EXAMPLE_POST],
            "engagement_types": ["impressions", "favorites"],
            "groupings": {"Grand Totals": {"group_by": ["engagement.type"]}},
        }
        tree = {
            "start": "2026-11-25T08:00:00Z",
            "end": "2026-11-26T13:00:00Z",
            "Grand Totals": {"favorites": "12", "impressions": "250"},
        }
    else:
        request = {
            "tweet_ids": [EXAMPLE_POST],
            "engagement_types": ["impressions"],
            "groupings": {"perDay": {"group_by": ["engagement.type", "engagement.day"]}},
            "start": "2026-11-20",
            "end": "2026-11-22",
        }
        tree = {
            "start": "2026-11-20T00:00:00Z",
            "end": "2026-11-22T00:00:00Z",
            "perDay": {"impressions": {"2026-11-20": "100", "2026-11-21": "451"}},
        }
    return request, tree


def _invalid_id() -> ApiError:
    """The totals request example with one ID that is not a number, as the parser refuses it."""
    body = {**read_examples(Endpoint.TOTALS)[0], "tweet_ids": ["12ab"]}
    now = datetime(2026, 11, 26, tzinfo=UTC)  # (the totals endpoint has no window)
    return _raised(lambda: parse_request(Endpoint.TOTALS, orjson.dumps(body), now))


INVALID_ID: Final = _invalid_id()
NONE_AVAILABLE_ERROR: Final = BadRequest(NONE_AVAILABLE)
UNKNOWN_AUTHORIZATION: Final = Unauthorized(reasons.UNKNOWN_AUTHORIZATION_TYPE)
INVALID_SIGNATURE: Final = Unauthorized(reasons.INVALID_SIGNATURE)
APP_NOT_AUTHORIZED: Final = Forbidden(reasons.APP_NOT_AUTHORIZED)
USER_CONTEXT: Final = Forbidden(USER_CONTEXT_REQUIRED)
NO_SUCH_PATH: Final = not_found(f"{PREFIX}/total")
WRONG_METHOD: Final = method_not_allowed("GET", PREFIX + Endpoint.TOTALS.path)
RATE_LIMITED: Final = RateLimited()
INTERNAL: Final = InternalError()
UNAVAILABLE: Final = ServiceUnavailable()


def too_large(limit: int) -> ApiError:
    """The 413 of a body over ``limit`` bytes."""
    return _raised(Body(b"", True, limit).check)


# -- ingest ------------------------------------------------------------------------------------

INGEST_KEY_NOT_FOUND: Final = Unauthorized(reasons.INGEST_KEY_NOT_FOUND)
POST_NOT_LOADED: Final = BatchRejected(
    [LineError(3, "tweet_id", "1869999999999999998", events.POST_NOT_LOADED)]
)
KEY_REUSED: Final = Conflict(str(IdempotencyConflict(EXAMPLE_KEY)))


def ingest_examples(kind: str) -> tuple[str, str, list[Json], Json]:
    """(NDJSON, CSV, JSON array, answer) examples of ``/ingest/<kind>``."""
    if kind == "users":
        return (
            '{"id": "42", "handle": "ada"}\n{"id": "43", "handle": "grace"}\n',
            "id,handle\n42,ada\n43,grace\n",
            [{"id": EXAMPLE_USER, "handle": "ada"}, {"id": "43", "handle": "grace"}],
            answer(Accepted(accepted=2)),
        )
    if kind == "tweets":
        return (
            f'{{"id": "{EXAMPLE_POST}", "author_id": "{EXAMPLE_USER}", '
            '"created_at": "2026-11-20T08:15:00Z", '
            f'"media": [{{"media_key": "7_{EXAMPLE_POST}", "type": "video"}}]}}\n',
            "id,author_id,created_at,media\n"
            f"{EXAMPLE_POST},{EXAMPLE_USER},2026-11-20T08:15:00Z,video:7_{EXAMPLE_POST}\n",
            [
                {
                    "id": EXAMPLE_POST,
                    "author_id": EXAMPLE_USER,
                    "created_at": "2026-11-20T08:15:00Z",
                }
            ],
            answer(Accepted(accepted=1)),
        )
    return (
        f'{{"tweet_id": "{EXAMPLE_POST}", "type": "favorites", '
        '"at": "2026-11-26T10:15:03Z"}\n'
        f'{{"tweet_id": "{EXAMPLE_POST}", "type": "impressions", '
        '"at": "2026-11-26T10:20:00Z", "count": 250}\n',
        f"tweet_id,type,at,count\n{EXAMPLE_POST},favorites,2026-11-26T10:15:03Z,1\n",
        [{"tweet_id": EXAMPLE_POST, "type": "favorites", "at": "2026-11-26T10:15:03Z"}],
        answer(EventsAccepted(accepted=2, duplicate=False)),
    )


# -- usage and health --------------------------------------------------------------------------

USAGE: Final = answer(
    Usage(
        app="AppConsumerKey1",
        month="2026-11",
        users=1,
        counted=[CountedUser(id=EXAMPLE_USER, handle="ada")],
    )
)
HEALTHY_EXAMPLE: Final = answer(HEALTHY)
UNAVAILABLE_EXAMPLE: Final = answer(unavailable(*UNAVAILABLE.messages))
