"""The domain records every layer passes around: users, Posts and their media, the batch
ledger, apps and access tokens. Plain frozen dataclasses; no I/O.

IDs are Python ints in the unsigned 64-bit range; times are aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

#: Folded events: (post id, metric code, hour index) -> signed count to add.
Deltas = Mapping[tuple[int, int, int], int]


@dataclass(frozen=True, slots=True)
class User:
    id: int
    handle: str


@dataclass(frozen=True, slots=True)
class MediaItem:
    media_key: str
    type: str  # photo | video | animated_gif


@dataclass(frozen=True, slots=True)
class Post:
    """A Post as the read side sees it."""

    id: int
    author_id: int
    created_at: datetime
    media: tuple[MediaItem, ...]
    protected: bool
    deleted: bool

    @property
    def available(self) -> bool:
        return not (self.protected or self.deleted)

    @property
    def video_key(self) -> str | None:
        """The Post's video: its first media item of type ``video`` (views count for it)."""
        for item in self.media:
            if item.type == "video":
                return item.media_key
        return None


@dataclass(frozen=True, slots=True)
class PostRecord:
    """A Post as loaded: ``None`` fields are left as they are on an existing Post."""

    id: int
    author_id: int
    created_at: datetime
    media: tuple[MediaItem, ...] | None = None
    protected: bool | None = None
    deleted: bool | None = None


@dataclass(frozen=True, slots=True)
class BatchRecord:
    key: str
    checksum: str
    events: int
    size: int
    applied_at: datetime


@dataclass(frozen=True, slots=True)
class PendingBatch:
    """A batch claimed in the catalog's ledger whose counts may not all be written yet (the
    counters live in another store): its deltas, serialised, kept until it is finished."""

    key: str
    checksum: str
    events: int
    size: int
    claimed_at: datetime
    batch_id: int  # carried by the batch's counter rows (chosen at random when claimed)
    deltas: bytes


@dataclass(frozen=True, slots=True)
class App:
    consumer_key: str
    name: str
    consumer_secret: str
    enabled: bool
    rate_limit: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AccessToken:
    token: str
    secret: str
    consumer_key: str
    user_id: int
    revoked: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DashboardSession:
    """A signed-in dashboard browser: an operator (signed in with ``admin_key_hash``'s key,
    ``user_id`` None) or a Post owner (``user_id``, through a one-time link)."""

    role: str  # operator | owner
    user_id: int | None
    admin_key_hash: str | None
    created_at: datetime
    expires_at: datetime

    @property
    def operator(self) -> bool:
        return self.role == "operator"


@dataclass(frozen=True, slots=True)
class IngestMinute:
    """One minute of the ingest log: batches applied and their events, batches refused for bad
    lines and those lines. ``minute``: minutes since the Unix epoch, UTC."""

    minute: int
    batches: int
    events: int
    rejected_batches: int
    rejected_lines: int
