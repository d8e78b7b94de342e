"""SQLite's metering file (store/sqlite/metering.py): rate counts, nonces and usage beside the
store, under a write lock of their own; migration 0004 carries usage over exactly once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from engagement_api.domain import PostRecord, User
from engagement_api.store import open_store
from engagement_api.store.migrations import migrations_for
from engagement_api.store.sqlite import SqliteStore
from engagement_api.store.sqlite.metering import metering_path
from tests.support import NOW

PACKAGE = "engagement_api.store.sqlite"


def _migrate_to(path: Path, version: int) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT, applied_at INT)"
    )
    for migration in migrations_for(PACKAGE):
        if migration.version <= version:
            conn.executescript(migration.sql)
            conn.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, 0)",
                (migration.version, migration.name),
            )
    return conn


def _tables(path: Path | str) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE type='table'")}


def test_the_metering_file_sits_beside_the_store(tmp_path: Path) -> None:
    assert metering_path(str(tmp_path / "engagement.db")) == str(
        tmp_path / "engagement-metering.db"
    )
    assert metering_path(str(tmp_path / "data")) == str(tmp_path / "data-metering")
    assert metering_path(":memory:") == ":memory:"
    store = open_store(f"sqlite:///{tmp_path / 'engagement.db'}")
    store.migrate()
    store.close()
    assert {"rate_counts", "oauth_nonces", "usage_users"} <= _tables(
        tmp_path / "engagement-metering.db"
    )
    assert not {"rate_counts", "oauth_nonces", "usage_users"} & _tables(tmp_path / "engagement.db")


def test_migration_0004_carries_usage_over_once(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = _migrate_to(path, 3)
    conn.executemany(
        "INSERT INTO usage_users VALUES (?, ?, ?)",
        [("app1", "2026-11", 1), ("app1", "2026-11", -5), ("app2", "2026-10", 1)],
    )
    conn.execute("INSERT INTO rate_counts VALUES ('app1', 'totals', 100, 7)")
    conn.close()

    store = SqliteStore(f"sqlite:///{path}")
    # a crash after the copy but before the store's commit repeats the copy: do it twice
    with store._db.writer() as writer:
        store._carry_usage_over(writer)
    later = [m.version for m in migrations_for("engagement_api.store.sqlite") if m.version >= 4]
    assert store.migrate() == later  # 0004 and whatever came after it
    assert (store.usage("app1", "2026-11"), store.usage("app2", "2026-10")) == (2, 1)
    assert store.record_usage("app1", "2026-11", 2**64 - 5) is False  # -5, as stored
    assert store.record_usage("app1", "2026-11", 3) is True
    assert store.usage("app1", "2026-11") == 3
    assert store.count_request("app1", "totals", 100) == 1  # counts start afresh
    assert store.migrate() == []
    store.close()
    assert "usage_users" not in _tables(path)


def test_the_read_road_never_waits_for_the_store_write_lock(tmp_path: Path) -> None:
    """While another process holds the store's write lock (a batch being applied), every write
    of the read road goes to the metering file and every read proceeds (WAL): nothing here
    waits for the lock (it would raise "database is locked" after the 30 s busy timeout)."""
    path = tmp_path / "engagement.db"
    store = open_store(f"sqlite:///{path}")
    store.migrate()
    store.upsert_users([User(1, "a")])
    store.upsert_posts([PostRecord(10, 1, NOW, ())])
    store.create_app("key", "app", "secret", "hash", 100, NOW)
    ingester = sqlite3.connect(path, isolation_level=None)
    ingester.execute("BEGIN IMMEDIATE")  # holds the store's write lock
    ingester.execute("INSERT INTO users (id, handle, handle_lc) VALUES (2, 'b', 'b')")
    try:
        assert store.app_by_bearer("hash") is not None
        assert store.count_request("key", "totals", 5) == 1
        assert store.count_request("key", "totals", 5) == 2
        assert store.use_nonce("key", "n1", int(NOW.timestamp()), NOW) is True
        assert store.use_nonce("key", "n1", int(NOW.timestamp()), NOW) is False
        assert store.record_usage("key", "2026-11", 1) is True
        assert list(store.post_facts([10])) == [10]
        assert store.hourly([10], [3], 0, 10) == []
        assert store.lifetime([10], [3]) == {}
    finally:
        ingester.execute("ROLLBACK")
        ingester.close()
        store.close()


def test_two_stores_on_one_file_share_the_counts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'engagement.db'}"
    first, second = open_store(url), open_store(url)
    first.migrate()
    try:
        counts = [first.count_request("k", "totals", 9), second.count_request("k", "totals", 9)]
        assert counts == [1, 2]
        stamp = int(NOW.timestamp())
        assert second.use_nonce("k", "n", stamp, NOW) is True
        assert first.use_nonce("k", "n", stamp, NOW) is False
        assert first.record_usage("k", "2026-11", 1) is True
        assert second.usage("k", "2026-11") == 1
    finally:
        first.close()
        second.close()
