"""Byte-level helpers shared by the decoders: BOM, UTF-8 checks, blank lines, value kinds."""

from __future__ import annotations

import codecs

from engagement_api.ingest.errors import MISSING, LineError

_BLANK = b" \t\r"


def strip_bom(data: bytes) -> bytes:
    return data[len(codecs.BOM_UTF8) :] if data.startswith(codecs.BOM_UTF8) else data


def utf8_problem(data: bytes) -> UnicodeDecodeError | None:
    """The first UTF-8 error of ``data``, or None when it is valid UTF-8."""
    if data.isascii():
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc
    return None


def is_blank(line: bytes) -> bool:
    return not line.strip(_BLANK)


def utf8_error(number: int, data: bytes, problem: UnicodeDecodeError) -> LineError:
    where = f"column {problem.start + 1}" if number else f"offset {problem.start}"
    bad = data[problem.start : problem.start + 1].hex()
    return LineError(number, None, MISSING, f"not valid UTF-8 (byte 0x{bad} at {where})")
