"""Small builders shared by the ingest tests: fixed times, Posts, batches."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from engagement_api.domain import MediaItem, Post
from engagement_api.ingest import Batch, Kind

#: The fixed "now" of the ingest tests (never the real clock).
NOW = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)
CREATED = datetime(2026, 11, 20, 8, 15, tzinfo=UTC)

#: Post IDs of the standard catalog.
PLAIN = 1060976163948904448
VIDEO = 1060976163948904449
GIF = 1060976163948904450
MISSING_POST = 1869999999999999998

HOUR_0815 = int(CREATED.timestamp()) // 3600  # the hour CREATED falls in


def post(
    post_id: int,
    created: datetime = CREATED,
    media: tuple[MediaItem, ...] = (),
    author_id: int = 42,
    protected: bool = False,
    deleted: bool = False,
) -> Post:
    return Post(post_id, author_id, created, media, protected, deleted)


def catalog() -> dict[int, Post]:
    """Three loaded Posts: no media, a video, a GIF."""
    return {
        PLAIN: post(PLAIN),
        VIDEO: post(VIDEO, media=(MediaItem(f"7_{VIDEO}", "video"),)),
        GIF: post(GIF, media=(MediaItem(f"16_{GIF}", "animated_gif"),)),
    }


def event(
    tweet_id: object = str(PLAIN),
    type: object = "favorites",
    at: object = "2026-11-26T10:15:03Z",
    **extra: object,
) -> dict[str, object]:
    """An event with sensible defaults; pass a field to replace it, ``extra`` to add."""
    return {"tweet_id": tweet_id, "type": type, "at": at, **extra}


def ndjson(*values: object) -> bytes:
    """One compact JSON value a line (stdlib json: integers of any size)."""
    return b"".join(json.dumps(value, separators=(",", ":")).encode() + b"\n" for value in values)


def event_batch(*values: object) -> Batch:
    return Batch(ndjson(*values), "ndjson", Kind.EVENTS)


def hour(text: str) -> int:
    """The hour index of a ``YYYY-MM-DDTHH`` text."""
    return int(datetime.fromisoformat(text + ":00:00+00:00").timestamp()) // 3600
