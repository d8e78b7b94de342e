"""Metering (spec §8): rate limits per app, endpoint and minute, and usage per app and month.

Used by the HTTP routes; the rules are in :mod:`engagement_api.contract.ratelimit` and
:mod:`engagement_api.contract.usage`, the counts in the store (so every server process shares
them).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import datetime

from engagement_api.auth.identity import Identity
from engagement_api.contract.metrics import Endpoint
from engagement_api.contract.ratelimit import RateLimit, minute_of
from engagement_api.contract.usage import counts_for_usage, month_of
from engagement_api.domain import App, User
from engagement_api.store.errors import StoreError
from engagement_api.store.protocols import CatalogStore, MeteringStore

log = logging.getLogger("engagement_api.metering")

#: How many recorded (app, month, user) a process remembers before it starts over (a memo that
#: saves store round trips for users already counted, not a source of truth).
MEMO_SIZE = 100_000


class Meter:
    """Counts requests against an app's per-minute limit and records monthly usage."""

    def __init__(self, store: MeteringStore, catalog: CatalogStore) -> None:
        self._store = store
        self._catalog = catalog
        self._recorded: set[tuple[str, str, int]] = set()
        self._lock = threading.Lock()

    def count(self, app: App, endpoint: Endpoint, now: datetime) -> RateLimit:
        """Count one request of ``app`` on ``endpoint`` in the minute of ``now``."""
        minute = minute_of(now)
        count = self._store.count_request(app.consumer_key, endpoint.value, minute)
        return RateLimit(app.rate_limit, count, minute)

    def record_usage(self, identity: Identity, authors: Iterable[int], now: datetime) -> None:
        """After a 200: count the signing user for the app's month when they asked for a Post
        they own (``authors``: of the requested Posts). Never fails the request: a store error
        is logged and the request answered."""
        user_id = identity.user_id
        if user_id is None:
            return
        key = (identity.app.consumer_key, month_of(now), user_id)
        with self._lock:
            if key in self._recorded:
                return
        if not counts_for_usage(user_id, authors):
            return
        try:
            self._store.record_usage(*key)
        except StoreError as exc:
            log.warning("usage not recorded: %s", type(exc).__name__)
            return
        with self._lock:
            if len(self._recorded) >= MEMO_SIZE:
                self._recorded.clear()
            self._recorded.add(key)

    def counted(self, consumer_key: str, month: str) -> list[tuple[int, str | None]]:
        """The users ``usage`` counts, ``(ID, handle)`` by ID ascending: one read of the
        metering store (its length is the count), then the handles from ``catalog``.

        Two reads whatever the backend: the metering store may be another database than the
        catalog (SQLite keeps usage in its metering file). A user this server counted is in the
        catalog (usage needs a Post they own, and a Post needs its author loaded); one that is
        not (usage recorded by other means) is listed all the same, with the handle None."""
        ids = self._store.usage_users(consumer_key, month)
        users: dict[int, User] = self._catalog.get_users(ids) if ids else {}
        return [(i, users[i].handle if i in users else None) for i in ids]
