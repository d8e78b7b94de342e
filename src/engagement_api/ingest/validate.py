"""Validating whole batches: users, Posts, events. All or nothing.

Each validator takes a :class:`Batch` (bytes as received, decoded here) or plain numbered
records ``[(line, value), ...]``; lines that did not decode count as bad lines. Any bad line
raises :class:`BatchRejected` listing every bad line; otherwise the result is returned.

The caller fetches from the store only what a batch refers to, with the ``referenced_*``
helpers, before validating::

    batch = Batch(body, detect_format(content_type, filename, body), Kind.EVENTS)
    posts = store.get_posts(referenced_post_ids(batch))
    folded = validate_events(batch, posts, clock.now())
    store.apply_batch(key, checksum, folded.events, len(body), folded.deltas, clock.now())

Events first try the fast path (:mod:`engagement_api.ingest.fast`) and fall back to the precise
one (:mod:`engagement_api.ingest.events`) only when it gives up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from datetime import datetime

from engagement_api.contract.ids import IdError, parse_id
from engagement_api.domain import Post, PostRecord, User
from engagement_api.ingest.batch import Batch
from engagement_api.ingest.catalog import check_posts, check_users
from engagement_api.ingest.errors import BatchRejected, LineError
from engagement_api.ingest.events import FoldedBatch, fold_precise
from engagement_api.ingest.fast import fold_fast
from engagement_api.ingest.records import Record

#: What the validators take: a batch, or already numbered records.
Records = Batch | Iterable[Record]


def lines_of(records: Records) -> tuple[list[Record], list[LineError]]:
    """Numbered records, and the lines that did not decode."""
    if isinstance(records, Batch):
        return records.records, list(records.errors)
    return list(records), []


def validate_users(records: Records, existing: Mapping[str, User]) -> list[User]:
    """Users to upsert. ``existing``: stored users, keyed by lower-cased handle, whose handle
    a record of the batch uses (see :func:`referenced_handles`)."""
    lines, errors = lines_of(records)
    users = check_users(lines, existing, errors)
    if errors:
        raise BatchRejected(errors)
    return users


def validate_posts(
    records: Records, known_user_ids: Set[int], existing: Mapping[int, Post]
) -> list[PostRecord]:
    """Post records to upsert. ``known_user_ids``: stored users among the batch's authors
    (see :func:`referenced_author_ids`); ``existing``: stored Posts among its ids
    (see :func:`referenced_ids` with ``"id"``)."""
    lines, errors = lines_of(records)
    posts = check_posts(lines, known_user_ids, existing, errors)
    if errors:
        raise BatchRejected(errors)
    return posts


def validate_events(records: Records, posts: Mapping[int, Post], now: datetime) -> FoldedBatch:
    """The batch folded into hourly deltas. ``posts``: stored Posts among the batch's
    ``tweet_id`` values (see :func:`referenced_post_ids`); missing ones are "Post not loaded"."""
    if isinstance(records, Batch):
        frame = records.event_frame
        if frame is not None:
            from engagement_api.ingest.columnar import fold_frame

            folded = fold_frame(frame, posts, now)
            if folded is not None:
                return folded
        rows = records.event_rows
        if rows is not None:
            folded = fold_fast(rows, posts, now)
            if folded is not None:
                return folded
    lines, errors = lines_of(records)
    return fold_precise(lines, posts, now, errors)


def referenced_post_ids(records: Records) -> set[int]:
    """The valid IDs among the events' ``tweet_id`` values."""
    if isinstance(records, Batch):
        frame = records.event_frame
        if frame is not None:
            from engagement_api.ingest.columnar import frame_post_ids

            ids = frame_post_ids(frame)
            if ids is not None:
                return ids
        rows = records.event_rows
        if rows is not None:
            return _valid_ids({row.tweet_id for row in rows})
    return referenced_ids(records, "tweet_id")


def referenced_author_ids(records: Records) -> set[int]:
    """The valid IDs among the Posts' ``author_id`` values."""
    return referenced_ids(records, "author_id")


def referenced_ids(records: Records, field: str) -> set[int]:
    """The valid IDs found in ``field`` of the batch's objects."""
    lines, _ = lines_of(records)
    values = {_hashable(value.get(field)) for _, value in lines if isinstance(value, dict)}
    return _valid_ids(values)


def referenced_handles(records: Records) -> set[str]:
    """The lower-cased ``handle`` strings of the batch (to look up stored holders)."""
    lines, _ = lines_of(records)
    return {
        value["handle"].lower()
        for _, value in lines
        if isinstance(value, dict) and isinstance(value.get("handle"), str)
    }


def _hashable(value: object) -> object:
    """IDs can only be strings or integers; anything else (booleans, which would hash like
    0 and 1, lists, objects) is left out."""
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    return None


def _valid_ids(values: Iterable[object]) -> set[int]:
    ids = set()
    for value in values:
        if value is None:
            continue
        try:
            ids.add(parse_id(value))
        except IdError:
            continue
    return ids
