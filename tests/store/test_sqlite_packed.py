"""SQLite's packed hourly key (migration 0003): data carried over, edges of the key."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from engagement_api.contract.metrics import METRICS
from engagement_api.domain import PostRecord, User
from engagement_api.store import open_store
from engagement_api.store.errors import StoreError
from engagement_api.store.migrations import migrations_for
from engagement_api.store.sqlite import SqliteStore
from tests.support import NOW

FAV = METRICS["favorites"].code
IMP = METRICS["impressions"].code
U64_MAX = 2**64 - 1


def _migrate_to(path: Path, version: int) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT, applied_at INT)"
    )
    for migration in migrations_for("engagement_api.store.sqlite"):
        if migration.version <= version:
            conn.executescript(migration.sql)
            conn.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, 0)",
                (migration.version, migration.name),
            )
    return conn


def test_migration_0003_keeps_every_hourly_count(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = _migrate_to(path, 2)
    conn.execute("INSERT INTO users VALUES (1, 'a', 'a')")
    rows = [(10, FAV, 490_000, 3), (10, IMP, 490_000, 5), (-1, FAV, 490_001, 7), (11, FAV, 0, 2)]
    for pid in (10, 11, -1):
        conn.execute("INSERT INTO posts (id, author_id, created_at) VALUES (?, 1, 0)", (pid,))
    conn.executemany("INSERT INTO counts_hourly VALUES (?, ?, ?, ?)", rows)
    conn.close()

    store = open_store(f"sqlite:///{path}")
    assert store.migrate() == [
        v.version for v in migrations_for("engagement_api.store.sqlite") if v.version > 2
    ]
    got = store.hourly([10, 11, U64_MAX], [FAV, IMP], 0, 500_000)
    assert sorted(got) == sorted(
        [(10, FAV, 490_000, 3), (10, IMP, 490_000, 5), (U64_MAX, FAV, 490_001, 7), (11, FAV, 0, 2)]
    )
    assert store.hourly([10], [FAV], 490_001, 500_000) == []
    # Posts loaded after the migration are numbered after the carried-over ones
    store.upsert_users([User(1, "a")])
    store.upsert_posts([PostRecord(12, 1, NOW, ())])
    store.apply_batch("k", "c", 1, 1, {(12, FAV, 490_002): 4}, NOW)
    assert store.hourly([12, 10], [FAV], 490_000, 490_003) == [
        (10, FAV, 490_000, 3),
        (12, FAV, 490_002, 4),
    ]
    store.close()


def test_hours_at_the_edges_of_the_key(tmp_path: Path) -> None:
    store = SqliteStore(f"sqlite:///{tmp_path / 'edges.db'}")
    store.migrate()
    low, high = -(2**25), 2**25 - 1
    store.apply_batch("a", "c", 2, 1, {(5, FAV, low): 1, (5, FAV, high): 2, (5, IMP, 0): 3}, NOW)
    assert sorted(store.hourly([5], [FAV, IMP], low, high + 1)) == sorted(
        [(5, FAV, low, 1), (5, FAV, high, 2), (5, IMP, 0, 3)]
    )
    assert store.hourly([5], [FAV], low + 1, high) == []
    with pytest.raises(StoreError, match="1970"):
        store.apply_batch("b", "c", 1, 1, {(5, FAV, high + 1): 1}, NOW)
    assert store.get_batch("b") is None
    assert store.prune_hourly(1) == 2
    assert store.hourly([5], [FAV, IMP], low, high + 1) == [(5, FAV, high, 2)]
    store.close()
