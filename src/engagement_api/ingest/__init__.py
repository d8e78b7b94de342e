"""Ingest: batch decoding and validation, folding events into hourly deltas, synthetic data.

    batch bytes -> decode (NDJSON, JSON array, CSV) -> validate every line -> fold -> deltas

Pure: no database access. The caller fetches what a batch refers to (``referenced_*``), then
validates; a batch with any bad line raises :class:`BatchRejected` (400) listing every one.
"""

from engagement_api.ingest.batch import Batch
from engagement_api.ingest.decode import decode_records, detect_format
from engagement_api.ingest.errors import BatchRejected, LineError
from engagement_api.ingest.events import FoldedBatch
from engagement_api.ingest.records import Decoded, Format, Kind, Record
from engagement_api.ingest.validate import (
    referenced_author_ids,
    referenced_handles,
    referenced_ids,
    referenced_post_ids,
    validate_events,
    validate_posts,
    validate_users,
)

__all__ = [
    "Batch",
    "BatchRejected",
    "Decoded",
    "FoldedBatch",
    "Format",
    "Kind",
    "LineError",
    "Record",
    "decode_records",
    "detect_format",
    "referenced_author_ids",
    "referenced_handles",
    "referenced_ids",
    "referenced_post_ids",
    "validate_events",
    "validate_posts",
    "validate_users",
]
