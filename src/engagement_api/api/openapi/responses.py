"""``components/responses`` and ``components/headers``: the error answers shared by operations,
the ``x-per-minute-*`` headers, and the helpers that build an operation's answers."""

from __future__ import annotations

from typing import Final

from engagement_api.api.answers import Error
from engagement_api.api.openapi import examples as ex
from engagement_api.api.openapi.schemas import Json, answer_ref
from engagement_api.contract.errors import ApiError
from engagement_api.contract.ratelimit import LIMIT_HEADER, REMAINING_HEADER, RESET_HEADER
from engagement_api.settings import Settings

RESPONSES: Final = "#/components/responses/"

RATE_HEADERS: Final = {
    LIMIT_HEADER: "XPerMinuteLimit",
    REMAINING_HEADER: "XPerMinuteRemaining",
    RESET_HEADER: "XPerMinuteReset",
}


def response_ref(name: str) -> Json:
    return {"$ref": RESPONSES + name}


def json_content(schema: Json, example: object) -> Json:
    """An ``application/json`` content with its schema and one example."""
    return {"application/json": {"schema": schema, "example": example}}


def error_response(description: str, *errors: ApiError) -> Json:
    """An error answer (the ``Error`` body), one example per error given."""
    content: Json = {"schema": answer_ref(Error)}
    if errors:
        content["examples"] = {
            f"e{i}": {"value": ex.answer(Error(error.messages))} for i, error in enumerate(errors)
        }
    return {"description": description, "content": {"application/json": content}}


def headers_components() -> Json:
    def header(description: str) -> Json:
        return {"description": description, "schema": {"type": "string", "pattern": "^[0-9]+$"}}

    return {
        "XPerMinuteLimit": header("Requests this app may make on this endpoint per minute."),
        "XPerMinuteRemaining": header("Requests left in the current minute."),
        "XPerMinuteReset": header("Unix seconds of the start of the next minute (UTC)."),
        "Allow": {"description": "The methods the path accepts.", "schema": {"type": "string"}},
    }


def with_rate_headers(response: Json, required: bool) -> Json:
    """``response`` (inline) with the ``x-per-minute-*`` headers; ``required`` when every
    answer of that status carries them."""
    components = headers_components()
    headers = {
        name: {**components[component], "required": required}
        for name, component in RATE_HEADERS.items()
    }
    return {**response, "headers": headers}


def responses_components(settings: Settings) -> Json:
    return {
        "BadRequest": error_response(
            "The body, a field, a grouping or a date is invalid (every problem is listed), or "
            "no requested Post is available.",
            ex.INVALID_ID,
            ex.NONE_AVAILABLE_ERROR,
        ),
        "Unauthorized": error_response(
            "Authentication failed; the reason names the cause.",
            ex.UNKNOWN_AUTHORIZATION,
            ex.INVALID_SIGNATURE,
        ),
        "Forbidden": error_response(
            "Authenticated but not allowed: the app is not enabled, or the access policy "
            "refuses (private metrics, unowned Posts, app-only on a user-context endpoint).",
            ex.APP_NOT_AUTHORIZED,
            ex.USER_CONTEXT,
        ),
        "NotFound": error_response("Unknown path.", ex.NO_SUCH_PATH),
        "MethodNotAllowed": {
            **error_response("The path does not accept this method.", ex.WRONG_METHOD),
            "headers": {"Allow": {"$ref": "#/components/headers/Allow"}},
        },
        "PayloadTooLarge": error_response(
            f"The body is over the limit ({settings.max_body_bytes} bytes on the read endpoints).",
            ex.too_large(settings.max_body_bytes),
        ),
        "TooManyRequests": error_response(
            "The app is over its per-minute limit for this endpoint.", ex.RATE_LIMITED
        ),
        "ServerError": error_response("Server fault (never a traceback).", ex.INTERNAL),
        "Unavailable": error_response("The store is unavailable; retry.", ex.UNAVAILABLE),
    }
