"""CSV batches: a header row naming the columns, then one record a row.

Columns (names trimmed, any case; other columns are ignored):

========  ==============================================================
users     ``id``, ``handle``
tweets    ``id``, ``author_id``, ``created_at``, ``protected``, ``deleted``, ``media``
events    ``tweet_id``, ``type``, ``at``, ``count``
========  ==============================================================

Decisions:

- Cells are trimmed. An **empty cell is a field left out**: ``count`` defaults to 1, and a Post
  keeps its stored ``media``, ``protected``, ``deleted``. A row whose cells are all empty is a
  blank line.
- ``count``: an integer literal (``[+-]digits``) becomes a number; anything else stays text and
  is then a bad line ("must be an integer").
- ``protected``, ``deleted``: ``true``/``false``/``1``/``0`` in any case become booleans;
  anything else stays text (a bad line).
- ``media``: items ``type:media_key`` separated by ``|``, e.g. ``video:7_123|photo:3_9``;
  the word ``none`` means "no media" (it clears the stored media). A malformed item is a bad line.
- The header is line 1 (blank lines before it count). A header that lacks a required column is
  one error on the header line and no records. A row with more or fewer cells than the header is
  a bad line.
- Without a ``kind``, the header tells it: ``tweet_id`` events, ``author_id`` tweets, ``handle``
  users.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

from engagement_api.ingest.errors import MISSING, LineError
from engagement_api.ingest.records import Decoded, Kind
from engagement_api.ingest.text import utf8_error, utf8_problem

REQUIRED: dict[Kind, tuple[str, ...]] = {
    Kind.USERS: ("id", "handle"),
    Kind.TWEETS: ("id", "author_id", "created_at"),
    Kind.EVENTS: ("tweet_id", "type", "at"),
}

_INT = re.compile(r"[+-]?[0-9]+")
_BOOLS = {"true": True, "1": True, "false": False, "0": False}
MEDIA_FORMAT = "each item must be type:media_key, items separated by |"


class _CellError(ValueError):
    """A cell that cannot stand for its field."""


def int_cell(text: str) -> object:
    return int(text) if _INT.fullmatch(text) else text


def bool_cell(text: str) -> object:
    return _BOOLS.get(text.lower(), text)


def media_cell(text: str) -> object:
    if text.lower() == "none":
        return []
    items = []
    for part in text.split("|"):
        media_type, colon, key = (piece.strip() for piece in part.partition(":"))
        if not (colon and media_type and key):
            raise _CellError(MEDIA_FORMAT)
        items.append({"media_key": key, "type": media_type})
    return items


def _text(text: str) -> object:
    return text


_COLUMNS: dict[Kind, dict[str, Callable[[str], object]]] = {
    Kind.USERS: {"id": _text, "handle": _text},
    Kind.TWEETS: {
        "id": _text,
        "author_id": _text,
        "created_at": _text,
        "protected": bool_cell,
        "deleted": bool_cell,
        "media": media_cell,
    },
    Kind.EVENTS: {"tweet_id": _text, "type": _text, "at": _text, "count": int_cell},
}


def infer_kind(columns: list[str]) -> Kind | None:
    if "tweet_id" in columns:
        return Kind.EVENTS
    if "author_id" in columns:
        return Kind.TWEETS
    if "handle" in columns:
        return Kind.USERS
    return None


def decode_csv(data: bytes, kind: Kind | None) -> Decoded:
    """Decode a CSV batch (BOM already stripped) into numbered field dicts."""
    problem = utf8_problem(data)
    if problem is not None:
        number = data.count(b"\n", 0, problem.start) + 1
        line_start = data.rfind(b"\n", 0, problem.start) + 1
        line_end = data.find(b"\n", problem.start)
        line = data[line_start : len(data) if line_end < 0 else line_end]
        inner = utf8_problem(line)
        assert inner is not None
        return Decoded(errors=[utf8_error(number, line, inner)])
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""), strict=True)
    decoded = Decoded()
    header: list[str] | None = None
    converters: list[tuple[int, str, Callable[[str], object]]] = []
    while True:
        number = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            decoded.errors.append(LineError(number, None, MISSING, f"invalid CSV: {exc}"))
            break
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if header is None:
            header = [cell.lower() for cell in cells]
            kind, converters, error = _read_header(number, header, kind)
            if error is not None:
                decoded.errors.append(error)
                break
            continue
        if len(cells) != len(header):
            reason = f"has {len(cells)} cells, the header has {len(header)}"
            decoded.errors.append(LineError(number, None, MISSING, reason))
            continue
        record: dict[str, object] = {}
        for index, name, convert in converters:
            cell = cells[index]
            if not cell:
                continue
            try:
                record[name] = convert(cell)
            except _CellError as exc:
                decoded.errors.append(LineError(number, name, cell, str(exc)))
        decoded.records.append((number, record))
    return decoded


def _read_header(
    number: int, header: list[str], kind: Kind | None
) -> tuple[Kind | None, list[tuple[int, str, Callable[[str], object]]], LineError | None]:
    if kind is None:
        kind = infer_kind(header)
        if kind is None:
            reason = "the header names no tweet_id, author_id or handle column"
            return None, [], LineError(number, None, MISSING, reason)
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        reason = f"the header repeats column(s) {', '.join(repeated)}"
        return kind, [], LineError(number, None, MISSING, reason)
    missing = [name for name in REQUIRED[kind] if name not in header]
    if missing:
        reason = f"the header lacks column(s) {', '.join(missing)} of {kind.value}"
        return kind, [], LineError(number, None, MISSING, reason)
    columns = _COLUMNS[kind]
    converters = [
        (header.index(name), name, convert) for name, convert in columns.items() if name in header
    ]
    return kind, converters, None
