"""Choosing a backend from a database URL, as encode/databases does: a table of URL schemes,
each naming the class that serves it; the class's module (and so its driver) is imported only
when its scheme is used. A new backend is one new package and one row here.
"""

from __future__ import annotations

from importlib import import_module

from engagement_api.store.errors import StoreError
from engagement_api.store.protocols import CatalogBackend, Store

DEFAULT_URL = "sqlite:///engagement.db"

#: URL scheme -> (``module:Class`` of the store, the pip extra that brings its driver or None).
SUPPORTED_BACKENDS: dict[str, tuple[str, str | None]] = {
    "sqlite": ("engagement_api.store.sqlite:SqliteStore", None),
    "postgresql": ("engagement_api.store.postgres:PostgresStore", "postgres"),
    "postgres": ("engagement_api.store.postgres:PostgresStore", "postgres"),
}


#: Counters URL scheme -> (``module:Class`` of the counters, the pip extra of its driver).
COUNTER_BACKENDS: dict[str, tuple[str, str]] = {
    "clickhouse": ("engagement_api.store.clickhouse:ClickHouseCounters", "clickhouse"),
}


def _load(scheme: str, target: str, extra: str | None) -> type:
    module_name, _, class_name = target.partition(":")
    try:
        module = import_module(module_name)
    except ImportError as exc:  # pragma: no cover - drivers are optional dependencies
        if extra is None:
            raise
        raise StoreError(
            f"{scheme} URLs need a driver: pip install 'engagement-api[{extra}]' ({exc})"
        ) from exc
    found: type = getattr(module, class_name)
    return found


def open_store(url: str, counters_url: str | None = None, crash_at: str | None = None) -> Store:
    """Open (but do not migrate) the store behind ``url``.

    ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` or ``sqlite:///:memory:``;
    ``postgresql://user@host:port/db`` (or ``postgres://``) with psycopg 3 installed.

    With ``counters_url`` (``clickhouse://HOST:PORT[,...]/DB?cluster=NAME``), the counters live
    there and everything else behind ``url`` (:mod:`engagement_api.store.split`); ``crash_at``
    is that protocol's crash hook, for the crash tests.
    """
    store = _open_catalog(url)
    if counters_url is None:
        return store
    scheme = counters_url.partition("://")[0]
    if scheme not in COUNTER_BACKENDS:
        store.close()
        known = " or ".join(COUNTER_BACKENDS)
        raise StoreError(f"counters URL scheme {scheme!r} is not supported (expected {known})")
    try:
        counters = _load(scheme, *COUNTER_BACKENDS[scheme])(counters_url)
        from engagement_api.store.split import SplitStore

        split: Store = SplitStore(store, counters, crash_at)
    except BaseException:
        store.close()
        raise
    return split


def _open_catalog(url: str) -> CatalogBackend:
    scheme, sep, _rest = url.partition("://")
    if not sep:
        raise StoreError(f"database URL {url!r} has no scheme (expected sqlite:///PATH)")
    if scheme not in SUPPORTED_BACKENDS:
        first: dict[str, str] = {}  # each backend by its first scheme
        for name, (target, _) in SUPPORTED_BACKENDS.items():
            first.setdefault(target, name)
        known = " or ".join(first.values())
        raise StoreError(f"database URL scheme {scheme!r} is not supported (expected {known})")
    store: CatalogBackend = _load(scheme, *SUPPORTED_BACKENDS[scheme])(url)
    return store
