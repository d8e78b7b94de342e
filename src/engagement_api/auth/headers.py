"""Reading the few request headers authentication needs, case-insensitively.

Decisions: header names are matched case-insensitively over every item of the mapping (a plain
dict may hold ``Authorization`` and ``authorization``; Starlette's ``Headers.items()`` yields
repeated headers). Several ``Authorization`` values that differ are refused as malformed rather
than guessing which one counts; identical repeats are harmless.
"""

from __future__ import annotations

from collections.abc import Mapping

from engagement_api.auth import reasons
from engagement_api.contract.errors import Unauthorized


def _values(headers: Mapping[str, str], name: str) -> list[str]:
    wanted = name.lower()
    return [value for key, value in headers.items() if key.lower() == wanted]


def authorization(headers: Mapping[str, str]) -> str | None:
    """The ``Authorization`` header, or None when there is none."""
    values = set(_values(headers, "authorization"))
    if len(values) > 1:
        raise Unauthorized(reasons.MALFORMED)
    return values.pop() if values else None


def content_type(headers: Mapping[str, str]) -> str:
    """The first ``Content-Type`` header, or ``""``."""
    values = _values(headers, "content-type")
    return values[0] if values else ""


def split_scheme(value: str) -> tuple[str, str]:
    """``"OAuth k=v, ..."`` -> ``("oauth", "k=v, ...")``; the scheme lower-cased (RFC 7235)."""
    parts = value.strip().split(None, 1)
    if not parts:
        return "", ""
    scheme = parts[0].lower()
    return scheme, parts[1].strip() if len(parts) > 1 else ""
