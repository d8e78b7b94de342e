"""Choosing a backend from a database URL, as encode/databases does: a table of URL schemes,
each naming the class that serves it; the class's module (and so its driver) is imported only
when its scheme is used. A new backend is one new package and one row here.
"""

from __future__ import annotations

from importlib import import_module

from engagement_api.store.errors import StoreError
from engagement_api.store.protocols import Store

DEFAULT_URL = "sqlite:///engagement.db"

#: URL scheme -> (``module:Class`` of the store, the pip extra that brings its driver or None).
SUPPORTED_BACKENDS: dict[str, tuple[str, str | None]] = {
    "sqlite": ("engagement_api.store.sqlite:SqliteStore", None),
    "postgresql": ("engagement_api.store.postgres:PostgresStore", "postgres"),
    "postgres": ("engagement_api.store.postgres:PostgresStore", "postgres"),
}


def open_store(url: str) -> Store:
    """Open (but do not migrate) the store behind ``url``.

    ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` or ``sqlite:///:memory:``;
    ``postgresql://user@host:port/db`` (or ``postgres://``) with psycopg 3 installed.
    """
    scheme, sep, _rest = url.partition("://")
    if not sep:
        raise StoreError(f"database URL {url!r} has no scheme (expected sqlite:///PATH)")
    if scheme not in SUPPORTED_BACKENDS:
        first: dict[str, str] = {}  # each backend by its first scheme
        for name, (target, _) in SUPPORTED_BACKENDS.items():
            first.setdefault(target, name)
        known = " or ".join(first.values())
        raise StoreError(f"database URL scheme {scheme!r} is not supported (expected {known})")
    target, extra = SUPPORTED_BACKENDS[scheme]
    module_name, _, class_name = target.partition(":")
    try:
        module = import_module(module_name)
    except ImportError as exc:  # pragma: no cover - drivers are optional dependencies
        if extra is None:
            raise
        raise StoreError(
            f"{scheme} URLs need a driver: pip install 'engagement-api[{extra}]' ({exc})"
        ) from exc
    store: Store = getattr(module, class_name)(url)
    return store
