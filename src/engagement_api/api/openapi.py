"""The OpenAPI 3.1 description of this server (``GET /openapi.json``) and a readable rendering of
it (``GET /docs``: one self-contained HTML page, no scripts, nothing fetched from elsewhere).

The document is written by hand, from the contract's own tables (metrics, endpoints, group_by
values, reserved keys) and the running server's settings (size limits), so it says what this
server does. Tests check it validates as OpenAPI 3.1, covers every route of the app, that its
examples are what the server answers, and Schemathesis checks real answers against it.
"""

from __future__ import annotations

import html
from typing import Any, Final

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from engagement_api import __version__
from engagement_api.api.responses import json_response
from engagement_api.contract.groupings import RESERVED_KEYS
from engagement_api.contract.metrics import ALIASES, METRICS, Endpoint
from engagement_api.contract.ratelimit import LIMIT_HEADER, REMAINING_HEADER, RESET_HEADER
from engagement_api.settings import Settings

Json = dict[str, Any]

SCHEMAS: Final = "#/components/schemas/"
RESPONSES: Final = "#/components/responses/"
UNAUTHORIZED_PREFIX: Final = "Your account could not be authenticated. Reason: "
MAX_ID: Final = 2**64 - 1

#: Example Post, user and counts (tests load exactly this and check the answers match).
EXAMPLE_POST: Final = "1060976163948904448"
EXAMPLE_USER: Final = "42"


def ref(name: str) -> Json:
    return {"$ref": SCHEMAS + name}


def _response_ref(name: str) -> Json:
    return {"$ref": RESPONSES + name}


def _error_example(*messages: str) -> Json:
    return {"errors": list(messages)}


# -- schemas -----------------------------------------------------------------------------------


def _metric_names(endpoint: Endpoint) -> list[str]:
    names = [m.name for m in METRICS.values() if endpoint in m.endpoints]
    names += [old for old, new in ALIASES.items() if endpoint in METRICS[new].endpoints]
    return sorted(names)


def _group_by_values(endpoint: Endpoint) -> list[str]:
    values = ["tweet.id", "engagement.type"]
    if endpoint is not Endpoint.TOTALS:
        values += ["engagement.day", "engagement.hour"]
    return values


def _request_schema(endpoint: Endpoint) -> Json:
    group_by = _group_by_values(endpoint)
    properties: Json = {
        "tweet_ids": {
            "type": "array",
            "minItems": 1,
            "items": ref("TweetIdIn"),
            "description": f"Post IDs; at most {endpoint.max_ids} distinct after de-duplication "
            "(leading zeros dropped, surrounding whitespace trimmed).",
        },
        "engagement_types": {
            "type": "array",
            "minItems": 1,
            "items": {"type": "string", "enum": _metric_names(endpoint)},
            "description": "Metric names allowed on this endpoint (case-sensitive); "
            "`media_clicks` is the old name of `media_engagements`.",
        },
        "groupings": {
            "type": "object",
            "minProperties": 1,
            "maxProperties": 3,
            "propertyNames": {"minLength": 1, "not": {"enum": sorted(RESERVED_KEYS)}},
            "additionalProperties": {
                "type": "object",
                "required": ["group_by"],
                "properties": {
                    "group_by": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": len(group_by),
                        "uniqueItems": True,
                        "contains": {"const": "engagement.type"},
                        "items": {"type": "string", "enum": group_by},
                        "description": "Levels of the answer's tree, outermost first; must "
                        "include `engagement.type`. Entries are matched case-insensitively. "
                        "A 4-entry list must be `[tweet.id, engagement.type, engagement.day, "
                        "engagement.hour]` or `[engagement.type, tweet.id, engagement.day, "
                        "engagement.hour]`, in at most one grouping of a request.",
                    }
                },
            },
            "description": "1 to 3 named groupings; each name becomes a top-level key of the "
            "answer and must not be a reserved key.",
        },
    }
    if endpoint is Endpoint.HISTORICAL:
        when = (
            "`2026-10-01`, `2026-10-01T12:00`, `2026-10-01T12:00:00Z`, fractions, "
            "`+02:00`/`+0200` offsets; no zone means UTC. `null` counts as absent."
        )
        properties["start"] = {
            "type": ["string", "null"],
            "description": "Start of the window, floored to the hour. " + when,
        }
        properties["end"] = {
            "type": ["string", "null"],
            "description": "End of the window, ceiled to the hour (at most 28 days after "
            "start, not in the future). " + when,
        }
    return {
        "type": "object",
        "required": ["tweet_ids", "engagement_types", "groupings"],
        "properties": properties,
        "additionalProperties": True,
        "description": "Unknown top-level fields are ignored.",
    }


def _answer_schema(windowed: bool) -> Json:
    ids = {"type": "array", "items": ref("TweetId")}
    properties: Json = {
        "errors": {"type": "array", "items": {"type": "string"}},
        "unavailable_tweet_ids": ids,
        "unsupported_for_impressions_engagements_tweet_ids": ids,
        "unsupported_for_video_views_tweet_ids": ids,
    }
    extra: Json = {}
    if windowed:
        properties = {"start": ref("Hour"), "end": ref("Hour"), **properties}
        extra["required"] = ["start", "end"]
    return {
        "type": "object",
        "properties": properties,
        **extra,
        "additionalProperties": ref("GroupingTree"),
        "description": "One key per grouping of the request (its tree), plus the reserved "
        "keys that apply. Every count is a string of decimal digits.",
    }


def _record_schemas() -> Json:
    id_in = {"oneOf": [ref("TweetId"), {"type": "integer", "minimum": 0, "maximum": MAX_ID}]}
    return {
        "UserRecord": {
            "type": "object",
            "required": ["id", "handle"],
            "properties": {
                "id": id_in,
                "handle": {"type": "string", "pattern": "^[A-Za-z0-9_]{1,15}$"},
            },
        },
        "PostRecord": {
            "type": "object",
            "required": ["id", "author_id", "created_at"],
            "properties": {
                "id": id_in,
                "author_id": id_in,
                "created_at": {"type": "string"},
                "media": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["media_key", "type"],
                        "properties": {
                            "media_key": {"type": "string", "minLength": 1},
                            "type": {"enum": ["photo", "video", "animated_gif"]},
                        },
                    },
                },
                "protected": {"type": "boolean"},
                "deleted": {"type": "boolean"},
            },
        },
        "EventRecord": {
            "type": "object",
            "required": ["tweet_id", "type", "at"],
            "properties": {
                "tweet_id": id_in,
                "type": {
                    "type": "string",
                    "enum": sorted({m for m in METRICS if m != "engagements"} | set(ALIASES)),
                },
                "at": {"type": "string"},
                "count": {
                    "type": "integer",
                    "minimum": -(10**12),
                    "maximum": 10**12,
                    "not": {"const": 0},
                    "default": 1,
                },
            },
        },
    }


def _schemas() -> Json:
    schemas: Json = {
        "TweetId": {"type": "string", "pattern": "^[0-9]+$", "examples": [EXAMPLE_POST]},
        "TweetIdIn": {
            "oneOf": [
                {"type": "string", "pattern": "^\\s*[0-9]+\\s*$"},
                {"type": "integer", "minimum": 0, "maximum": MAX_ID},
            ],
            "description": "A string of decimal digits or a JSON integer (read exactly), at "
            f"most {MAX_ID}.",
        },
        "Count": {
            "type": "string",
            "pattern": "^-?[0-9]+$",
            "description": "A count as a string of decimal digits; a window sum can be "
            "negative after undo events.",
        },
        "Hour": {
            "type": "string",
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:00:00Z$",
            "examples": ["2026-11-25T08:00:00Z"],
        },
        "GroupingTree": {
            "type": "object",
            "additionalProperties": {"anyOf": [ref("Count"), ref("GroupingTree")]},
            "description": "Nested objects whose levels follow the grouping's `group_by`: "
            "`tweet.id` -> ID string, `engagement.type` -> metric name, `engagement.day` -> "
            "`YYYY-MM-DD`, `engagement.hour` -> `00`..`23`; the leaves are counts.",
        },
        "Error": {
            "type": "object",
            "required": ["errors"],
            "properties": {"errors": {"type": "array", "minItems": 1, "items": {"type": "string"}}},
            "additionalProperties": False,
            "description": "Every error body: one message per problem found.",
        },
        "Accepted": {
            "type": "object",
            "required": ["accepted"],
            "properties": {"accepted": {"type": "integer", "minimum": 0}},
            "additionalProperties": False,
        },
        "EventsAccepted": {
            "type": "object",
            "required": ["accepted", "duplicate"],
            "properties": {
                "accepted": {"type": "integer", "minimum": 0},
                "duplicate": {"type": "boolean"},
            },
            "additionalProperties": False,
        },
        "Usage": {
            "type": "object",
            "required": ["app", "month", "users"],
            "properties": {
                "app": {"type": "string", "description": "The signing app's consumer key."},
                "month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
                "users": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "Distinct users whose access token signed a 200 that "
                    "asked for at least one Post they own, in that UTC month.",
                },
            },
            "additionalProperties": False,
        },
        "Health": {
            "type": "object",
            "required": ["status"],
            "properties": {
                "status": {"enum": ["ok", "unavailable"]},
                "errors": {"type": "array", "items": {"type": "string"}},
            },
            "additionalProperties": False,
        },
        "TotalsAnswer": _answer_schema(windowed=False),
        "WindowedAnswer": _answer_schema(windowed=True),
    }
    for endpoint in Endpoint:
        schemas[f"{_name(endpoint)}Request"] = _request_schema(endpoint)
    schemas.update(_record_schemas())
    return schemas


def _name(endpoint: Endpoint) -> str:
    return {Endpoint.TOTALS: "Totals", Endpoint.HR28: "Hr28", Endpoint.HISTORICAL: "Historical"}[
        endpoint
    ]


# -- responses ---------------------------------------------------------------------------------

RATE_HEADERS: Final = {
    LIMIT_HEADER: "XPerMinuteLimit",
    REMAINING_HEADER: "XPerMinuteRemaining",
    RESET_HEADER: "XPerMinuteReset",
}


def _headers_components() -> Json:
    def header(description: str) -> Json:
        return {"description": description, "schema": {"type": "string", "pattern": "^[0-9]+$"}}

    return {
        "XPerMinuteLimit": header("Requests this app may make on this endpoint per minute."),
        "XPerMinuteRemaining": header("Requests left in the current minute."),
        "XPerMinuteReset": header("Unix seconds of the start of the next minute (UTC)."),
        "Allow": {"description": "The methods the path accepts.", "schema": {"type": "string"}},
    }


def _error_response(description: str, *examples: str) -> Json:
    content: Json = {"schema": ref("Error")}
    if examples:
        content["examples"] = {
            f"e{i}": {"value": _error_example(message)} for i, message in enumerate(examples)
        }
    return {"description": description, "content": {"application/json": content}}


def _responses_components(settings: Settings) -> Json:
    return {
        "BadRequest": _error_response(
            "The body, a field, a grouping or a date is invalid (every problem is listed), or "
            "no requested Post is available.",
            'Invalid Tweet ID: "12ab"',
            "Tweet ID(s) are unavailable",
        ),
        "Unauthorized": _error_response(
            "Authentication failed; the reason names the cause.",
            UNAUTHORIZED_PREFIX + "Unknown Authorization Type",
            UNAUTHORIZED_PREFIX + "Invalid signature",
        ),
        "Forbidden": _error_response(
            "Authenticated but not allowed: the app is not enabled, or the access policy "
            "refuses (private metrics, unowned Posts, app-only on a user-context endpoint).",
            "Your application id is not authorized.",
            "Forbidden to access endpoint: user context required",
        ),
        "NotFound": _error_response("Unknown path.", "No such path: /insights/engagement/total"),
        "MethodNotAllowed": {
            **_error_response(
                "The path does not accept this method.",
                "Method GET is not allowed on /insights/engagement/totals",
            ),
            "headers": {"Allow": {"$ref": "#/components/headers/Allow"}},
        },
        "PayloadTooLarge": _error_response(
            f"The body is over the limit ({settings.max_body_bytes} bytes on the read endpoints).",
            f"Request body is larger than the limit of {settings.max_body_bytes} bytes",
        ),
        "TooManyRequests": _error_response(
            "The app is over its per-minute limit for this endpoint.", "Exceeded rate limit"
        ),
        "ServerError": _error_response(
            "Server fault (never a traceback).", "Internal server error"
        ),
        "Unavailable": _error_response("The store is unavailable; retry.", "Store unavailable"),
    }


def _with_rate_headers(response: Json, required: bool) -> Json:
    """``response`` (inline) with the ``x-per-minute-*`` headers; ``required`` when every
    answer of that status carries them."""
    components = _headers_components()
    headers = {
        name: {**components[component], "required": required}
        for name, component in RATE_HEADERS.items()
    }
    return {**response, "headers": headers}


# -- operations --------------------------------------------------------------------------------

GZIP_NOTE: Final = (
    "When `Accept-Encoding` includes `gzip`, every answer on this path (errors included, except "
    "500) is gzipped with `Content-Encoding: gzip`."
)


def _read_examples(endpoint: Endpoint) -> tuple[Json, Json]:
    """(request example, answer example) for one read endpoint."""
    if endpoint is Endpoint.TOTALS:
        request: Json = {
            "tweet_ids": [EXAMPLE_POST],
            "engagement_types": ["favorites", "replies"],
            "groupings": {"perTweet": {"group_by": ["tweet.id", "engagement.type"]}},
        }
        answer: Json = {"perTweet": {EXAMPLE_POST: {"favorites": "12", "replies": "2"}}}
    elif endpoint is Endpoint.HR28:
        request = {
            "tweet_ids": [EXAMPLE_POST],
            "engagement_types": ["impressions", "favorites"],
            "groupings": {"Grand Totals": {"group_by": ["engagement.type"]}},
        }
        answer = {
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
        answer = {
            "start": "2026-11-20T00:00:00Z",
            "end": "2026-11-22T00:00:00Z",
            "perDay": {"impressions": {"2026-11-20": "100", "2026-11-21": "451"}},
        }
    return request, answer


def _read_operation(endpoint: Endpoint, settings: Settings) -> Json:
    windowed = endpoint is not Endpoint.TOTALS
    request, answer = _read_examples(endpoint)
    if windowed:
        security: list[Json] = [{"oauth1User": []}]
        who = (
            "User context only (OAuth 1.0a with an access token); every available requested "
            "Post must be owned by the token's user."
        )
    else:
        security = [{"oauth1User": []}, {"oauth1App": []}, {"bearer": []}]
        who = (
            "App-only (bearer or OAuth 1.0a without token): public metrics of any Post. User "
            "context: private metrics too, of Posts the user owns."
        )
    summary = {
        Endpoint.TOTALS: "Lifetime totals, as of the request",
        Endpoint.HR28: "The last 28 hours plus the current hour",
        Endpoint.HISTORICAL: "A window of at most 28 days",
    }[endpoint]
    errors = _responses_components(settings)
    ok: Json = {
        "description": "Counts, possibly partial (see `errors` and the `*_tweet_ids` keys).",
        "content": {
            "application/json": {
                "schema": ref("WindowedAnswer" if windowed else "TotalsAnswer"),
                "example": answer,
            }
        },
    }
    return {
        "tags": ["engagement"],
        "operationId": f"engagement{_name(endpoint)}",
        "summary": summary,
        "description": f"{who} At most {endpoint.max_ids} Post IDs. {GZIP_NOTE} Bodies over "
        f"{settings.max_body_bytes} bytes: 413; JSON nested deeper than 32 levels: 400. "
        "Precedence when several things are wrong: 401, 403 (app not enabled), 429, 413, 400 "
        "(body), 403 (policy), 400 (no Post available).",
        "security": security,
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": ref(f"{_name(endpoint)}Request"),
                    "example": request,
                }
            },
        },
        "responses": {
            "200": _with_rate_headers(ok, required=True),
            "400": _with_rate_headers(errors["BadRequest"], required=True),
            "401": _response_ref("Unauthorized"),
            "403": _with_rate_headers(errors["Forbidden"], required=False),
            "413": _with_rate_headers(errors["PayloadTooLarge"], required=True),
            "429": _with_rate_headers(errors["TooManyRequests"], required=True),
            "500": _response_ref("ServerError"),
            "503": _response_ref("Unavailable"),
        },
    }


NDJSON_TYPES: Final = ("application/x-ndjson",)


def _ingest_operation(kind: str, record: str, settings: Settings) -> Json:
    examples = {
        "users": (
            '{"id": "42", "handle": "ada"}\n{"id": "43", "handle": "grace"}\n',
            "id,handle\n42,ada\n43,grace\n",
            [{"id": "42", "handle": "ada"}, {"id": "43", "handle": "grace"}],
            {"accepted": 2},
        ),
        "tweets": (
            '{"id": "1060976163948904448", "author_id": "42", '
            '"created_at": "2026-11-20T08:15:00Z", '
            '"media": [{"media_key": "7_1060976163948904448", "type": "video"}]}\n',
            "id,author_id,created_at,media\n"
            "1060976163948904448,42,2026-11-20T08:15:00Z,video:7_1060976163948904448\n",
            [
                {
                    "id": "1060976163948904448",
                    "author_id": "42",
                    "created_at": "2026-11-20T08:15:00Z",
                }
            ],
            {"accepted": 1},
        ),
        "events": (
            '{"tweet_id": "1060976163948904448", "type": "favorites", '
            '"at": "2026-11-26T10:15:03Z"}\n'
            '{"tweet_id": "1060976163948904448", "type": "impressions", '
            '"at": "2026-11-26T10:20:00Z", "count": 250}\n',
            "tweet_id,type,at,count\n1060976163948904448,favorites,2026-11-26T10:15:03Z,1\n",
            [
                {
                    "tweet_id": "1060976163948904448",
                    "type": "favorites",
                    "at": "2026-11-26T10:15:03Z",
                }
            ],
            {"accepted": 2, "duplicate": False},
        ),
    }[kind]
    ndjson, csv, array, accepted = examples
    text = {"type": "string", "minLength": 1}
    content: Json = {
        "application/x-ndjson": {
            "schema": {**text, "description": f"One {record} JSON object a line."},
            "example": ndjson,
        },
        "application/json": {
            "schema": {"type": "array", "items": ref(record)},
            "example": array,
        },
        "text/csv": {
            "schema": {**text, "description": "A header row, then one record a row."},
            "example": csv,
        },
    }
    parameters: list[Json] = []
    responses: Json = {
        "200": {
            "description": "The batch is committed (durable) and visible.",
            "content": {
                "application/json": {
                    "schema": ref("EventsAccepted" if kind == "events" else "Accepted"),
                    "example": accepted,
                }
            },
        },
        "400": _error_response(
            "Bad lines (one message per problem, none of the batch applied)"
            + (", or a missing or invalid `Idempotency-Key`." if kind == "events" else "."),
            'line 3: tweet_id "1869999999999999998": Post not loaded',
        ),
        "401": _error_response(
            "No ingest key, an unknown one, or API credentials.",
            UNAUTHORIZED_PREFIX + "Ingest key not found",
        ),
        "413": _error_response(
            f"Body over {settings.max_ingest_bytes} bytes, or more than "
            f"{settings.max_ingest_lines} lines.",
            f"Request body is larger than the limit of {settings.max_ingest_bytes} bytes",
        ),
        "500": _response_ref("ServerError"),
        "503": _error_response(
            "The store is unavailable: nothing was applied; resend.", "Store unavailable"
        ),
    }
    if kind == "events":
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": True,
                "description": "1 to 255 visible ASCII characters. A key already applied "
                "answers 200 with `duplicate: true` and applies nothing; the same key with a "
                "different body: 409.",
                "schema": {"type": "string", "pattern": "^[!-~]([ -~]{0,253}[!-~])?$"},
                "example": "batch-0001",
            }
        )
        responses["409"] = _error_response(
            "The key was already applied with a different body.",
            "Idempotency-Key 'batch-0001' was already used for a different batch",
        )
    what = {"users": "Users (upsert)", "tweets": "Posts (upsert)", "events": "Engagement events"}
    return {
        "tags": ["ingest"],
        "operationId": f"ingest{kind.capitalize()}",
        "summary": f"Load {what[kind].lower()}",
        "description": f"{what[kind]} as NDJSON, a JSON array or CSV, validated whole: one bad "
        "line and nothing is applied. Line numbers: NDJSON and CSV physical lines (CSV header "
        f"= line 1), JSON array index + 1. At most {settings.max_ingest_lines} lines and "
        f"{settings.max_ingest_bytes} bytes.",
        "security": [{"ingestKey": []}],
        "parameters": parameters,
        "requestBody": {"required": True, "content": content},
        "responses": dict(sorted(responses.items())),
    }


def _simple_get(
    tag: str, operation_id: str, summary: str, content: Json, extra: Json | None = None
) -> Json:
    return {
        "get": {
            "tags": [tag],
            "operationId": operation_id,
            "summary": summary,
            "security": [],
            "responses": {"200": {"description": summary, "content": content}, **(extra or {})},
        }
    }


def _usage_path() -> Json:
    return {
        "get": {
            "tags": ["usage"],
            "operationId": "usage",
            "summary": "The signing app's usage for a month",
            "description": 'Distinct users ("@handles") whose access token signed a 200 on a '
            "read endpoint that asked for at least one Post they own, in a UTC month. Counted, "
            "never blocking; not rate limited.",
            "security": [{"oauth1User": []}, {"oauth1App": []}, {"bearer": []}],
            "parameters": [
                {
                    "name": "month",
                    "in": "query",
                    "required": False,
                    "description": "`YYYY-MM`; the current UTC month when left out.",
                    "schema": {"type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$"},
                    "example": "2026-11",
                }
            ],
            "responses": {
                "200": {
                    "description": "The count.",
                    "content": {
                        "application/json": {
                            "schema": ref("Usage"),
                            "example": {"app": "AppConsumerKey1", "month": "2026-11", "users": 1},
                        }
                    },
                },
                "400": _error_response("`month` is not `YYYY-MM`."),
                "401": _response_ref("Unauthorized"),
                "403": _error_response(
                    "The app is not enabled.", "Your application id is not authorized."
                ),
                "500": _response_ref("ServerError"),
                "503": _response_ref("Unavailable"),
            },
        }
    }


def _operations_paths() -> Json:
    health = {"application/json": {"schema": ref("Health"), "example": {"status": "ok"}}}
    unavailable = {
        "503": {
            "description": "The store does not answer, or its schema is not current.",
            "content": {
                "application/json": {
                    "schema": ref("Health"),
                    "example": {"status": "unavailable", "errors": ["Store unavailable"]},
                }
            },
        }
    }
    return {
        "/healthz": _simple_get("operations", "healthz", "The process is up", health),
        "/readyz": _simple_get(
            "operations",
            "readyz",
            "The store answers and its schema is current",
            health,
            unavailable,
        ),
        "/metrics": _simple_get(
            "operations",
            "metrics",
            "Prometheus metrics (text exposition format)",
            {"text/plain": {"schema": {"type": "string"}}},
        ),
        "/openapi.json": _simple_get(
            "operations",
            "openapi",
            "This document",
            {"application/json": {"schema": {"type": "object"}}},
        ),
        "/docs": _simple_get(
            "operations",
            "docs",
            "This document as a web page",
            {"text/html": {"schema": {"type": "string"}}},
        ),
    }


DESCRIPTION: Final = """\
A self-hostable server for the X Enterprise Engagement API contract (three read endpoints), \
with its own batch ingest, usage reporting and operations endpoints.

**Errors.** Every error body is `{"errors": ["<message>", ...]}`. Unknown paths answer 404 \
(`No such path: <path>`), other methods on a known path 405 with an `Allow` header \
(`Method <M> is not allowed on <path>`); both use that body (see the `NotFound` and \
`MethodNotAllowed` responses).

**Authentication.** OAuth 1.0a (HMAC-SHA1) is not an OpenAPI security scheme type: it is \
described here as an `Authorization` header (`OAuth oauth_consumer_key="...", ...`). The \
signature covers the method, the URL (query included) and the `oauth_*` parameters, not a \
JSON body; the timestamp must be within the server's window (300 s by default) and each nonce \
is used once per consumer key. With `oauth_token` the request is in user context (the app acts \
for the token's user); without it, app-only.

**Rate limits.** Per app, endpoint and UTC minute on the three read endpoints. Every answer \
there after authentication carries `x-per-minute-limit`, `x-per-minute-remaining` and \
`x-per-minute-reset` (Unix seconds of the next minute); over the limit: 429 \
`Exceeded rate limit`.
"""


def document(settings: Settings) -> Json:
    """The OpenAPI 3.1 document of a server with these settings."""
    paths: Json = {}
    for endpoint in Endpoint:
        paths[f"/insights/engagement{endpoint.path}"] = {
            "post": _read_operation(endpoint, settings)
        }
    for kind, record in (
        ("users", "UserRecord"),
        ("tweets", "PostRecord"),
        ("events", "EventRecord"),
    ):
        paths[f"/ingest/{kind}"] = {"post": _ingest_operation(kind, record, settings)}
    paths["/usage"] = _usage_path()
    paths.update(_operations_paths())
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Engagement API",
            "version": __version__,
            "description": DESCRIPTION,
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "tags": [
            {"name": "engagement", "description": "The read API (X Engagement API contract)."},
            {"name": "ingest", "description": "Loading users, Posts and engagement events."},
            {"name": "usage", "description": "Per-app monthly usage."},
            {"name": "operations", "description": "Health, metrics and this document."},
        ],
        "paths": paths,
        "components": {
            "schemas": _schemas(),
            "responses": _responses_components(settings),
            "headers": _headers_components(),
            "securitySchemes": {
                "oauth1User": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "OAuth 1.0a, HMAC-SHA1, **with** `oauth_token`: user "
                    'context. `Authorization: OAuth oauth_consumer_key="...", '
                    'oauth_token="...", oauth_signature_method="HMAC-SHA1", '
                    'oauth_timestamp="...", oauth_nonce="...", oauth_version="1.0", '
                    'oauth_signature="..."`.',
                },
                "oauth1App": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "OAuth 1.0a, HMAC-SHA1, without `oauth_token`: app-only.",
                },
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The app's OAuth 2.0 bearer token: app-only.",
                },
                "ingestKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An ingest key (`engagement-api ingest-keys create`); only "
                    "on `/ingest/*`.",
                },
            },
        },
    }


# -- the page ----------------------------------------------------------------------------------

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;
line-height:1.45;color:#1b1b1b}
h2{border-bottom:1px solid #ccc;margin-top:2.5rem}
.op{border:1px solid #ddd;border-radius:6px;margin:1rem 0;padding:.5rem 1rem}
.m{display:inline-block;min-width:4rem;font-weight:bold;text-transform:uppercase}
.post{color:#2a7a2a}.get{color:#1f5fa8}
pre{background:#f6f6f6;padding:.6rem;overflow:auto;font-size:.85rem}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2rem .5rem;
vertical-align:top;text-align:left}
"""


def _pre(value: Any) -> str:
    text = value if isinstance(value, str) else orjson.dumps(value, option=orjson.OPT_INDENT_2)
    if isinstance(text, bytes):
        text = text.decode()
    return f"<pre>{html.escape(text)}</pre>"


def _linked(value: Any) -> str:
    """A schema as JSON with each ``$ref`` turned into a link to its section."""
    text = html.escape(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())
    for name in value_refs(value):
        quoted = html.escape(f'"{SCHEMAS}{name}"')
        text = text.replace(quoted, f'"<a href="#schema-{name}">{SCHEMAS}{name}</a>"')
    return f"<pre>{text}</pre>"


def value_refs(value: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str) and item.startswith(SCHEMAS):
                found.add(item[len(SCHEMAS) :])
            else:
                found |= value_refs(item)
    elif isinstance(value, list):
        for item in value:
            found |= value_refs(item)
    return found


def _resolve(doc: Json, value: Json) -> Json:
    target = value.get("$ref")
    if isinstance(target, str) and target.startswith(RESPONSES):
        resolved: Json = doc["components"]["responses"][target[len(RESPONSES) :]]
        return {**resolved, **{k: v for k, v in value.items() if k != "$ref"}}
    return value


def render(doc: Json) -> str:
    """The document as one HTML page."""
    e = html.escape
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>{e(doc['info']['title'])} {e(doc['info']['version'])}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{e(doc['info']['title'])} <small>{e(doc['info']['version'])}</small></h1>",
        '<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI '
        f"{e(doc['openapi'])}).</p>",
        _pre(doc["info"]["description"]),
    ]
    for tag in doc["tags"]:
        parts.append(f'<h2 id="tag-{e(tag["name"])}">{e(tag["name"])}</h2>')
        parts.append(f"<p>{e(tag['description'])}</p>")
        for path, item in doc["paths"].items():
            for method, op in item.items():
                if tag["name"] not in op.get("tags", []):
                    continue
                parts.append(f'<div class=op id="op-{e(op["operationId"])}">')
                parts.append(
                    f'<h3><span class="m {e(method)}">{e(method)}</span> <code>{e(path)}'
                    f"</code> &mdash; {e(op['summary'])}</h3>"
                )
                if op.get("description"):
                    parts.append(f"<p>{e(op['description'])}</p>")
                security = [name for option in op.get("security", []) for name in option]
                parts.append(
                    "<p><b>Authentication:</b> "
                    + (", ".join(f"<code>{e(s)}</code>" for s in security) or "none")
                    + "</p>"
                )
                for parameter in op.get("parameters", []):
                    parts.append(
                        f"<p><b>{e(parameter['in'])} parameter</b> <code>{e(parameter['name'])}"
                        f"</code>{' (required)' if parameter.get('required') else ''}: "
                        f"{e(parameter.get('description', ''))}</p>"
                    )
                body = op.get("requestBody")
                if body:
                    for media, spec in body["content"].items():
                        parts.append(f"<p><b>Request body</b> <code>{e(media)}</code></p>")
                        parts.append(_linked(spec["schema"]))
                        if "example" in spec:
                            parts.append("<p>Example:</p>" + _pre(spec["example"]))
                parts.append("<table><tr><th>Status</th><th>Meaning</th><th>Body</th></tr>")
                for status, response in op["responses"].items():
                    response = _resolve(doc, response)
                    cells = []
                    for media, spec in response.get("content", {}).items():
                        cells.append(f"<code>{e(media)}</code>" + _linked(spec.get("schema", {})))
                        if "example" in spec:
                            cells.append(_pre(spec["example"]))
                        for example in spec.get("examples", {}).values():
                            cells.append(_pre(example["value"]))
                    headers = ", ".join(f"<code>{e(h)}</code>" for h in response.get("headers", {}))
                    parts.append(
                        f"<tr><td>{e(status)}</td><td>{e(response.get('description', ''))}"
                        + (f"<br>Headers: {headers}" if headers else "")
                        + f"</td><td>{''.join(cells)}</td></tr>"
                    )
                parts.append("</table></div>")
    parts.append("<h2 id=schemas>Schemas</h2>")
    for name, schema in doc["components"]["schemas"].items():
        parts.append(f'<h3 id="schema-{e(name)}">{e(name)}</h3>{_linked(schema)}')
    parts.append("<h2 id=security>Authentication schemes</h2>")
    for name, scheme in doc["components"]["securitySchemes"].items():
        parts.append(f"<h3>{e(name)}</h3><p>{e(scheme.get('description', ''))}</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


# -- routes ------------------------------------------------------------------------------------


def _document_of(request: Request) -> Json:
    doc: Json = request.app.state.openapi
    return doc


async def openapi_json(request: Request) -> Response:
    return json_response(_document_of(request))


async def docs_page(request: Request) -> Response:
    return HTMLResponse(render(_document_of(request)))


routes = [
    Route("/openapi.json", openapi_json, methods=["GET"]),
    Route("/docs", docs_page, methods=["GET"]),
]
