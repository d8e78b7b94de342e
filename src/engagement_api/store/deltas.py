"""Folded deltas in columns: what a batch adds to the counters, ready for bulk writes.

A :class:`DeltaTable` is a read-only mapping ``(post_id, metric_code, hour) -> count`` (Post IDs
unsigned, as everywhere outside the store) held as a polars frame sorted by the key the tables
are ordered by: the *signed* Post ID (:func:`~engagement_api.contract.ids.to_signed`), the metric,
the hour. The stores write it in that order (a B-tree walked once, front to back) without
building a Python object per delta; the mapping view exists for tests and small callers.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping, Sequence

import polars as pl

from engagement_api.contract.ids import from_signed, to_signed

Key = tuple[int, int, int]

#: Column names and types of the frame: signed Post ID, metric code, hour index, count.
COLUMNS = ("post_id", "metric", "hour", "count")
SCHEMA: dict[str, type[pl.DataType]] = dict.fromkeys(COLUMNS, pl.Int64)


class DeltaTable(Mapping[Key, int]):
    """Sorted, non-zero deltas of one batch (see the module docstring)."""

    __slots__ = ("_frame", "_mapping")

    def __init__(self, frame: pl.DataFrame) -> None:
        """``frame``: the :data:`COLUMNS`, signed IDs, sorted by key, each key once, no zero
        count (the folds build it so; :meth:`from_mapping` for anything else)."""
        self._frame = frame
        self._mapping: dict[Key, int] | None = None

    @classmethod
    def from_mapping(cls, deltas: Mapping[Key, int]) -> DeltaTable:
        """The table of any mapping of deltas (zero counts left out)."""
        if isinstance(deltas, DeltaTable):
            return deltas
        rows = [(to_signed(p), m, h, c) for (p, m, h), c in deltas.items() if c]
        frame = pl.DataFrame(rows, schema=SCHEMA, orient="row").sort(COLUMNS[:3])
        return cls(frame)

    @classmethod
    def sum(cls, parts: Sequence[Mapping[Key, int]]) -> DeltaTable:
        """The deltas of several parts of one batch added up (zero sums left out)."""
        if len(parts) == 1:
            return cls.from_mapping(parts[0])
        frames = [cls.from_mapping(part).frame for part in parts]
        count = pl.col("count")
        summed = (
            pl.concat(frames)
            .group_by(COLUMNS[:3])
            .agg(count.sum())
            .filter(count != 0)
            .sort(COLUMNS[:3])
            .select(COLUMNS)
        )
        return cls(summed)

    @property
    def frame(self) -> pl.DataFrame:
        return self._frame

    def rows(self) -> Iterator[tuple[int, int, int, int]]:
        """``(signed post_id, metric, hour, count)`` in key order."""
        columns = [self._frame.get_column(name).to_list() for name in COLUMNS]
        return zip(*columns, strict=True)

    def csv(self) -> bytes:
        """:meth:`rows` as CSV lines without a header (the input of a ``COPY``)."""
        return _csv(self._frame)

    def _totals(self) -> pl.DataFrame:
        return (
            self._frame.group_by("post_id", "metric")
            .agg(pl.col("count").sum())
            .sort("post_id", "metric")
        )

    def totals(self) -> list[tuple[int, int, int]]:
        """``(signed post_id, metric, sum of count)`` in key order, zero sums included (a
        lifetime total that deltas cancelled out still exists, at 0, on every backend)."""
        return list(self._totals().iter_rows())

    def totals_csv(self) -> bytes:
        """:meth:`totals` as CSV lines without a header (the input of a ``COPY``)."""
        return _csv(self._totals())

    def sums_of(self, metric: int) -> dict[int, int]:
        """Signed Post ID -> sum of the deltas of one metric over its hours."""
        summed = (
            self._frame.filter(pl.col("metric") == metric)
            .group_by("post_id")
            .agg(pl.col("count").sum())
        )
        return dict(summed.iter_rows())

    def post_ids(self) -> list[int]:
        """The distinct signed Post IDs of the deltas."""
        return self._frame.get_column("post_id").unique().to_list()

    def hour_span(self) -> tuple[int, int]:
        """The first and the last hour of the deltas (of a non-empty table)."""
        hour = pl.col("hour")
        first, last = self._frame.select(hour.min().alias("first"), hour.max().alias("last")).row(0)
        return int(first), int(last)

    def hours(self) -> set[int]:
        """The distinct hours of the deltas."""
        return set(self._frame.get_column("hour").unique().to_list())

    # -- the mapping view ----------------------------------------------------------------------

    def _as_dict(self) -> dict[Key, int]:
        if self._mapping is None:
            self._mapping = {(from_signed(p), m, h): c for p, m, h, c in self.rows()}
        return self._mapping

    def __getitem__(self, key: Key) -> int:
        return self._as_dict()[key]

    def __iter__(self) -> Iterator[Key]:
        return iter(self._as_dict())

    def __len__(self) -> int:
        return self._frame.height

    def __repr__(self) -> str:
        return f"<DeltaTable {self._frame.height} deltas>"


def _csv(frame: pl.DataFrame) -> bytes:
    out = io.BytesIO()
    frame.write_csv(out, include_header=False)
    return out.getvalue()
