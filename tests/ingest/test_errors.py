"""Rendering of bad lines and the rejection that lists them."""

from __future__ import annotations

import pytest

from engagement_api.contract.errors import BadRequest
from engagement_api.ingest.errors import (
    MAX_REPORTED_LINES,
    MISSING,
    BatchRejected,
    LineError,
    render_errors,
)


@pytest.mark.parametrize(
    ("error", "rendered"),
    [
        (
            LineError(3, "tweet_id", "1869999999999999998", "Post not loaded"),
            'line 3: tweet_id "1869999999999999998": Post not loaded',
        ),
        (LineError(4, "count", 0, "must not be zero"), "line 4: count 0: must not be zero"),
        (
            LineError(5, "count", True, "must be an integer"),
            "line 5: count true: must be an integer",
        ),
        (LineError(5, "count", 1.5, "must be an integer"), "line 5: count 1.5: must be an integer"),
        (LineError(6, "at", MISSING, "is required"), "line 6: at: is required"),
        (LineError(7, None, MISSING, "invalid JSON: x"), "line 7: invalid JSON: x"),
        (LineError(0, None, MISSING, "invalid JSON: x"), "invalid JSON: x"),
        (LineError(8, "media", {"a": [1]}, "bad"), 'line 8: media {"a":[1]}: bad'),
        (LineError(9, "type", None, "bad"), "line 9: type null: bad"),
        (LineError(9, "handle", "é", "bad"), 'line 9: handle "é": bad'),
        (LineError(10, "id", 2**70, "too big"), f"line 10: id {2**70}: too big"),
    ],
)
def test_rendering(error: LineError, rendered: str) -> None:
    assert error.render() == rendered
    assert str(error) == rendered


def test_long_values_are_cut() -> None:
    rendered = LineError(1, "type", "x" * 500, "bad").render()
    assert rendered == 'line 1: type "' + "x" * 76 + "...: bad"


def test_rejection_is_a_bad_request_listing_lines_in_order() -> None:
    rejected = BatchRejected(
        [
            LineError(9, "at", MISSING, "is required"),
            LineError(2, "count", 0, "must not be zero"),
            LineError(2, "type", "x", "is not an engagement type"),
        ]
    )
    assert isinstance(rejected, BadRequest)
    assert rejected.status == 400
    assert rejected.messages == [
        "line 2: count 0: must not be zero",
        'line 2: type "x": is not an engagement type',
        "line 9: at: is required",
    ]
    assert rejected.bad_lines == 2


def test_rejection_lists_every_bad_line() -> None:
    errors = [LineError(n, "count", 0, "must not be zero") for n in range(1, 1203)]
    errors.append(LineError(1, "type", "x", "bad"))  # a second problem of the same line
    rejected = BatchRejected(errors)
    assert len(rejected.errors) == 1203
    assert len(rejected.messages) == 1203
    assert rejected.messages[-1] == "line 1202: count 0: must not be zero"


def test_a_capped_listing_summarises_the_rest() -> None:
    errors = [LineError(n, "count", 0, "must not be zero") for n in range(1, 1203)]
    errors.append(LineError(1, "type", "x", "bad"))  # a second problem of a shown line
    messages = render_errors(errors, MAX_REPORTED_LINES)
    assert len(messages) == MAX_REPORTED_LINES + 2
    assert messages[-1] == "... and 202 more bad lines"
    assert messages[-2] == f"line {MAX_REPORTED_LINES}: count 0: must not be zero"


def test_one_more_bad_line_is_singular() -> None:
    errors = [LineError(n, None, MISSING, "bad") for n in range(1, MAX_REPORTED_LINES + 2)]
    assert render_errors(errors, MAX_REPORTED_LINES)[-1] == "... and 1 more bad line"


def test_rejection_needs_an_error() -> None:
    with pytest.raises(ValueError, match="at least one"):
        BatchRejected([])
