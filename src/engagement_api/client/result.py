"""What the client's read methods return: the merged answer as plain dicts, as rows, as CSV and
(when pandas is installed) as a DataFrame."""

from __future__ import annotations

import csv
import importlib
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from engagement_api.client.merge import RESERVED

ROW_FIELDS = ("post_id", "metric", "day", "hour", "count")


@dataclass(frozen=True, slots=True)
class Row:
    """One leaf of a grouping tree; levels the grouping does not have are ``None``."""

    post_id: str | None
    metric: str | None
    day: str | None
    hour: str | None
    count: int

    def as_tuple(self) -> tuple[str | None, str | None, str | None, str | None, int]:
        return (self.post_id, self.metric, self.day, self.hour, self.count)


def _stringify(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stringify(v) for k, v in value.items()}
    return str(value)


@dataclass
class Result:
    """The answer to one (possibly split) request, as one request would have answered it."""

    endpoint: str
    groupings: dict[str, dict[str, list[str]]]
    #: The merged answer with int leaves (see :meth:`to_dict` for the wire shape).
    merged: dict[str, Any]
    #: IDs removed because the caller does not own them (``drop_unowned=True``), ascending.
    dropped_tweet_ids: list[str] = field(default_factory=list)
    #: How many HTTP requests were answered with 200 to build this result.
    requests: int = 0

    def to_dict(self, *, int_counts: bool = False) -> dict[str, Any]:
        """The wire shape: counts as strings of digits, or as ints with ``int_counts=True``."""
        out: dict[str, Any] = {}
        for key, value in self.merged.items():
            if key in RESERVED:
                out[key] = list(value) if isinstance(value, list) else value
            else:
                out[key] = _copy(value) if int_counts else _stringify(value)
        return out

    @property
    def data(self) -> dict[str, Any]:
        """Shorthand for ``to_dict()`` (wire shape, counts as strings)."""
        return self.to_dict()

    def __getitem__(self, key: str) -> Any:
        """One top-level key of :meth:`to_dict` (wire shape)."""
        value = self.merged[key]
        return list(value) if key in RESERVED and isinstance(value, list) else _stringify(value)

    @property
    def start(self) -> str | None:
        value: str | None = self.merged.get("start")
        return value

    @property
    def end(self) -> str | None:
        value: str | None = self.merged.get("end")
        return value

    @property
    def errors(self) -> list[str]:
        return list(self.merged.get("errors", []))

    @property
    def unavailable_tweet_ids(self) -> list[str]:
        return list(self.merged.get("unavailable_tweet_ids", []))

    def grouping_name(self, grouping: str | None = None) -> str:
        if grouping is None:
            return next(iter(self.groupings))
        if grouping not in self.groupings:
            raise KeyError(f"no grouping named {grouping!r}; have {list(self.groupings)}")
        return grouping

    def rows(self, grouping: str | None = None) -> Iterator[Row]:
        """The leaves of one grouping (default: the first) as rows, in key order."""
        name = self.grouping_name(grouping)
        levels = [level.lower() for level in self.groupings[name]["group_by"]]
        yield from _rows(self.merged[name], levels, {})

    def to_csv(self, file: TextIO | None = None, grouping: str | None = None) -> str:
        """CSV with the header ``post_id,metric,day,hour,count``; written to ``file`` if given,
        and returned (as the empty string when written to a file)."""
        buffer = io.StringIO() if file is None else file
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(ROW_FIELDS)
        for row in self.rows(grouping):
            writer.writerow(["" if v is None else v for v in row.as_tuple()])
        return buffer.getvalue() if isinstance(buffer, io.StringIO) and file is None else ""

    def to_dataframe(self, grouping: str | None = None) -> Any:
        """A pandas DataFrame of :meth:`rows` (pandas is optional: ``pip install pandas``)."""
        try:
            pandas = importlib.import_module("pandas")  # optional: imported when asked for
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "to_dataframe() needs pandas: pip install 'engagement-api[pandas]'"
            ) from exc
        rows = [r.as_tuple() for r in self.rows(grouping)]
        return pandas.DataFrame(rows, columns=list(ROW_FIELDS))

    def series(self, grouping: str | None = None) -> dict[str, dict[tuple[str, str | None], int]]:
        """Per metric, the sums per (day, hour) bucket (hour ``None`` for daily groupings),
        summed across Posts. Needs a grouping with ``engagement.day``."""
        out: dict[str, dict[tuple[str, str | None], int]] = {}
        for row in self.rows(grouping):
            if row.day is None:
                raise ValueError("a series needs a grouping with engagement.day")
            per_metric = out.setdefault(row.metric or "", {})
            key = (row.day, row.hour)
            per_metric[key] = per_metric.get(key, 0) + row.count
        return {m: dict(sorted(v.items())) for m, v in sorted(out.items())}


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


_FIELD_OF = {
    "tweet.id": "post_id",
    "engagement.type": "metric",
    "engagement.day": "day",
    "engagement.hour": "hour",
}


def _rows(tree: Any, levels: Sequence[str], path: Mapping[str, str]) -> Iterator[Row]:
    if not levels:
        yield Row(
            path.get("post_id"), path.get("metric"), path.get("day"), path.get("hour"), int(tree)
        )
        return
    field_name = _FIELD_OF[levels[0]]
    for key, sub in tree.items():
        yield from _rows(sub, levels[1:], {**path, field_name: key})
