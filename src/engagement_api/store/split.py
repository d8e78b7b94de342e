"""Counters in a ClickHouse cluster, everything else in the catalog (SQLite or PostgreSQL):
``--database-url`` plus ``--counters-url clickhouse://...``.

The catalog's batch ledger and the counter tables cannot commit together, so a batch goes
through these steps (the protocol and its argument: docs/scaling.md, "Exactly once")::

    claimed      the catalog commits a claim holding the batch's folded deltas
                 (or finds the key finished: nothing to do; or claimed: use its deltas)
    hourly       the hourly rows are written, through the Distributed table, synchronously
    totals       the lifetime sums are written the same way, then every replica that
                 answers fetches them (so losing the replica that took them loses nothing)
    finished     the catalog moves the claim to the finished batches (one transaction)
                 -> then, and only then, the batch is acknowledged

A step that fails (a shard or ZooKeeper down: StoreUnavailable, answered 503) leaves the claim in
place. Whoever comes next with the same key, and every ingest after :data:`STALE_AFTER` seconds
(:meth:`SplitStore.finish_stale`, also run by the server every few seconds), writes the claim's
deltas again: the same rows make the same blocks, which each shard's replicated tables count
once. So a batch is counted once whether a write reached no shard, some, or all.

For the crash tests, :data:`CRASH_STEPS` names the points at which ``crash_at`` kills the
process (SIGKILL) right after the step, in the writing of the ingester's own batch (not of a
stale claim it finishes first, which a slow machine may have: the kill would then come before
its own claim, and the crash test would not know which step it saw).
"""

from __future__ import annotations

import io
import os
import secrets
import signal
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Literal

from engagement_api.contract.metrics import VIDEO_VIEWS
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
from engagement_api.store.clickhouse import ClickHouseCounters
from engagement_api.store.deltas import DeltaTable
from engagement_api.store.errors import StoreError, StoreUnavailable
from engagement_api.store.protocols import CatalogBackend
from engagement_api.store.rows import columns_of

#: Where ``crash_at`` may kill an ingester: right after the claim commits, after the hourly
#: rows, after the totals (every write done, the ledger not), after the ledger commit (before the
#: answer).
CRASH_STEPS = ("claimed", "hourly", "totals", "finished")
#: A claim this old (seconds, wall clock) is finished by the next ingester or the server's sweep.
STALE_AFTER = 10.0

_VIDEO = VIDEO_VIEWS.code


def new_batch_id() -> int:
    """A claim's batch ID: random (63 bits, so that every catalog stores it as is), so two
    batches never write the same blocks, and a resend of one claim always does."""
    return secrets.randbits(63) | 1  # never 0


def encode_deltas(table: DeltaTable) -> bytes:
    out = io.BytesIO()
    table.frame.write_ipc(out, compression="lz4")
    return out.getvalue()


def decode_deltas(data: bytes) -> DeltaTable:
    import polars as pl

    return DeltaTable(pl.read_ipc(io.BytesIO(data)))


class SplitStore:
    """A catalog store (its ledger too) and the ClickHouse counters, as one :class:`Store`."""

    local = False

    def __init__(
        self, catalog: CatalogBackend, counters: ClickHouseCounters, crash_at: str | None = None
    ) -> None:
        if crash_at is not None and crash_at not in CRASH_STEPS:
            raise StoreError(f"crash_at must be one of {', '.join(CRASH_STEPS)}")
        self.catalog = catalog
        self.counters = counters
        self.url = catalog.url
        self.counters_url = counters.url
        self.backend = f"{getattr(catalog, 'backend', 'catalog')}+clickhouse"
        self._crash_at = crash_at

    def _step(self, name: str) -> None:
        if self._crash_at == name:
            os.kill(os.getpid(), signal.SIGKILL)

    # -- the life of the two databases ---------------------------------------------------------

    def migrate(self) -> list[int]:
        """The catalog's migrations, then the cluster's (``ON CLUSTER``); the catalog's versions
        are returned (the cluster keeps its own: :meth:`ClickHouseCounters.schema_version`)."""
        applied = self.catalog.migrate()
        self.counters.migrate()
        return applied

    def schema_version(self) -> int:
        return self.catalog.schema_version()

    def check_schema(self) -> None:
        self.catalog.check_schema()
        self.counters.check_schema()

    def ping(self) -> None:
        self.catalog.ping()
        self.counters.ping()

    def parts(self) -> dict[str, Literal["ok", "down"]]:
        """Each part and whether it answers (``ok`` or ``down``): the catalog, the counters
        (every shard), ZooKeeper (which ingest needs, and reads do not)."""
        found: dict[str, Literal["ok", "down"]] = {}
        for name, check in (
            ("catalog", self.catalog.ping),
            ("counters", self.counters.ping),
            ("zookeeper", self.counters.ping_zookeeper),
        ):
            try:
                check()
            except StoreError:
                found[name] = "down"
            else:
                found[name] = "ok"
        return found

    def close(self) -> None:
        try:
            self.counters.close()
        finally:
            self.catalog.close()

    # -- batches: the exactly-once protocol ----------------------------------------------------

    def get_batch(self, key: str) -> BatchRecord | None:
        return self.catalog.get_batch(key)

    def apply_batch(
        self, key: str, checksum: str, events: int, size: int, deltas: Deltas, now: datetime
    ) -> bool:
        table = DeltaTable.from_mapping(deltas)
        self.finish_stale()
        claim = self.catalog.claim_batch(
            key, checksum, events, size, encode_deltas(table), new_batch_id(), _wall_clock()
        )
        if claim is None:
            return False  # finished before, with this checksum
        self._step("claimed")
        self._write(claim, own=True)
        finished = self.catalog.finish_batch(key, now)
        self._step("finished")
        return finished

    def _write(self, claim: PendingBatch, own: bool = False) -> None:
        table = decode_deltas(claim.deltas)  # the claim's rows, whoever claimed it
        self.counters.insert_hourly(claim.batch_id, table)
        if own:
            self._step("hourly")
        self.counters.insert_totals(claim.batch_id, table)
        if own:
            self._step("totals")
        self.counters.sync_replicas()

    def finish_stale(self, older_than: float = STALE_AFTER) -> int:
        """Write and finish every claim older than ``older_than`` seconds (of a crashed
        ingester, or one whose writes failed); how many. Raises StoreUnavailable when a part of
        the cluster needed for that is down (the claims stay)."""
        cutoff = datetime.fromtimestamp(time.time() - older_than, UTC)
        done = 0
        for claim in self.catalog.pending_batches(cutoff):
            self._write(claim)
            if self.catalog.finish_batch(claim.key, _wall_clock()):
                done += 1
        return done

    def pending(self) -> list[PendingBatch]:
        """Every claim not finished yet."""
        return self.catalog.pending_batches(datetime.fromtimestamp(time.time() + 1, UTC))

    # -- counts --------------------------------------------------------------------------------

    def hourly(
        self, post_ids: Sequence[int], metric_codes: Sequence[int], start_hour: int, end_hour: int
    ) -> list[tuple[int, int, int, int]]:
        return self.counters.hourly(post_ids, metric_codes, start_hour, end_hour)

    def totals(
        self, post_ids: Sequence[int], metric_codes: Sequence[int]
    ) -> dict[tuple[int, int], int]:
        return self.counters.totals(post_ids, metric_codes)

    def video_totals(self, post_ids: Sequence[int]) -> dict[int, int]:
        """The catalog says which Posts share each one's video (as it is now); the counters
        sum those Posts' lifetime views."""
        if not post_ids:
            return {}
        sharers = self.catalog.video_sharers(post_ids)
        if not sharers:
            return {}
        views = self.counters.totals(sorted({q for _, q in sharers}), [_VIDEO])
        out: dict[int, int] = {}
        for post, sharer in sharers:  # every Post with a video has a total, 0 included
            out[post] = out.get(post, 0) + views.get((sharer, _VIDEO), 0)
        return out

    def lifetime(
        self, post_ids: Sequence[int], metric_codes: Sequence[int]
    ) -> dict[tuple[int, int], int]:
        codes = set(metric_codes)
        others = sorted(codes - {_VIDEO})
        out = self.counters.totals(post_ids, others) if others else {}
        if _VIDEO in codes:
            out.update(
                ((post, _VIDEO), views) for post, views in self.video_totals(post_ids).items()
            )
        return out

    def lifetime_columns(
        self, post_ids: Sequence[int], metric_codes: Sequence[int]
    ) -> list[list[int]]:
        return columns_of(self.lifetime(post_ids, metric_codes), post_ids, metric_codes)

    def prune_hourly(self, before_hour: int) -> int:
        return self.counters.prune_hourly(before_hour)

    # -- the catalog, as it is -----------------------------------------------------------------

    def upsert_users(self, users: Sequence[User]) -> int:
        return self.catalog.upsert_users(users)

    def get_users(self, ids: Iterable[int]) -> dict[int, User]:
        return self.catalog.get_users(ids)

    def users_by_handle(self, handles: Iterable[str]) -> dict[str, User]:
        return self.catalog.users_by_handle(handles)

    def upsert_posts(self, posts: Sequence[PostRecord]) -> int:
        return self.catalog.upsert_posts(posts)

    def get_posts(self, ids: Iterable[int]) -> dict[int, Post]:
        return self.catalog.get_posts(ids)

    def post_facts(self, ids: Iterable[int]) -> dict[int, PostFacts]:
        return self.catalog.post_facts(ids)

    def posts_by_author(self, author_id: int) -> list[int]:
        return self.catalog.posts_by_author(author_id)

    def create_app(
        self,
        consumer_key: str,
        name: str,
        consumer_secret: str,
        bearer_hash: str,
        rate_limit: int,
        now: datetime,
    ) -> App:
        return self.catalog.create_app(
            consumer_key, name, consumer_secret, bearer_hash, rate_limit, now
        )

    def get_app(self, consumer_key: str) -> App | None:
        return self.catalog.get_app(consumer_key)

    def app_by_bearer(self, bearer_hash: str) -> App | None:
        return self.catalog.app_by_bearer(bearer_hash)

    def list_apps(self) -> list[App]:
        return self.catalog.list_apps()

    def set_app_enabled(self, consumer_key: str, enabled: bool) -> bool:
        return self.catalog.set_app_enabled(consumer_key, enabled)

    def set_rate_limit(self, consumer_key: str, rate_limit: int) -> bool:
        return self.catalog.set_rate_limit(consumer_key, rate_limit)

    def create_token(
        self, token: str, secret: str, consumer_key: str, user_id: int, now: datetime
    ) -> AccessToken:
        return self.catalog.create_token(token, secret, consumer_key, user_id, now)

    def get_token(self, token: str) -> AccessToken | None:
        return self.catalog.get_token(token)

    def app_and_token(
        self, consumer_key: str, token: str | None
    ) -> tuple[App | None, AccessToken | None]:
        return self.catalog.app_and_token(consumer_key, token)

    def revoke_token(self, token: str) -> bool:
        return self.catalog.revoke_token(token)

    def create_ingest_key(self, key_hash: str, now: datetime) -> None:
        self.catalog.create_ingest_key(key_hash, now)

    def has_ingest_key(self, key_hash: str) -> bool:
        return self.catalog.has_ingest_key(key_hash)

    def use_nonce(self, consumer_key: str, nonce: str, timestamp: int, now: datetime) -> bool:
        return self.catalog.use_nonce(consumer_key, nonce, timestamp, now)

    def count_request(self, consumer_key: str, endpoint: str, minute: int) -> int:
        return self.catalog.count_request(consumer_key, endpoint, minute)

    def record_usage(self, consumer_key: str, month: str, user_id: int) -> bool:
        return self.catalog.record_usage(consumer_key, month, user_id)

    def usage(self, consumer_key: str, month: str) -> int:
        return self.catalog.usage(consumer_key, month)

    def usage_users(self, consumer_key: str, month: str) -> list[int]:
        return self.catalog.usage_users(consumer_key, month)

    def list_users(self, after: str, limit: int) -> list[User]:
        return self.catalog.list_users(after, limit)

    def create_admin_key(self, key_hash: str, now: datetime) -> None:
        self.catalog.create_admin_key(key_hash, now)

    def has_admin_key(self, key_hash: str) -> bool:
        return self.catalog.has_admin_key(key_hash)

    def revoke_admin_key(self, key_hash: str) -> bool:
        return self.catalog.revoke_admin_key(key_hash)

    def session_secret(self, candidate: str) -> str:
        return self.catalog.session_secret(candidate)

    def create_session(self, session_hash: str, session: DashboardSession) -> None:
        self.catalog.create_session(session_hash, session)

    def get_session(self, session_hash: str, now: datetime) -> DashboardSession | None:
        return self.catalog.get_session(session_hash, now)

    def end_session(self, session_hash: str) -> bool:
        return self.catalog.end_session(session_hash)

    def create_link(
        self, token_hash: str, user_id: int, now: datetime, expires_at: datetime
    ) -> None:
        self.catalog.create_link(token_hash, user_id, now, expires_at)

    def spend_link(self, token_hash: str, now: datetime) -> int | None:
        return self.catalog.spend_link(token_hash, now)

    def record_rejection(self, kind: str, lines: int, size: int, now: datetime) -> None:
        self.catalog.record_rejection(kind, lines, size, now)

    def recent_batches(self, limit: int) -> list[BatchRecord]:
        return self.catalog.recent_batches(limit)

    def ingest_minutes(self, since: datetime, until: datetime) -> list[IngestMinute]:
        return self.catalog.ingest_minutes(since, until)


def _wall_clock() -> datetime:
    return datetime.now(UTC)


__all__ = ["CRASH_STEPS", "STALE_AFTER", "SplitStore", "StoreUnavailable"]
