"""The counters on a sharded, replicated ClickHouse cluster (``--counters-url clickhouse://...``),
beside a catalog in SQLite or PostgreSQL (:mod:`engagement_api.store.split`). The driver,
``clickhouse-driver`` (native protocol), is imported only when this package is.
"""

from engagement_api.store.clickhouse.counters import ClickHouseCounters

__all__ = ["ClickHouseCounters"]
