"""Batch bytes to numbered JSON values: NDJSON, a JSON array, or CSV.

Decisions:

- **Line numbers are 1-based.** NDJSON: the physical line (blank lines are skipped but counted).
  JSON array: the element's index + 1. CSV: the physical line where the record starts, the header
  being line 1 (so the first data row is line 2, as an editor shows it).
- **Encoding.** UTF-8; a UTF-8 byte-order mark at the start is skipped (spreadsheet exports carry
  one). Invalid UTF-8 is a bad line (NDJSON: that line; CSV: the line holding the bad byte;
  JSON array: the whole batch, line 0), never an exception.
- **Blank lines** (only spaces, tabs, CR) are skipped in NDJSON and CSV.
- **Undecodable input** is reported as :class:`LineError` in :attr:`Decoded.errors`; every other
  line still decodes, so one answer lists every bad line.
- **Format detection** (:func:`detect_format`): a known ``Content-Type`` wins, then the file
  name's suffix, then the first non-blank byte: ``[`` a JSON array, ``{`` NDJSON, a first line
  holding a comma CSV, anything else NDJSON (so it is reported as invalid JSON on line 1).
- CSV is described in :mod:`engagement_api.ingest.csvrows`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePath

import msgspec

from engagement_api.contract.body import json_kind
from engagement_api.ingest.csvrows import decode_csv
from engagement_api.ingest.errors import MISSING, LineError
from engagement_api.ingest.records import Decoded, Format, Kind, Record
from engagement_api.ingest.text import is_blank, strip_bom, utf8_error, utf8_problem

_CONTENT_TYPES: dict[str, Format] = {
    "application/x-ndjson": Format.NDJSON,
    "application/ndjson": Format.NDJSON,
    "application/jsonl": Format.NDJSON,
    "application/x-jsonlines": Format.NDJSON,
    "application/jsonlines": Format.NDJSON,
    "application/json": Format.JSON,
    "text/json": Format.JSON,
    "text/csv": Format.CSV,
    "application/csv": Format.CSV,
}

_SUFFIXES: dict[str, Format] = {
    ".ndjson": Format.NDJSON,
    ".jsonl": Format.NDJSON,
    ".json": Format.JSON,
    ".csv": Format.CSV,
}

#: Floats out of range (``1E400``) read as infinity, as the typed fast decoder skips them
#: when they sit in an ignored field: a valid JSON line is never refused for a number's size.
_generic = msgspec.json.Decoder(float_hook=float)


def detect_format(content_type: str | None, filename: str | None, data: bytes) -> Format:
    """The format of a batch, from its content type, its file name, or its first bytes."""
    if content_type:
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type in _CONTENT_TYPES:
            return _CONTENT_TYPES[media_type]
    if filename:
        suffix = PurePath(filename).suffix.lower()
        if suffix in _SUFFIXES:
            return _SUFFIXES[suffix]
    head = strip_bom(data[:4096]).lstrip(b" \t\r\n")
    if head.startswith(b"["):
        return Format.JSON
    if head.startswith(b"{") or not head:
        return Format.NDJSON
    if b"," in head.split(b"\n", 1)[0]:
        return Format.CSV
    return Format.NDJSON


def decode_records(data: bytes, fmt: Format | str, kind: Kind | str | None = None) -> Decoded:
    """Decode a whole batch into numbered JSON values (a CSV cell becomes the value its column
    stands for; ``kind`` names the columns, or is read from the CSV header when None)."""
    fmt = Format(fmt)
    data = strip_bom(data)
    if fmt is Format.NDJSON:
        return _decode_ndjson(data)
    if fmt is Format.JSON:
        return _decode_array(data)
    return decode_csv(data, None if kind is None else Kind(kind))


def _decode_ndjson(data: bytes) -> Decoded:
    decoded = Decoded()
    for number, line in enumerate(data.split(b"\n"), start=1):
        if is_blank(line):
            continue
        try:
            decoded.records.append((number, _generic.decode(line)))
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
            decoded.errors.append(_undecodable(number, line, exc))
    return decoded


def _decode_array(data: bytes) -> Decoded:
    problem = utf8_problem(data)
    if problem is not None:
        return Decoded(errors=[utf8_error(0, data, problem)])
    try:
        value = _generic.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
        return Decoded(errors=[LineError(0, None, MISSING, f"invalid JSON: {exc}")])
    if not isinstance(value, list):
        reason = f"must be a JSON array of objects, not {json_kind(value)}"
        return Decoded(errors=[LineError(0, None, MISSING, reason)])
    return Decoded(records=list(enumerate(value, start=1)))


def _undecodable(number: int, line: bytes, exc: Exception) -> LineError:
    problem = utf8_problem(line)
    if problem is not None:
        return utf8_error(number, line, problem)
    return LineError(number, None, MISSING, f"invalid JSON: {exc}")


def numbered(records: Sequence[object]) -> list[Record]:
    """Plain values numbered from 1 (handy in tests and for generated data)."""
    return list(enumerate(records, start=1))
