"""The storage contracts: a handful of methods each, implemented once per backend. Each caller
takes only the contract it uses (the reader: catalog and counters; the meter: metering; the
authenticator: credentials), so one backend's counters can sit beside another's catalog.

IDs are Python ints in the unsigned 64-bit range; metrics are addressed by their stable code
(:mod:`engagement_api.contract.metrics`); hours are whole hours since the Unix epoch (UTC).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, NamedTuple, Protocol, TypeVar, runtime_checkable

from engagement_api.contract.policy import PostFacts
from engagement_api.domain import (
    AccessToken,
    App,
    BatchRecord,
    DashboardSession,
    Deltas,
    IngestMinute,
    PendingBatch,
    Post,
    PostRecord,
    User,
)

#: Nonces are remembered this long (seconds); the timestamp window must not exceed it.
NONCE_RETENTION = 3600


class CatalogStore(Protocol):
    """Users and Posts."""

    def upsert_users(self, users: Sequence[User]) -> int: ...

    def get_users(self, ids: Iterable[int]) -> dict[int, User]: ...

    def users_by_handle(self, handles: Iterable[str]) -> dict[str, User]:
        """Existing users whose handle matches case-insensitively, keyed by lower-cased handle."""
        ...

    def upsert_posts(self, posts: Sequence[PostRecord]) -> int: ...

    def get_posts(self, ids: Iterable[int]) -> dict[int, Post]: ...

    def post_facts(self, ids: Iterable[int]) -> dict[int, PostFacts]:
        """What the read road needs of each existing Post (author, creation time, whether it
        is available: neither protected nor deleted), in one statement, without its media."""
        ...

    def posts_by_author(self, author_id: int) -> list[int]: ...

    def list_users(self, after: str, limit: int) -> list[User]:
        """Up to ``limit`` users whose lower-cased handle sorts after ``after`` (``""``: from
        the first), in that order (byte order of the lower-cased handle)."""
        ...


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

    def lifetime_columns(
        self, post_ids: Sequence[int], metric_codes: Sequence[int]
    ) -> list[list[int]]:
        """:meth:`lifetime` as columns: per code of ``metric_codes`` (in that order), the count
        of each Post of ``post_ids`` (in that order; 0 for none). What ``/totals`` renders."""
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

    def app_and_token(
        self, consumer_key: str, token: str | None
    ) -> tuple[App | None, AccessToken | None]:
        """``get_app(consumer_key)`` and, unless ``token`` is None, ``get_token(token)`` (what
        an OAuth 1.0a signature is checked with): in one round trip where the store has any."""
        ...

    def revoke_token(self, token: str) -> bool: ...

    def create_ingest_key(self, key_hash: str, now: datetime) -> None: ...

    def has_ingest_key(self, key_hash: str) -> bool: ...

    def create_admin_key(self, key_hash: str, now: datetime) -> None: ...

    def has_admin_key(self, key_hash: str) -> bool:
        """Whether the key was issued and is not revoked."""
        ...

    def revoke_admin_key(self, key_hash: str) -> bool:
        """Revoke the key and end every dashboard session signed in with it, in one
        transaction; False when no such key is active."""
        ...

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

    def usage_users(self, consumer_key: str, month: str) -> list[int]:
        """The users recorded for the app in the month, their IDs ascending (what ``usage``
        counts)."""
        ...


class LedgerStore(Protocol):
    """The catalog's side of counters kept in another store (:mod:`.split`): batches claimed
    with their deltas until every counter shard has them, and the Posts sharing a video."""

    def claim_batch(
        self,
        key: str,
        checksum: str,
        events: int,
        size: int,
        deltas: bytes,
        batch_id: int,
        now: datetime,
    ) -> PendingBatch | None:
        """In one transaction: None when the key is finished with this checksum; the pending
        batch of the key when it is claimed already (by a crashed or a concurrent ingester),
        else a new claim holding ``deltas`` and ``batch_id``. Raises
        :class:`IdempotencyConflict` when the key is finished or claimed with another
        checksum."""
        ...

    def pending_batches(self, claimed_before: datetime) -> list[PendingBatch]:
        """Claims made at or before ``claimed_before`` (to the second), oldest first."""
        ...

    def finish_batch(self, key: str, now: datetime) -> bool:
        """Move a claim to the finished batches, in one transaction; True when this call did."""
        ...

    def video_sharers(self, post_ids: Iterable[int]) -> list[tuple[int, int]]:
        """``(post_id, sharer_id)`` for each given Post with a video and each Post (itself
        included) whose video is the same."""
        ...


class SessionStore(Protocol):
    """The dashboard's sessions and one-time sign-in links (kept by the digest of their secret
    only) and the secret that signs its cookies."""

    def session_secret(self, candidate: str) -> str:
        """The stored cookie-signing secret; ``candidate`` is stored and returned when there is
        none yet (atomically: every process gets the same one)."""
        ...

    def create_session(self, session_hash: str, session: DashboardSession) -> None:
        """Store a session (and forget sessions and links that expired before it began)."""
        ...

    def get_session(self, session_hash: str, now: datetime) -> DashboardSession | None:
        """The session, unless it is unknown, ended, expired at ``now``, or an operator's whose
        admin key was revoked."""
        ...

    def end_session(self, session_hash: str) -> bool: ...

    def create_link(
        self, token_hash: str, user_id: int, now: datetime, expires_at: datetime
    ) -> None: ...

    def spend_link(self, token_hash: str, now: datetime) -> int | None:
        """Mark the link used and return its user; None when it is unknown, used already or
        expired. Atomic: of two concurrent uses, one gets the user."""
        ...


class IngestLogStore(Protocol):
    """What the dashboard shows of the write road: the ledger's batches and the batches refused
    for bad lines."""

    def record_rejection(self, kind: str, lines: int, size: int, now: datetime) -> None: ...

    def recent_batches(self, limit: int) -> list[BatchRecord]:
        """The last ``limit`` batches applied, newest first."""
        ...

    def ingest_minutes(self, since: datetime, until: datetime) -> list[IngestMinute]:
        """Per minute with any activity in ``[since, until)``, ascending."""
        ...


class SchemaStore(Protocol):
    """The life of one database: its schema, whether it answers, closing it."""

    url: str
    #: Whether every call is local and short (an embedded file, never a network round trip nor
    #: a wait for a lock held longer than an upsert): the API then answers reads on its event
    #: loop instead of handing each to a worker thread (the hand-off costs more than the read).
    local: bool

    def migrate(self) -> list[int]:
        """Apply pending schema migrations; returns the versions applied."""
        ...

    def schema_version(self) -> int:
        """The newest migration applied (0 on an empty database)."""
        ...

    def check_schema(self) -> None:
        """Raise :class:`~engagement_api.store.errors.SchemaError` unless the schema is exactly
        current."""
        ...

    def ping(self) -> None:
        """Raise :class:`~engagement_api.store.errors.StoreUnavailable` when the database
        cannot be reached."""
        ...

    def close(self) -> None: ...


class Store(
    SchemaStore,
    CatalogStore,
    CounterStore,
    CredentialStore,
    MeteringStore,
    SessionStore,
    IngestLogStore,
    Protocol,
):
    """Everything one backend provides (the SQLite and PostgreSQL backends provide it all)."""


class CatalogBackend(Store, LedgerStore, Protocol):
    """A store that can also keep the ledger for counters elsewhere (SQLite, PostgreSQL)."""


@runtime_checkable
class OneDatabaseReads(Protocol):
    """A store whose Posts and counts are in one database reads a request's Posts together
    with their counts: one statement on PostgreSQL (one row of arrays), one check of the read
    cache on SQLite. The reader asks the counts of every requested Post before the policy decides
    which it may see (the rest are never rendered). The split store (counters in ClickHouse)
    has not got it: the reader calls ``post_facts``, then ``lifetime_columns`` or ``hourly``."""

    def facts_and_lifetime(
        self, post_ids: Sequence[int], metric_codes: Sequence[int]
    ) -> tuple[dict[int, PostFacts], Mapping[int, Sequence[int]]]:
        """``post_facts(post_ids)``, and each Post's lifetime row: at each code of
        ``metric_codes``, what ``lifetime`` counts (other places: 0 or their count; a Post
        may have no row when it has no count of them: read it as ``rows.ZERO_ROW``; rows of
        Posts not asked for may be there too)."""
        ...

    def facts_and_hourly(
        self, post_ids: Sequence[int], metric_codes: Sequence[int], start_hour: int, end_hour: int
    ) -> tuple[dict[int, PostFacts], list[tuple[int, int, int, int]]]:
        """``post_facts(post_ids)`` and ``hourly(post_ids, metric_codes, start_hour,
        end_hour)`` (its rows in any order)."""
        ...


@runtime_checkable
class PartedStore(Protocol):
    """A store whose parts fail apart, with batch claims a server sweeps: the catalog beside
    counters in ClickHouse (:mod:`engagement_api.store.split`). The API checks for it with
    ``isinstance`` without importing that module (and so the ClickHouse driver)."""

    def parts(self) -> dict[str, Literal["ok", "down"]]:
        """Each part (``catalog``, ``counters``, ``zookeeper``) and whether it answers."""
        ...

    def finish_stale(self, older_than: float = ...) -> int:
        """Write and finish the claims older than ``older_than`` seconds; how many."""
        ...

    def check_schema(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Admission:
    """What a read request asks of the store before it is answered: the app found by its
    bearer token's digest (``bearer_hash``) or already proven (``app``, OAuth 1.0a, with the
    access ``token`` of user context: then its ``nonce`` and ``timestamp`` are spent first,
    if the app and the token are still as given), and the request counted against the app's
    limit on ``endpoint`` in ``minute``: only when the app exists and is enabled, and the nonce
    (if any) was not used before."""

    endpoint: str
    minute: int
    now: datetime
    bearer_hash: str | None = None
    app: App | None = None
    nonce: str | None = None
    timestamp: int = 0
    token: AccessToken | None = None


class Wanted(NamedTuple):
    """The Posts and counts a read request wants: lifetime counts of ``metric_codes`` when
    ``hours`` is None, else the hourly counts in ``[start_hour, end_hour)``. (A named tuple:
    one per read request, made in C.)"""

    post_ids: Sequence[int]
    metric_codes: Sequence[int]
    hours: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class Admitted:
    """What :meth:`AdmittingStore.admit_and_read` found and did. ``count``: the request's
    count in its minute, itself included; 0 when it was not counted (no such app, not
    enabled, or its nonce used: ``fresh`` False). ``current`` False: the app or the token of
    an OAuth 1.0a admission is no longer as given (its secret, its limit, enabled, revoked):
    nothing was done, and the caller may look them up again and retry.
    ``facts`` and ``lifetime`` or ``hourly`` (as ``facts_and_lifetime`` and
    ``facts_and_hourly`` give them) were read only when the request was counted within the
    app's limit and something was wanted; else they are empty."""

    app: App | None
    fresh: bool
    count: int
    facts: dict[int, PostFacts] = field(default_factory=dict)
    lifetime: Mapping[int, Sequence[int]] = field(default_factory=dict)
    hourly: list[tuple[int, int, int, int]] = field(default_factory=list)
    current: bool = True


T = TypeVar("T")


class Runner(Protocol):
    """Runs a synchronous call that touches a store from async code."""

    async def run(self, fn: Callable[..., T], *args: Any) -> T: ...


@runtime_checkable
class AdmittingStore(Protocol):
    """A store that admits a read request and reads what it wants in one round trip (the
    PostgreSQL store: one statement): the bearer token's app, the nonce spent, the request
    counted, and the Posts with their counts. Stores without it are asked one thing at a time
    (``app_by_bearer``, ``use_nonce``, ``count_request``, then the reads).

    ``cooperative`` runs a request's calls of the store (``await cooperative.run(fn,
    *args)``) on the event loop, the store's waits on its server awaited there: no worker
    thread, whose hand-off and back costs more than a round trip."""

    cooperative: Runner

    def remembered_app_and_token(
        self, consumer_key: str, token: str | None
    ) -> tuple[App | None, AccessToken | None]:
        """``app_and_token``, from what this process found before when it can (only apps and
        unrevoked tokens found are remembered): for admissions, which check them again."""
        ...

    def admit_and_read(self, admission: Admission, wanted: Wanted | None) -> Admitted:
        """Admit the request (see :class:`Admission`) and, when it is counted within the
        app's limit, read ``wanted``. A nonce is spent as ``use_nonce`` does (one older than
        ``NONCE_RETENTION`` before ``now`` counts as not used)."""
        ...
