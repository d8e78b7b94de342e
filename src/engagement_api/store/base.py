"""Choosing a backend from a database URL, as encode/databases does: the scheme picks the
module, and a driver is imported only when its scheme is used."""

from __future__ import annotations

from engagement_api.store.protocols import Store, StoreError

DEFAULT_URL = "sqlite:///engagement.db"


def open_store(url: str) -> Store:
    """Open (but do not migrate) the store behind ``url``.

    ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` or ``sqlite:///:memory:``;
    ``postgresql://user@host:port/db`` (or ``postgres://``) with psycopg 3 installed.
    """
    scheme, sep, _rest = url.partition("://")
    if not sep:
        raise StoreError(f"database URL {url!r} has no scheme (expected sqlite:///PATH)")
    if scheme == "sqlite":
        from engagement_api.store.sqlite import SqliteStore

        return SqliteStore(url)
    if scheme in ("postgresql", "postgres"):
        try:
            from engagement_api.store.postgres import PostgresStore
        except ImportError as exc:  # pragma: no cover - psycopg is an optional dependency
            raise StoreError(
                "PostgreSQL needs psycopg: pip install 'engagement-api[postgres]'"
            ) from exc
        return PostgresStore(url)
    raise StoreError(
        f"database URL scheme {scheme!r} is not supported (expected sqlite or postgresql)"
    )
