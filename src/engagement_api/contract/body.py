"""Decoding a request body into its top-level JSON object, and showing values in messages.

Body-level problems stop validation at once (there are no fields to look at), in this order:
empty body, malformed JSON, nesting deeper than :data:`MAX_DEPTH`, a top level that is not an
object. Nesting depth counts arrays and objects only: ``{"a": [1]}`` is 2 levels deep.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping

import orjson

from engagement_api.contract.errors import BadRequest

MAX_DEPTH = 32
_SHOW_LIMIT = 60
_JSON_SPACE = b" \t\r\n"
_NAME_LIKE = re.compile(r"[A-Za-z0-9_.\-]{1,60}")

EMPTY_BODY = "Request body is empty: expected a JSON object"
TOO_DEEP = f"Request body is nested deeper than {MAX_DEPTH} levels"


class RawNumber(str):
    """A JSON number kept as its source text, so that a message can echo it as given."""


def decode_object(body: bytes) -> dict[str, object]:
    """The body's top-level JSON object; raises :class:`BadRequest` with one message."""
    if not body.strip(_JSON_SPACE):
        raise BadRequest(EMPTY_BODY)
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        # orjson refuses nesting past ~1024 levels itself; that is "too deep" for us too.
        if "depth" in str(exc):
            raise BadRequest(TOO_DEEP) from None
        raise BadRequest(f"Request body is not valid JSON: {exc}") from None
    # Each level opens with a bracket, so a body with at most MAX_DEPTH of them (in strings
    # too: this only overcounts) cannot be too deep, and is not walked.
    brackets = body.count(b"[") + body.count(b"{")
    if brackets > MAX_DEPTH and exceeds_depth(value, MAX_DEPTH):
        raise BadRequest(TOO_DEEP)
    if not isinstance(value, dict):
        raise BadRequest(f"Request body must be a JSON object, not {json_kind(value)}")
    return value


def exceeds_depth(value: object, limit: int) -> bool:
    """Whether arrays/objects nest more than ``limit`` levels (iterative: no recursion limit)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Iterable[object] = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def raw_field(body: bytes, field: str) -> object:
    """A top-level field re-read with every number kept as its source text (:class:`RawNumber`).

    Used only on the error path, to echo numbers that orjson would have read as floats
    (for example integers over 2**64-1). Call it only on a body that :func:`decode_object`
    accepted, so the document is valid and shallow.
    """
    document = json.loads(body, parse_float=RawNumber, parse_int=RawNumber)
    return document.get(field) if isinstance(document, Mapping) else None


def json_kind(value: object) -> str:
    """The JSON type of a decoded value, with its article: ``an array``, ``a string``..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def show(value: object) -> str:
    """A decoded JSON value as compact JSON for a message, cut after 60 characters."""
    text = str.__str__(value) if isinstance(value, RawNumber) else orjson.dumps(value).decode()
    if len(text) > _SHOW_LIMIT:
        return text[: _SHOW_LIMIT - 3] + "..."
    return text


def label(value: object) -> str:
    """A value inside a parenthesised name list, as in ``(quote_tweets, engagement.hour)``.

    Name-like strings (letters, digits, ``_ . -``) stand bare; anything else is shown as JSON,
    so that ``" tweet.id"``, ``""`` or ``4`` stay recognisable.
    """
    if isinstance(value, str) and _NAME_LIKE.fullmatch(value):
        return value
    return show(value)
