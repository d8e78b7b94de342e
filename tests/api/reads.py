"""What the read-API test files (tests/api/test_read_*.py) share: the contract's messages, an
oversized body, and the errors of an answer."""

from __future__ import annotations

import json
from typing import Any

from tests.support.harness import MAX_BODY_BYTES, body

NOT_AUTHENTICATED = "Your account could not be authenticated. Reason: "
APP_NOT_AUTHORIZED = "Your application id is not authorized."
USER_CONTEXT_REQUIRED = "Forbidden to access endpoint: user context required"
NONE_AVAILABLE = "Tweet ID(s) are unavailable"
IMPRESSIONS_TOO_OLD = "Impressions & engagements for tweets older than 90 days are not supported"
TOO_LARGE = f"Request body is larger than the limit of {MAX_BODY_BYTES} bytes"


def oversized(limit: int = MAX_BODY_BYTES) -> bytes:
    """A valid request body padded with spaces to one byte over the limit."""
    raw = json.dumps(body()).encode()
    return raw + b" " * (limit + 1 - len(raw))


def errors_of(response: Any) -> list[str]:
    data = response.json()
    assert list(data) == ["errors"], data
    errors: list[str] = data["errors"]
    return errors
