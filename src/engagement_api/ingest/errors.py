"""Bad lines of an ingest batch, and the error that rejects the batch.

Rendering of one :class:`LineError` (decisions where the spec shows only one example):

- ``line 3: tweet_id "1869999999999999998": Post not loaded``: number, field, value, reason.
- The value is shown as the JSON it was sent as: strings quoted, numbers, ``true``, ``false``
  and ``null`` bare (``line 4: count 0: must not be zero``), cut to 80 characters with ``...``.
- A field whose value cannot be shown (it is missing): ``line 5: at: is required``.
- A problem of the whole line: ``line 6: invalid JSON: ...``.
- Line 0 stands for the batch as a whole (a JSON array that does not parse, a CSV header that
  lacks a column) and is rendered without the ``line N:`` prefix.

:class:`BatchRejected` is a :class:`~engagement_api.contract.errors.BadRequest` (400) whose
``messages`` are the rendered errors in line order: every problem of every bad line (the
ingest contract: the producer must be able to fix all of them at once). :func:`render_errors`
can cap a listing for a terminal: beyond :data:`MAX_REPORTED_LINES` lines it adds one
``... and N more bad lines``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from engagement_api.contract.errors import BadRequest

#: How many bad lines a capped listing (:func:`render_errors` with a limit) shows.
MAX_REPORTED_LINES: Final = 1000

#: Longest rendering of a value in a message.
MAX_VALUE_CHARS: Final = 80


class _Missing:
    """The value of a field that was not sent (distinct from JSON ``null``)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


def render_value(value: object) -> str:
    """A value as compact JSON, cut to :data:`MAX_VALUE_CHARS` characters."""
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        text = repr(value)
    if len(text) > MAX_VALUE_CHARS:
        text = text[: MAX_VALUE_CHARS - 3] + "..."
    return text


@dataclass(frozen=True, slots=True)
class LineError:
    """One problem of one line: 1-based line number (0: the whole batch), field, value, why."""

    line: int
    field: str | None
    value: object
    reason: str

    def render(self) -> str:
        parts = []
        if self.line > 0:
            parts.append(f"line {self.line}")
        if self.field is not None:
            if self.value is MISSING:
                parts.append(self.field)
            else:
                parts.append(f"{self.field} {render_value(self.value)}")
        parts.append(self.reason)
        return ": ".join(parts)

    def __str__(self) -> str:
        return self.render()


def render_errors(errors: Sequence[LineError], limit: int | None = None) -> list[str]:
    """Rendered messages in line order; beyond ``limit`` bad lines (if any), one summary line."""
    ordered = sorted(errors, key=lambda error: error.line)
    messages: list[str] = []
    shown: set[int] = set()
    hidden: set[int] = set()
    for error in ordered:
        if error.line in shown or limit is None or len(shown) < limit:
            shown.add(error.line)
            messages.append(error.render())
        else:
            hidden.add(error.line)
    if hidden:
        noun = "line" if len(hidden) == 1 else "lines"
        messages.append(f"... and {len(hidden)} more bad {noun}")
    return messages


class BatchRejected(BadRequest):
    """A batch with at least one bad line: nothing of it may be applied."""

    def __init__(self, errors: Sequence[LineError]) -> None:
        if not errors:
            raise ValueError("BatchRejected needs at least one LineError")
        self.errors: list[LineError] = sorted(errors, key=lambda error: error.line)
        super().__init__(render_errors(self.errors))

    @property
    def bad_lines(self) -> int:
        """How many distinct lines are bad (line 0, the batch itself, counts as one)."""
        return len({error.line for error in self.errors})
