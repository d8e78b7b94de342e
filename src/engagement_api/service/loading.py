"""The write road: batch bytes -> ingest (decode, validate every line, fold into hourly deltas)
-> store (apply deltas and record the batch key in one transaction) -> acknowledgement.

Shared by ``POST /ingest/*`` and ``engagement-api load``, so both validate the same way and
both are exactly once per idempotency key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace

from engagement_api.clock import Clock
from engagement_api.contract.errors import BadRequest, Conflict
from engagement_api.domain import Post
from engagement_api.ingest import (
    Batch,
    BatchRejected,
    Format,
    Kind,
    LineError,
    referenced_author_ids,
    referenced_handles,
    referenced_ids,
    referenced_post_ids,
    validate_events,
    validate_posts,
    validate_users,
)
from engagement_api.ingest.limits import check_idempotency_key
from engagement_api.store.errors import IdempotencyConflict
from engagement_api.store.protocols import CatalogStore, CounterStore

#: Large NDJSON/CSV event files are validated in pieces of about this size (for progress);
#: they are still applied as one batch, in one transaction.
PIECE_BYTES = 8 * 1024 * 1024

Progress = Callable[[int], None]


#: One batch of :meth:`Loader.load_event_files`, read when its turn comes: bytes, format, key
#: (None: the content hash).
EventSource = Callable[[], tuple[bytes, Format, str | None]]


@dataclass(frozen=True, slots=True)
class PreparedEvents:
    """A batch validated and folded, not yet applied (``deltas`` None: already applied)."""

    key: str
    checksum: str
    size: int
    events: int
    deltas: Mapping[tuple[int, int, int], int] | None


@dataclass(frozen=True, slots=True)
class EventsResult:
    accepted: int
    duplicate: bool
    key: str


def checksum_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _pieces(data: bytes, fmt: Format) -> list[tuple[bytes, int, int]]:
    """Line-aligned pieces of ``data``: (piece, lines before it, bytes of ``data`` it covers).
    CSV pieces repeat the header, so their rows are numbered as in the whole file."""
    if fmt is Format.JSON or len(data) <= PIECE_BYTES or (fmt is Format.CSV and b'"' in data):
        # (quoted CSV cells may hold newlines: such files are validated in one piece)
        return [(data, 0, len(data))]
    header = b""
    body = data
    if fmt is Format.CSV:
        cut = data.find(b"\n") + 1
        if cut <= 0:
            return [(data, 0, len(data))]
        header, body = data[:cut], data[cut:]
    pieces: list[tuple[bytes, int, int]] = []
    start, lines_before = 0, 0
    while start < len(body):
        end = body.find(b"\n", start + PIECE_BYTES)
        end = len(body) if end < 0 else end + 1
        chunk = body[start:end]
        covered = len(chunk) + (len(header) if not pieces else 0)
        pieces.append((header + chunk, lines_before, covered))
        lines_before += chunk.count(b"\n")
        start = end
    return pieces


def _not_empty(data: bytes) -> None:
    if not data or data.isspace():  # (not data.strip(): that copies the whole batch)
        raise BadRequest("Request body is empty: send NDJSON, a JSON array or CSV")


class Loader:
    """Validates and applies users, Posts and event batches against one store."""

    def __init__(self, catalog: CatalogStore, counters: CounterStore, clock: Clock) -> None:
        self.catalog = catalog
        self.counters = counters
        self.clock = clock

    def load_users(self, data: bytes, fmt: Format) -> int:
        _not_empty(data)
        batch = Batch(data, fmt, Kind.USERS)
        existing = self.catalog.users_by_handle(referenced_handles(batch))
        users = validate_users(batch, existing)
        return self.catalog.upsert_users(users)

    def load_tweets(self, data: bytes, fmt: Format) -> int:
        _not_empty(data)
        batch = Batch(data, fmt, Kind.TWEETS)
        authors = set(self.catalog.get_users(referenced_author_ids(batch)))
        existing = self.catalog.get_posts(referenced_ids(batch, "id"))
        posts = validate_posts(batch, authors, existing)
        return self.catalog.upsert_posts(posts)

    def load_events(
        self,
        data: bytes,
        fmt: Format,
        key: str | None = None,
        progress: Progress | None = None,
    ) -> EventsResult:
        """Apply an event batch exactly once. ``key`` defaults to the content hash."""
        return self.apply_events(self.prepare_events(data, fmt, key, progress))

    def prepare_events(
        self,
        data: bytes,
        fmt: Format,
        key: str | None = None,
        progress: Progress | None = None,
    ) -> PreparedEvents:
        """Everything of :meth:`load_events` before the store's transaction: the key, the
        ledger look-up (a batch already applied is not validated again), validation and
        folding. Raises what ``load_events`` raises for a bad batch; applies nothing."""
        _not_empty(data)
        checksum = checksum_of(data)
        key = check_idempotency_key(key if key is not None else "sha256:" + checksum)
        previous = self.counters.get_batch(key)
        if previous is not None:
            self._check_same(previous.checksum, checksum, key)
            if progress:
                progress(len(data))
            return PreparedEvents(key, checksum, len(data), previous.events, None)
        events, deltas = self._validate(data, fmt, progress)
        return PreparedEvents(key, checksum, len(data), events, deltas)

    def apply_events(self, prepared: PreparedEvents) -> EventsResult:
        """The store's transaction for a prepared batch (a no-op for one already applied);
        the ledger decides again there, so a batch applied meanwhile is a duplicate."""
        if prepared.deltas is None:
            return EventsResult(prepared.events, True, prepared.key)
        try:
            applied = self.counters.apply_batch(
                prepared.key,
                prepared.checksum,
                prepared.events,
                prepared.size,
                prepared.deltas,
                self.clock.now(),
            )
        except IdempotencyConflict as exc:
            raise Conflict(str(exc)) from exc
        return EventsResult(prepared.events, not applied, prepared.key)

    def load_event_files(
        self, sources: Iterable[EventSource], progress: Progress | None = None
    ) -> Iterator[EventsResult]:
        """Apply several event batches in order, each exactly once under its own key, as
        :meth:`load_events` would one after the other; but the next batch is read, validated
        and folded (on a worker thread: parsing and folding release the GIL) while the store
        applies the current one. Results come in order; the first batch that fails stops the
        run with its error, after the results of the batches before it (which stay applied);
        no batch after it is applied."""

        def prepare(source: EventSource) -> PreparedEvents:
            data, fmt, key = source()
            return self.prepare_events(data, fmt, key, progress)

        with ThreadPoolExecutor(1, thread_name_prefix="prepare-events") as worker:
            pending: Future[PreparedEvents] | None = None
            try:
                for source in sources:
                    if pending is None:
                        pending = worker.submit(prepare, source)
                        continue
                    prepared = pending.result()  # (a bad batch stops the run here)
                    pending = worker.submit(prepare, source)
                    yield self.apply_events(prepared)
                if pending is not None:
                    yield self.apply_events(pending.result())
            finally:
                worker.shutdown(wait=True, cancel_futures=True)

    @staticmethod
    def _check_same(stored: str, checksum: str, key: str) -> None:
        if stored != checksum:
            raise Conflict(str(IdempotencyConflict(key)))

    def _validate(
        self, data: bytes, fmt: Format, progress: Progress | None
    ) -> tuple[int, Mapping[tuple[int, int, int], int]]:
        """Validate and fold the whole batch. With ``progress``, large files go in pieces (each
        reported when done); their deltas are summed, and every bad line of every piece is
        listed with its line number in the whole file."""
        now = self.clock.now()
        if progress is None:
            batch = Batch(data, fmt, Kind.EVENTS)
            folded = validate_events(batch, self.catalog.get_posts(referenced_post_ids(batch)), now)
            return folded.events, folded.deltas
        events = 0
        parts: list[Mapping[tuple[int, int, int], int]] = []
        errors: list[LineError] = []
        posts: dict[int, Post] = {}
        for piece, lines_before, covered in _pieces(data, fmt):
            batch = Batch(piece, fmt, Kind.EVENTS)
            wanted = referenced_post_ids(batch)
            posts.update(self.catalog.get_posts(wanted - posts.keys()))
            try:
                folded = validate_events(batch, posts, now)
            except BatchRejected as exc:
                errors.extend(
                    replace(e, line=e.line + lines_before) if e.line > 0 else e for e in exc.errors
                )
            else:
                events += folded.events
                parts.append(folded.deltas)
            progress(covered)
        if errors:
            raise BatchRejected(errors)
        from engagement_api.store.deltas import DeltaTable

        return events, DeltaTable.sum(parts)
