"""The SQLite backend: the embedded default (``sqlite:///PATH``)."""

from engagement_api.store.sqlite.connection import MIN_SQLITE_VERSION, sqlite_path
from engagement_api.store.sqlite.store import SqliteStore

__all__ = ["MIN_SQLITE_VERSION", "SqliteStore", "sqlite_path"]
