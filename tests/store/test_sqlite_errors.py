"""SQLite's driver errors are mapped in one place (store/sqlite/connection.py): what means "the
database cannot serve us" is StoreUnavailable, our own mistakes are not; readers are
query-only; an SQLite library older than the store needs is refused when a store opens."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from engagement_api.domain import User
from engagement_api.store import SchemaError, StoreError, StoreUnavailable, open_store
from engagement_api.store.sqlite import MIN_SQLITE_VERSION, SqliteStore
from engagement_api.store.sqlite.connection import check_library, map_sqlite_errors


def test_every_call_on_a_closed_store_is_store_unavailable(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    store.migrate()
    store.close()
    calls = [
        lambda: store.get_users([1]),
        lambda: store.upsert_users([User(1, "a")]),
        lambda: store.get_app("key"),
        lambda: store.count_request("key", "totals", 1),
        lambda: store.hourly([1], [1], 0, 10),
        lambda: store.schema_version(),
        store.ping,
    ]
    for call in calls:
        with pytest.raises(StoreUnavailable, match="closed"):
            call()


def test_a_store_closed_from_another_thread_is_unavailable_in_this_one(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    store.migrate()
    store.get_users([1])  # this thread's reader is open
    closer = threading.Thread(target=store.close)
    closer.start()
    closer.join()
    with pytest.raises(StoreUnavailable):
        store.get_users([1])


def test_a_file_that_is_not_a_database_is_store_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "garbage.db"
    path.write_bytes(b"this is not an SQLite database, not at all" * 100)
    with pytest.raises(StoreUnavailable, match="SQLite"):
        store = open_store(f"sqlite:///{path}")
        store.ping()


def test_a_missing_directory_is_store_unavailable(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match="does not exist"):
        open_store(f"sqlite:///{tmp_path / 'nowhere' / 'store.db'}")


def test_a_database_locked_by_another_writer_is_store_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    store = open_store(f"sqlite:///{path}")
    store.migrate()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # holds the write lock
    try:
        conn = sqlite3.connect(path, timeout=0, isolation_level=None)
        with pytest.raises(StoreUnavailable, match="locked"), map_sqlite_errors():
            conn.execute("BEGIN IMMEDIATE")
        conn.close()
    finally:
        other.execute("ROLLBACK")
        other.close()
        store.close()


def test_our_own_mistakes_are_not_store_unavailable(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "plain.db")
    with pytest.raises(sqlite3.OperationalError, match="syntax"), map_sqlite_errors():
        conn.execute("SELEKT 1")
    conn.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
    conn.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(sqlite3.IntegrityError), map_sqlite_errors():
        conn.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(sqlite3.ProgrammingError, match="bindings"), map_sqlite_errors():
        conn.execute("SELECT ?", (1, 2))
    conn.close()


def test_readers_are_query_only(tmp_path: Path) -> None:
    store = SqliteStore(f"sqlite:///{tmp_path / 'store.db'}")
    store.migrate()
    try:
        database = store._db  # the backend's connection handling
        with database.read() as conn:
            assert conn.execute("PRAGMA query_only").fetchone() == (1,)
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                conn.execute("INSERT INTO users (id, handle, handle_lc) VALUES (1, 'a', 'a')")
        with database.writer() as conn:
            assert conn.execute("PRAGMA query_only").fetchone() == (0,)
        assert store.get_users([1]) == {}  # nothing was written through the reader
    finally:
        store.close()


def test_an_old_sqlite_library_is_refused_with_the_versions_named() -> None:
    check_library(MIN_SQLITE_VERSION)  # exactly the minimum is enough
    check_library(sqlite3.sqlite_version_info)  # this machine's library passes
    with pytest.raises(StoreError, match=r"needs SQLite 3\.35\.0 or newer; .* SQLite 3\.34\.1"):
        check_library((3, 34, 1))


def test_the_minimum_version_is_the_one_the_docs_declare() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
    assert f"SQLite {'.'.join(map(str, MIN_SQLITE_VERSION))} or newer" in docs


def test_a_schema_error_is_not_store_unavailable(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(SchemaError):
            store.check_schema()
    finally:
        store.close()
