"""Users and Posts: the precise rules of their records (upserts).

Users (decisions beyond the spec):

- ``handle`` is 1 to 15 ASCII letters, digits or ``_`` and is stored as sent; uniqueness is
  case-insensitive.
- The same ``id`` more than once in a batch: the last record wins (as if applied in order); the
  result lists each user once, in order of first appearance.
- A handle given to two different ids in one batch: the later line is bad. A handle held by
  another stored user is taken, even if that user is renamed in the same batch (rename in an
  earlier batch first), so the store never has to swap handles inside one transaction.

Posts:

- ``id``, ``author_id`` and ``created_at`` are required in every record (also on a reload);
  ``author_id`` must be a loaded user; ``author_id`` and ``created_at`` may not differ from the
  stored Post nor from an earlier line of the batch.
- ``media``, ``protected``, ``deleted`` left out (or ``null``) are None in the
  :class:`PostRecord`, so the store keeps what it has; ``media: []`` clears the media.
- ``media`` items: ``{"media_key": non-empty string (trimmed), "type": photo | video |
  animated_gif}``; other fields of an item are ignored.
- The same ``id`` more than once in a batch: records merge in order (a later line's fields
  win), one :class:`PostRecord` per Post in order of first appearance.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Set
from datetime import datetime
from typing import Final

from engagement_api.domain import MediaItem, Post, PostRecord, User
from engagement_api.ingest.errors import MISSING, LineError
from engagement_api.ingest.fields import LineReader, format_moment
from engagement_api.ingest.records import Record

HANDLE: Final = re.compile(r"[A-Za-z0-9_]{1,15}")
MEDIA_TYPES: Final = ("photo", "video", "animated_gif")


def check_users(
    lines: Iterable[Record], existing: Mapping[str, User], errors: list[LineError]
) -> list[User]:
    """Valid users of the batch (problems appended to ``errors``)."""
    users: dict[int, User] = {}
    claimed: dict[str, tuple[int, int]] = {}  # lower-cased handle -> (user id, first line)
    for line, value in lines:
        reader = LineReader(line, value, errors)
        if not reader.ok:
            continue
        user_id = reader.id("id")
        handle = reader.string("handle")
        if handle is not None and not HANDLE.fullmatch(handle):
            reader.fail("handle", handle, "must be 1 to 15 letters, digits or underscores")
            handle = None
        if handle is None or user_id is None:
            continue
        folded = handle.lower()
        first = claimed.get(folded)
        holder = existing.get(folded)
        if first is not None and first[0] != user_id:
            reader.fail("handle", handle, f"is also given to user {first[0]} on line {first[1]}")
        elif holder is not None and holder.id != user_id:
            reader.fail("handle", handle, f"is taken by user {holder.id}")
        else:
            claimed.setdefault(folded, (user_id, line))
            users[user_id] = User(user_id, handle)
    return list(users.values())


def check_posts(
    lines: Iterable[Record],
    known_user_ids: Set[int],
    existing: Mapping[int, Post],
    errors: list[LineError],
) -> list[PostRecord]:
    """Valid Post records of the batch, merged per Post (problems appended to ``errors``)."""
    merged: dict[int, tuple[int, PostRecord]] = {}  # post id -> (first line, record so far)
    for line, value in lines:
        reader = LineReader(line, value, errors)
        if not reader.ok:
            continue
        post_id = reader.id("id")
        author_id = reader.id("author_id")
        if author_id is not None and author_id not in known_user_ids:
            reader.fail("author_id", reader.raw("author_id"), "User not loaded")
        created = reader.timestamp("created_at")
        media = _media(reader)
        protected = reader.boolean("protected")
        deleted = reader.boolean("deleted")
        if post_id is None or author_id is None or created is None:
            continue
        earlier = merged.get(post_id)
        _check_fixed(reader, existing.get(post_id), earlier, author_id, created)
        if not reader.ok:
            continue
        if earlier is None:
            merged[post_id] = (
                line,
                PostRecord(post_id, author_id, created, media, protected, deleted),
            )
            continue
        first_line, before = earlier
        merged[post_id] = (
            first_line,
            PostRecord(
                post_id,
                author_id,
                created,
                before.media if media is None else media,
                before.protected if protected is None else protected,
                before.deleted if deleted is None else deleted,
            ),
        )
    return [record for _, record in merged.values()]


def _check_fixed(
    reader: LineReader,
    stored: Post | None,
    earlier: tuple[int, PostRecord] | None,
    author_id: int,
    created: datetime,
) -> None:
    """``author_id`` and ``created_at`` never change."""
    if stored is not None:
        if author_id != stored.author_id:
            reason = f"differs from the loaded Post's author_id {stored.author_id}"
            reader.fail("author_id", reader.raw("author_id"), reason)
        if created != stored.created_at:
            reason = f"differs from the loaded Post's created_at {format_moment(stored.created_at)}"
            reader.fail("created_at", reader.raw("created_at"), reason)
    if earlier is not None:
        line, before = earlier
        if author_id != before.author_id:
            reason = f"differs from author_id {before.author_id} on line {line}"
            reader.fail("author_id", reader.raw("author_id"), reason)
        if created != before.created_at:
            reason = f"differs from created_at {format_moment(before.created_at)} on line {line}"
            reader.fail("created_at", reader.raw("created_at"), reason)


def _media(reader: LineReader) -> tuple[MediaItem, ...] | None:
    value = reader.raw("media")
    if value is MISSING:
        return None
    if not isinstance(value, list):
        reader.fail("media", value, "must be an array of objects with media_key and type")
        return None
    items = []
    for index, item in enumerate(value):
        name = f"media[{index}]"
        if not isinstance(item, dict):
            reader.fail(name, item, "must be an object with media_key and type")
            continue
        key = item.get("media_key")
        media_type = item.get("type")
        if key is None:
            reader.fail(f"{name}.media_key", MISSING, "is required")
        elif not isinstance(key, str) or not key.strip():
            reader.fail(f"{name}.media_key", key, "must be a non-empty string")
            key = None
        if media_type is None:
            reader.fail(f"{name}.type", MISSING, "is required")
        elif media_type not in MEDIA_TYPES:
            reader.fail(f"{name}.type", media_type, "must be photo, video or animated_gif")
            media_type = None
        if isinstance(key, str) and isinstance(media_type, str):
            items.append(MediaItem(key.strip(), media_type))
    return tuple(items)
