"""Reading the fields of one record while collecting every problem (the precise path).

Decisions shared by users, Posts and events:

- A record must be a JSON object; unknown fields are ignored.
- A field sent as ``null`` is treated as left out (exporters write ``null`` for empty columns):
  a required one is then "is required", an optional one takes its default.
- Every problem of a line is reported, in the order of the record's fields; checks that need
  an earlier field (a Post's existence, its ``created_at``) are skipped when it was bad.
"""

from __future__ import annotations

from datetime import datetime

from engagement_api.contract.body import json_kind
from engagement_api.contract.ids import IdError, parse_id
from engagement_api.contract.times import TimeFormatError, parse_timestamp
from engagement_api.ingest.errors import MISSING, LineError


class LineReader:
    """The fields of one numbered record; problems go to a shared list."""

    __slots__ = ("errors", "fields", "line", "ok")

    def __init__(self, line: int, value: object, errors: list[LineError]) -> None:
        self.line = line
        self.errors = errors
        self.ok = isinstance(value, dict)
        self.fields: dict[str, object] = value if isinstance(value, dict) else {}
        if not self.ok:
            self.whole(f"must be a JSON object, not {json_kind(value)}")

    def whole(self, reason: str) -> None:
        """A problem of the line as a whole."""
        self.ok = False
        self.errors.append(LineError(self.line, None, MISSING, reason))

    def fail(self, field: str, value: object, reason: str) -> None:
        self.ok = False
        self.errors.append(LineError(self.line, field, value, reason))

    def raw(self, field: str) -> object:
        """The value sent, or MISSING when the field is absent or null."""
        value = self.fields.get(field)
        return MISSING if value is None else value

    def required(self, field: str) -> object:
        value = self.raw(field)
        if value is MISSING:
            self.fail(field, MISSING, "is required")
        return value

    def id(self, field: str) -> int | None:
        value = self.required(field)
        if value is MISSING:
            return None
        try:
            return parse_id(value)
        except IdError as exc:
            self.fail(field, value, str(exc))
            return None

    def timestamp(self, field: str) -> datetime | None:
        value = self.required(field)
        if value is MISSING:
            return None
        try:
            return parse_timestamp(value)
        except TimeFormatError as exc:
            self.fail(field, value, str(exc))
            return None

    def string(self, field: str) -> str | None:
        value = self.required(field)
        if value is MISSING:
            return None
        if not isinstance(value, str):
            self.fail(field, value, "must be a string")
            return None
        return value

    def boolean(self, field: str) -> bool | None:
        """An optional boolean: None when left out."""
        value = self.raw(field)
        if value is MISSING:
            return None
        if not isinstance(value, bool):
            self.fail(field, value, "must be true or false")
            return None
        return value


def format_moment(moment: datetime) -> str:
    """A stored timestamp in messages: ``YYYY-MM-DDTHH:MM:SSZ`` (fractions kept when present)."""
    pattern = "%Y-%m-%dT%H:%M:%S.%fZ" if moment.microsecond else "%Y-%m-%dT%H:%M:%SZ"
    return moment.strftime(pattern)
