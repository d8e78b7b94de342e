"""JSON responses: orjson-encoded bodies, and the contract's error body."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

from engagement_api.contract.errors import ApiError


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def json_response(
    content: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(content, status_code=status, headers=dict(headers or {}))


def error_response(error: ApiError, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return json_response({"errors": error.messages}, error.status, headers)
