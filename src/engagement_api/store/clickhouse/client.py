"""Connections to the cluster (``clickhouse-driver``, native protocol) and the one place its
errors become the store's (:mod:`engagement_api.store.errors`).

A :class:`ClickHousePool` keeps up to ``pool_max`` clients (a driver client is one connection,
not safe to share between threads); each tries the URL's hosts in turn. Every query carries the
settings of :data:`QUERY_SETTINGS`.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator
from typing import Any

from clickhouse_driver import Client
from clickhouse_driver import errors as driver_errors

from engagement_api.store.clickhouse.url import ClickHouseSettings
from engagement_api.store.errors import SchemaError, StoreError, StoreUnavailable

#: Server error codes meaning "a part of the cluster cannot be reached or cannot take writes
#: now" (answered 503; the operation may be retried): timeouts, network, all replicas of a shard
#: down, table read-only or ZooKeeper lost (replicated inserts need it), too many parts, ...
UNAVAILABLE_CODES = frozenset(
    {3, 32, 159, 164, 202, 209, 210, 225, 236, 242, 252, 279, 286, 319, 394, 999, 1000, 1002}
)
#: Server error codes meaning "the schema is not there": unknown database, table or column.
SCHEMA_CODES = frozenset({16, 47, 60, 81})

#: Settings of every query. Reads: the first live replica of each shard (the one inserts go to,
#: so a reader sees an acknowledged batch at once while it is up), a replica lagging more than 5
#: seconds only when no other is there, and never a silently partial answer. Inserts: through the
#: Distributed tables, synchronously (the insert returns once every shard has its rows).
QUERY_SETTINGS: dict[str, Any] = {
    "load_balancing": "in_order",
    "max_replica_delay_for_distributed_queries": 5,
    "skip_unavailable_shards": 0,
    "insert_distributed_sync": 1,
    "insert_deduplicate": 1,
}


def map_error(exc: BaseException, what: str) -> StoreError:
    """The store's error for a driver (or socket) error raised while doing ``what``."""
    if isinstance(exc, driver_errors.ServerException):
        code = exc.code
        first = str(exc.message).split("\n", 1)[0][:300]
        if code in UNAVAILABLE_CODES:
            return StoreUnavailable(f"ClickHouse cannot {what} (code {code}): {first}")
        if code in SCHEMA_CODES:
            return SchemaError(
                f"ClickHouse counters schema is missing (code {code}); run `engagement-api migrate`"
            )
        return StoreError(f"ClickHouse refused to {what} (code {code}): {first}")
    if isinstance(
        exc,
        driver_errors.NetworkError
        | driver_errors.SocketTimeoutError
        | driver_errors.UnexpectedPacketFromServerError
        | OSError
        | EOFError,
    ):
        return StoreUnavailable(f"ClickHouse cannot {what}: {type(exc).__name__}")
    if isinstance(exc, driver_errors.Error):
        return StoreError(f"ClickHouse client error while trying to {what}: {exc}")
    raise exc


class ClickHousePool:
    """Clients for one counters URL."""

    def __init__(self, settings: ClickHouseSettings) -> None:
        self.settings = settings
        self._idle: queue.LifoQueue[Client] = queue.LifoQueue()
        self._lock = threading.Lock()
        self._made = 0
        self._closed = False

    def _new_client(self, receive_timeout: float | None = None) -> Client:
        s = self.settings
        wait = s.receive_timeout if receive_timeout is None else receive_timeout
        (host, port), *others = s.hosts
        return Client(
            host,
            port=port,
            database="default",  # every statement names its database (which migrate creates)
            user=s.user,
            password=s.password,
            alt_hosts=",".join(f"{h}:{p}" for h, p in others) or None,
            connect_timeout=s.connect_timeout,
            send_receive_timeout=wait,
            sync_request_timeout=s.receive_timeout,
            settings=dict(QUERY_SETTINGS),
            client_name="engagement-api",
        )

    @contextlib.contextmanager
    def client(self, what: str, wait: float | None = None) -> Iterator[Client]:
        """A client for this thread's use; driver errors come out as the store's. With
        ``wait``: a client of its own (not pooled) whose socket waits up to ``wait`` seconds
        for the answer (an ``ON CLUSTER`` statement answers only once every node has run it,
        up to ``distributed_ddl_task_timeout``: on a busy cluster longer than a query's
        receive timeout)."""
        if self._closed:
            raise StoreUnavailable("the ClickHouse counters store is closed")
        pooled = wait is None
        if not pooled:
            client = self._new_client(receive_timeout=wait)
        else:
            try:
                client = self._idle.get_nowait()
            except queue.Empty:
                client = self._new_client()
                with self._lock:
                    self._made += 1
        healthy = True
        try:
            yield client
        except StoreError:
            raise
        except Exception as exc:
            healthy = False
            raise map_error(exc, what) from exc
        finally:
            if not healthy:
                client.disconnect()  # a connection in an unknown state is not reused
            if not pooled or self._closed or self._idle.qsize() >= self.settings.pool_max:
                client.disconnect()
            else:
                self._idle.put(client)

    def execute(
        self, what: str, query: str, params: Any = None, *, wait: float | None = None, **kwargs: Any
    ) -> Any:
        """``query`` on a pooled client (with ``wait``: on one of its own, see :meth:`client`)."""
        with self.client(what, wait) as client:
            return client.execute(query, params, **kwargs)

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                self._idle.get_nowait().disconnect()
            except queue.Empty:
                return
