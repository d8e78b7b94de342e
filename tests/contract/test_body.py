"""Decoding the body: empty, malformed, too deep, not an object; showing values."""

from __future__ import annotations

import pytest

from engagement_api.contract.body import (
    EMPTY_BODY,
    TOO_DEEP,
    RawNumber,
    decode_object,
    exceeds_depth,
    label,
    raw_field,
    show,
)
from engagement_api.contract.errors import BadRequest


def nested(levels: int) -> bytes:
    """A body whose arrays/objects nest exactly `levels` deep (the top object included)."""
    return b'{"x":' + b"[" * (levels - 1) + b"]" * (levels - 1) + b"}"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", EMPTY_BODY),
        (b"  \r\n\t", EMPTY_BODY),
        (b'{"tweet_ids": ', "Request body is not valid JSON: unexpected end of data"),
        (b'{"a": 1,}', "Request body is not valid JSON: trailing comma is not allowed"),
        (b"[NaN]", "Request body is not valid JSON: unexpected character"),
        (b"\xff\xfe", "Request body is not valid JSON: str is not valid UTF-8"),
        (b'{"a": 1} {}', "Request body is not valid JSON: unexpected content after document"),
        (b"[1, 2]", "Request body must be a JSON object, not an array"),
        (b'"tweet_ids"', "Request body must be a JSON object, not a string"),
        (b"12", "Request body must be a JSON object, not a number"),
        (b"true", "Request body must be a JSON object, not a boolean"),
        (b"null", "Request body must be a JSON object, not null"),
        (nested(33), TOO_DEEP),
        (b"[" * 2000 + b"]" * 2000, TOO_DEEP),
        (b'{"a":' + b'{"b":' * 40 + b"1" + b"}" * 41, TOO_DEEP),
    ],
)
def test_body_level_problems(raw: bytes, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        decode_object(raw)
    assert len(caught.value.messages) == 1
    assert caught.value.messages[0].startswith(message)
    assert caught.value.status == 400


def test_thirty_two_levels_are_fine() -> None:
    decoded = decode_object(nested(32))
    assert list(decoded) == ["x"]
    assert exceeds_depth(decoded, 31)


@pytest.mark.parametrize(
    ("value", "limit", "expected"),
    [
        (1, 0, False),
        ({}, 1, False),
        ({}, 0, True),
        ({"a": [1, "x"]}, 2, False),
        ({"a": [1, [2]]}, 2, True),
        ([[], [[]], {}], 3, False),
        ([[], [[[]]], {}], 3, True),
    ],
)
def test_exceeds_depth(value: object, limit: int, expected: bool) -> None:
    assert exceeds_depth(value, limit) is expected


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("12ab", '"12ab"'),
        ("123\n", '"123\\n"'),
        (1.5, "1.5"),
        (True, "true"),
        (None, "null"),
        (["a", 1], '["a",1]'),
        (RawNumber("1e3"), "1e3"),
        ("x" * 100, '"' + "x" * 56 + "..."),
    ],
)
def test_show(value: object, shown: str) -> None:
    assert show(value) == shown


@pytest.mark.parametrize(
    ("value", "labelled"),
    [
        ("quote_tweets", "quote_tweets"),
        ("Engagement.Day", "Engagement.Day"),
        (" tweet.id", '" tweet.id"'),
        ("a, b", '"a, b"'),
        ("", '""'),
        (3, "3"),
        (None, "null"),
    ],
)
def test_label(value: object, labelled: str) -> None:
    assert label(value) == labelled


def test_raw_field_keeps_numbers_as_written() -> None:
    raw = raw_field(b'{"tweet_ids": [18446744073709551616, 1.50, "7"], "x": 1}', "tweet_ids")
    assert raw == ["18446744073709551616", "1.50", "7"]
    assert isinstance(raw, list)
    assert [type(v) for v in raw] == [RawNumber, RawNumber, str]
