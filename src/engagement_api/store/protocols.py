"""The storage contracts: a handful of methods each, implemented once per backend.

IDs are Python ints in the unsigned 64-bit range; metrics are addressed by their stable code
(:mod:`engagement_api.contract.metrics`); hours are whole hours since the Unix epoch (UTC).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

#: Folded events: (post id, metric code, hour index) -> signed count to add.
Deltas = Mapping[tuple[int, int, int], int]


class StoreError(Exception):
    """Base of everything the store raises on purpose."""


class StoreUnavailable(StoreError):
    """The database cannot be reached (answered 503 by the API)."""


class IdempotencyConflict(StoreError):
    """A batch key was applied before with a different body."""


class SchemaError(StoreError):
    """The database schema is missing, older or newer than this code knows."""


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


class CatalogStore(Protocol):
    """Users and Posts."""

    def upsert_users(self, users: Sequence[User]) -> int: ...

    def get_users(self, ids: Iterable[int]) -> dict[int, User]: ...

    def users_by_handle(self, handles: Iterable[str]) -> dict[str, User]:
        """Existing users whose handle matches case-insensitively, keyed by lower-cased handle."""
        ...

    def upsert_posts(self, posts: Sequence[PostRecord]) -> int: ...

    def get_posts(self, ids: Iterable[int]) -> dict[int, Post]: ...

    def posts_by_author(self, author_id: int) -> list[int]: ...


class CounterStore(Protocol):
    """Per-Post, per-metric, per-hour counts, with lifetime and per-video totals."""

    def get_batch(self, key: str) -> BatchRecord | None: ...

    def apply_batch(
        self, key: str, checksum: str, events: int, size: int, deltas: Deltas, now: datetime
    ) -> bool:
        """Apply a batch's deltas and record its key in one transaction.

        Returns True when applied, False when the key was already applied with the same
        checksum (nothing changes). Raises :class:`IdempotencyConflict` when the key was
        applied with another checksum.
        """
        ...

    def hourly(
        self, post_ids: Sequence[int], metric_codes: Sequence[int], start_hour: int, end_hour: int
    ) -> list[tuple[int, int, int, int]]:
        """Non-zero rows ``(post_id, metric_code, hour, count)`` with start <= hour < end."""
        ...

    def totals(
        self, post_ids: Sequence[int], metric_codes: Sequence[int]
    ) -> dict[tuple[int, int], int]:
        """Lifetime totals ``(post_id, metric_code) -> count`` (missing means 0)."""
        ...

    def video_totals(self, post_ids: Sequence[int]) -> dict[int, int]:
        """For each Post, the lifetime views of its video summed over every Post carrying it."""
        ...

    def lifetime(
        self, post_ids: Sequence[int], metric_codes: Sequence[int]
    ) -> dict[tuple[int, int], int]:
        """What ``/totals`` reads, in one call: :meth:`totals` of the codes, except that the
        video views code is answered by :meth:`video_totals` (missing means 0)."""
        ...

    def prune_hourly(self, before_hour: int) -> int:
        """Drop hourly rows older than ``before_hour``; lifetime totals stay."""
        ...


class CredentialStore(Protocol):
    """Apps, access tokens, ingest keys and OAuth nonces. Secrets that need not be recovered
    (bearer tokens, ingest keys) are given and kept as SHA-256 hex digests."""

    def create_app(
        self,
        consumer_key: str,
        name: str,
        consumer_secret: str,
        bearer_hash: str,
        rate_limit: int,
        now: datetime,
    ) -> App: ...

    def get_app(self, consumer_key: str) -> App | None: ...

    def app_by_bearer(self, bearer_hash: str) -> App | None: ...

    def list_apps(self) -> list[App]: ...

    def set_app_enabled(self, consumer_key: str, enabled: bool) -> bool: ...

    def set_rate_limit(self, consumer_key: str, rate_limit: int) -> bool: ...

    def create_token(
        self, token: str, secret: str, consumer_key: str, user_id: int, now: datetime
    ) -> AccessToken: ...

    def get_token(self, token: str) -> AccessToken | None: ...

    def revoke_token(self, token: str) -> bool: ...

    def create_ingest_key(self, key_hash: str, now: datetime) -> None: ...

    def has_ingest_key(self, key_hash: str) -> bool: ...

    def use_nonce(self, consumer_key: str, nonce: str, timestamp: int, now: datetime) -> bool:
        """Record a nonce; False when this consumer key used it already (a replay).

        Nonces older than the timestamp window may be forgotten.
        """
        ...


class MeteringStore(Protocol):
    """Rate-limit counts per (app, endpoint, minute) and usage per (app, month, user)."""

    def count_request(self, consumer_key: str, endpoint: str, minute: int) -> int:
        """Count one request atomically, across processes; the count of this minute with it.

        The first request of a minute drops this (app, endpoint)'s rows older than the minute
        before (kept: a request read "now" just before the minute turned may count late).
        """
        ...

    def record_usage(self, consumer_key: str, month: str, user_id: int) -> bool:
        """Remember that the app acted for the user in the month (``YYYY-MM``); idempotent.
        True when the user was new for that app and month."""
        ...

    def usage(self, consumer_key: str, month: str) -> int:
        """Distinct users recorded for the app in the month."""
        ...


class Store(CatalogStore, CounterStore, CredentialStore, MeteringStore, Protocol):
    """Everything one backend provides."""

    url: str

    def migrate(self) -> list[int]:
        """Apply pending schema migrations; returns the versions applied."""
        ...

    def schema_version(self) -> int:
        """The newest migration applied (0 on an empty database)."""
        ...

    def check_schema(self) -> None:
        """Raise :class:`SchemaError` unless the schema is exactly current."""
        ...

    def ping(self) -> None:
        """Raise :class:`StoreUnavailable` when the database cannot be reached."""
        ...

    def close(self) -> None: ...
