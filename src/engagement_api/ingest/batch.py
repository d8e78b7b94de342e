"""One batch as received: its bytes, format and kind, decoded on demand and at most once.

The precise, numbered decoding (:attr:`Batch.decoded`) runs only when something needs it: the
users and Posts validators, or the events fast path giving up. An events batch that is valid is
decoded once: into columns (:attr:`Batch.event_frame`) when it is large NDJSON of the plain
shape, else typed row by row (:attr:`Batch.event_rows`).
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from engagement_api.ingest.decode import decode_records
from engagement_api.ingest.errors import LineError
from engagement_api.ingest.fast import EventRow, decode_rows
from engagement_api.ingest.records import Decoded, Format, Kind, Record

if TYPE_CHECKING:
    import polars as pl

#: Below this size a batch is folded row by row (the columnar path's set-up costs more there).
COLUMNAR_MIN_BYTES = 256 * 1024


class Batch:
    """Batch bytes with their format and kind (kind types CSV cells and picks the fast path)."""

    def __init__(self, data: bytes, fmt: Format | str, kind: Kind | str | None = None) -> None:
        self.data = data
        self.format = Format(fmt)
        self.kind = None if kind is None else Kind(kind)

    @cached_property
    def decoded(self) -> Decoded:
        return decode_records(self.data, self.format, self.kind)

    @property
    def records(self) -> list[Record]:
        return self.decoded.records

    @property
    def errors(self) -> list[LineError]:
        return self.decoded.errors

    @cached_property
    def event_frame(self) -> pl.DataFrame | None:
        """An NDJSON events batch of the plain shape as columns (see
        :mod:`~engagement_api.ingest.columnar`), or None: small batches and other shapes go
        the row by row ways."""
        if self.format is not Format.NDJSON or len(self.data) < COLUMNAR_MIN_BYTES:
            return None
        from engagement_api.ingest.columnar import read_frame

        return read_frame(self.data)

    @cached_property
    def event_rows(self) -> list[EventRow] | None:
        """Every line as a typed event row, or None when some line cannot be one."""
        return decode_rows(self.data, self.format)

    def __repr__(self) -> str:
        kind = self.kind.value if self.kind else "?"
        return f"<Batch {self.format.value} {kind} {len(self.data)} bytes>"
