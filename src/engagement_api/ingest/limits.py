"""Limits on an ingest batch that every road checks the same way: the Idempotency-Key's form,
and the most lines one batch may have (``ENGAGEMENT_API_MAX_INGEST_LINES``)."""

from __future__ import annotations

import msgspec

from engagement_api.contract.errors import BadRequest, PayloadTooLarge
from engagement_api.ingest.records import Format

MAX_KEY_LENGTH = 255


def check_idempotency_key(key: str | None) -> str:
    """An Idempotency-Key must be 1 to 255 visible ASCII characters."""
    if key is None or key == "":
        raise BadRequest("Idempotency-Key header is required on /ingest/events")
    if len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise BadRequest(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} visible ASCII characters")
    return key


def count_lines(data: bytes, fmt: Format) -> int:
    """The lines of a batch as its line numbers count them: NDJSON and CSV physical lines
    (blank lines and the CSV header included), JSON array elements. A JSON body that does not
    parse counts 0 here (validation reports it)."""
    if fmt is Format.JSON:
        try:
            return len(msgspec.json.decode(data, type=list[msgspec.Raw]))
        except (msgspec.DecodeError, RecursionError):
            return 0
    if not data:
        return 0
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


def check_batch_lines(data: bytes, fmt: Format, limit: int) -> None:
    """413 when a batch has more than ``limit`` lines (``ENGAGEMENT_API_MAX_INGEST_LINES``)."""
    lines = count_lines(data, fmt)
    if lines > limit:
        raise PayloadTooLarge(f"Batch has {lines} lines, more than the limit of {limit} lines")
