"""JSON responses: the small answers (:mod:`engagement_api.api.answers`) encoded by msgspec,
other data by orjson (both compact JSON), the read endpoints' answers as the bytes that
:func:`~engagement_api.contract.response_json.render_json` wrote, and the contract's error body."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import msgspec
import orjson
from starlette.responses import Response

from engagement_api.api.answers import Answer, Error
from engagement_api.contract.errors import ApiError

_ENCODER: Final = msgspec.json.Encoder()


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        if isinstance(content, Answer):
            return _ENCODER.encode(content)
        return orjson.dumps(content)


def json_response(
    content: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """``content``: an :class:`~engagement_api.api.answers.Answer`, or plain JSON data."""
    return JSONResponse(content, status_code=status, headers=dict(headers or {}))


def json_bytes_response(body: bytes, headers: Mapping[str, str] | None = None) -> Response:
    """A 200 whose body is JSON already encoded."""
    return Response(body, headers=dict(headers or {}), media_type=JSONResponse.media_type)


def error_response(error: ApiError, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return json_response(Error(error.messages), error.status, headers)
