"""The document's ``paths``: one row of :func:`table` per endpoint of the app (path, method,
summary, request, answers...), from which :func:`paths` generates the ``paths`` object."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from engagement_api.api.answers import Accepted, EventsAccepted, Health, Usage
from engagement_api.api.openapi import examples as ex
from engagement_api.api.openapi.responses import (
    error_response,
    json_content,
    response_ref,
    responses_components,
    with_rate_headers,
)
from engagement_api.api.openapi.schemas import Json, answer_ref, endpoint_name, ref
from engagement_api.api.reading import PREFIX
from engagement_api.contract.body import MAX_DEPTH
from engagement_api.contract.metrics import Endpoint
from engagement_api.settings import Settings

#: Security requirements (the schemes are in the document's ``components/securitySchemes``).
USER: Final = ("oauth1User",)
ANY_API: Final = ("oauth1User", "oauth1App", "bearer")
INGEST: Final = ("ingestKey",)


@dataclass(frozen=True)
class Row:
    """One endpoint. ``request``: the request body's content by media type (required when
    given). ``responses``: by status; an inline answer without a description is described by
    the summary."""

    method: str
    path: str
    operation_id: str
    tag: str
    summary: str
    responses: Mapping[str, Json]
    description: str | None = None
    security: tuple[str, ...] = ()
    parameters: tuple[Json, ...] = ()
    request: Json | None = None


def table(settings: Settings) -> tuple[Row, ...]:
    """Every endpoint of the app, in the document's order."""
    totals, hr28, historical = Endpoint.TOTALS, Endpoint.HR28, Endpoint.HISTORICAL
    return (
        Row(
            "post",
            PREFIX + totals.path,
            "engagementTotals",
            "engagement",
            "Lifetime totals, as of the request",
            description=_read_description(totals, APP_OR_USER, settings),
            security=ANY_API,
            request=_read_request(totals),
            responses=_read_responses(totals, settings),
        ),
        Row(
            "post",
            PREFIX + hr28.path,
            "engagementHr28",
            "engagement",
            "The last 28 hours plus the current hour",
            description=_read_description(hr28, USER_ONLY, settings),
            security=USER,
            request=_read_request(hr28),
            responses=_read_responses(hr28, settings),
        ),
        Row(
            "post",
            PREFIX + historical.path,
            "engagementHistorical",
            "engagement",
            "A window of at most 28 days",
            description=_read_description(historical, USER_ONLY, settings),
            security=USER,
            request=_read_request(historical),
            responses=_read_responses(historical, settings),
        ),
        Row(
            "post",
            "/ingest/users",
            "ingestUsers",
            "ingest",
            "Load users (upsert)",
            description=_ingest_description("Users (upsert)", settings),
            security=INGEST,
            request=_ingest_request("users", "UserRecord"),
            responses=_ingest_responses("users", Accepted, settings),
        ),
        Row(
            "post",
            "/ingest/tweets",
            "ingestTweets",
            "ingest",
            "Load posts (upsert)",
            description=_ingest_description("Posts (upsert)", settings),
            security=INGEST,
            request=_ingest_request("tweets", "PostRecord"),
            responses=_ingest_responses("tweets", Accepted, settings),
        ),
        Row(
            "post",
            "/ingest/events",
            "ingestEvents",
            "ingest",
            "Load engagement events",
            description=_ingest_description("Engagement events", settings),
            security=INGEST,
            parameters=(IDEMPOTENCY_KEY,),
            request=_ingest_request("events", "EventRecord"),
            responses={
                **_ingest_responses("events", EventsAccepted, settings),
                "400": error_response(
                    "Bad lines (one message per problem, none of the batch applied), or a "
                    "missing or invalid `Idempotency-Key`.",
                    ex.POST_NOT_LOADED,
                ),
                "409": error_response(
                    "The key was already applied with a different body.", ex.KEY_REUSED
                ),
            },
        ),
        Row(
            "get",
            "/usage",
            "usage",
            "usage",
            "The signing app's usage for a month",
            description='Distinct users ("@handles") whose access token signed a 200 on a read '
            "endpoint that asked for at least one Post they own, in a UTC month. Counted, "
            "never blocking; not rate limited.",
            security=ANY_API,
            parameters=(MONTH,),
            responses={
                "200": {
                    "description": "The count.",
                    "content": json_content(answer_ref(Usage), ex.USAGE),
                },
                "400": error_response("`month` is not `YYYY-MM`."),
                "401": response_ref("Unauthorized"),
                "403": error_response("The app is not enabled.", ex.APP_NOT_AUTHORIZED),
                "500": response_ref("ServerError"),
                "503": response_ref("Unavailable"),
            },
        ),
        Row(
            "get",
            "/healthz",
            "healthz",
            "operations",
            "The process is up",
            responses={"200": {"content": json_content(answer_ref(Health), ex.HEALTHY_EXAMPLE)}},
        ),
        Row(
            "get",
            "/readyz",
            "readyz",
            "operations",
            "The store answers and its schema is current",
            responses={
                "200": {"content": json_content(answer_ref(Health), ex.HEALTHY_EXAMPLE)},
                "503": {
                    "description": "The store does not answer, or its schema is not current.",
                    "content": json_content(answer_ref(Health), ex.UNAVAILABLE_EXAMPLE),
                },
            },
        ),
        Row(
            "get",
            "/metrics",
            "metrics",
            "operations",
            "Prometheus metrics (text exposition format)",
            responses={"200": {"content": {"text/plain": {"schema": {"type": "string"}}}}},
        ),
        Row(
            "get",
            "/openapi.json",
            "openapi",
            "operations",
            "This document",
            responses={"200": {"content": {"application/json": {"schema": {"type": "object"}}}}},
        ),
        Row(
            "get",
            "/docs",
            "docs",
            "operations",
            "This document as a web page",
            responses={"200": {"content": {"text/html": {"schema": {"type": "string"}}}}},
        ),
    )


def paths(settings: Settings) -> Json:
    """The ``paths`` object: the rows of :func:`table` as OpenAPI operations."""
    found: Json = {}
    for row in table(settings):
        found.setdefault(row.path, {})[row.method] = _operation(row)
    return found


def _operation(row: Row) -> Json:
    operation: Json = {"tags": [row.tag], "operationId": row.operation_id, "summary": row.summary}
    if row.description is not None:
        operation["description"] = row.description
    operation["security"] = [{name: []} for name in row.security]
    if row.parameters:
        operation["parameters"] = list(row.parameters)
    if row.request is not None:
        operation["requestBody"] = {"required": True, "content": row.request}
    operation["responses"] = {
        status: _described(response, row.summary)
        for status, response in sorted(row.responses.items())
    }
    return operation


def _described(response: Json, summary: str) -> Json:
    """``response``, described by ``summary`` when it has no description of its own."""
    if "$ref" in response or "description" in response:
        return response
    return {"description": summary, **response}


# -- the read endpoints ------------------------------------------------------------------------

APP_OR_USER: Final = (
    "App-only (bearer or OAuth 1.0a without token): public metrics of any Post. User "
    "context: private metrics too, of Posts the user owns."
)
USER_ONLY: Final = (
    "User context only (OAuth 1.0a with an access token); every available requested "
    "Post must be owned by the token's user."
)
GZIP_NOTE: Final = (
    "When `Accept-Encoding` includes `gzip`, every answer on this path (errors included, except "
    "500) is gzipped with `Content-Encoding: gzip`."
)


def _read_description(endpoint: Endpoint, who: str, settings: Settings) -> str:
    return (
        f"{who} At most {endpoint.max_ids} Post IDs. {GZIP_NOTE} Bodies over "
        f"{settings.max_body_bytes} bytes: 413; JSON nested deeper than {MAX_DEPTH} levels: 400. "
        "Precedence when several things are wrong: 401, 403 (app not enabled), 429, 413, 400 "
        "(body), 403 (policy), 400 (no Post available)."
    )


def _read_request(endpoint: Endpoint) -> Json:
    example, _ = ex.read_examples(endpoint)
    return json_content(ref(f"{endpoint_name(endpoint)}Request"), example)


def _read_responses(endpoint: Endpoint, settings: Settings) -> Json:
    _, answer = ex.read_examples(endpoint)
    tree = "TotalsAnswer" if endpoint is Endpoint.TOTALS else "WindowedAnswer"
    ok: Json = {
        "description": "Counts, possibly partial (see `errors` and the `*_tweet_ids` keys).",
        "content": json_content(ref(tree), answer),
    }
    errors = responses_components(settings)
    return {
        "200": with_rate_headers(ok, required=True),
        "400": with_rate_headers(errors["BadRequest"], required=True),
        "401": response_ref("Unauthorized"),
        "403": with_rate_headers(errors["Forbidden"], required=False),
        "413": with_rate_headers(errors["PayloadTooLarge"], required=True),
        "429": with_rate_headers(errors["TooManyRequests"], required=True),
        "500": response_ref("ServerError"),
        "503": response_ref("Unavailable"),
    }


# -- ingest and usage --------------------------------------------------------------------------

IDEMPOTENCY_KEY: Final = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "description": "1 to 255 visible ASCII characters. A key already applied answers 200 with "
    "`duplicate: true` and applies nothing; the same key with a different body: 409.",
    "schema": {"type": "string", "pattern": "^[!-~]([ -~]{0,253}[!-~])?$"},
    "example": ex.EXAMPLE_KEY,
}

MONTH: Final = {
    "name": "month",
    "in": "query",
    "required": False,
    "description": "`YYYY-MM`; the current UTC month when left out.",
    "schema": {"type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$"},
    "example": "2026-11",
}


def _ingest_description(what: str, settings: Settings) -> str:
    return (
        f"{what} as NDJSON, a JSON array or CSV, validated whole: one bad line and nothing is "
        "applied. Line numbers: NDJSON and CSV physical lines (CSV header = line 1), JSON array "
        f"index + 1. At most {settings.max_ingest_lines} lines and {settings.max_ingest_bytes} "
        "bytes."
    )


def _ingest_request(kind: str, record: str) -> Json:
    ndjson, csv, array, _ = ex.ingest_examples(kind)
    text = {"type": "string", "minLength": 1}
    return {
        "application/x-ndjson": {
            "schema": {**text, "description": f"One {record} JSON object a line."},
            "example": ndjson,
        },
        "application/json": {"schema": {"type": "array", "items": ref(record)}, "example": array},
        "text/csv": {
            "schema": {**text, "description": "A header row, then one record a row."},
            "example": csv,
        },
    }


def _ingest_responses(
    kind: str, answer: type[Accepted] | type[EventsAccepted], settings: Settings
) -> Json:
    *_, accepted = ex.ingest_examples(kind)
    limit = settings.max_ingest_bytes
    return {
        "200": {
            "description": "The batch is committed (durable) and visible.",
            "content": json_content(answer_ref(answer), accepted),
        },
        "400": error_response(
            "Bad lines (one message per problem, none of the batch applied).", ex.POST_NOT_LOADED
        ),
        "401": error_response(
            "No ingest key, an unknown one, or API credentials.", ex.INGEST_KEY_NOT_FOUND
        ),
        "413": error_response(
            f"Body over {limit} bytes, or more than {settings.max_ingest_lines} lines.",
            ex.too_large(limit),
        ),
        "500": response_ref("ServerError"),
        "503": error_response(
            "The store is unavailable: nothing was applied; resend.", ex.UNAVAILABLE
        ),
    }
