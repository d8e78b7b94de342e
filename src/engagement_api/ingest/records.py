"""The shapes shared by the ingest modules: formats, batch kinds, numbered lines."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from engagement_api.ingest.errors import LineError

#: One decoded line: (1-based line number, JSON value).
Record = tuple[int, object]


class Format(str, Enum):  # noqa: UP042 (str() stays the bare value)
    """How a batch is encoded."""

    NDJSON = "ndjson"
    JSON = "json"
    CSV = "csv"


class Kind(str, Enum):  # noqa: UP042 (str() stays the bare value)
    """What a batch holds (CSV needs it to type its cells)."""

    USERS = "users"
    TWEETS = "tweets"
    EVENTS = "events"


@dataclass(frozen=True, slots=True)
class Decoded:
    """The lines that decoded, and those that did not."""

    records: list[Record] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)
