"""One settings object, built from the environment (or given explicitly), passed in.

Every setting is read from an environment variable named ``ENGAGEMENT_API_<NAME>``; the CLI's
options override the environment. Nothing in the package reads configuration globally.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from engagement_api.clock import Clock, SystemClock
from engagement_api.store.backends import DEFAULT_URL, open_store
from engagement_api.store.protocols import Store

ENV_PREFIX = "ENGAGEMENT_API_"
#: Fields that are objects passed in, not environment settings.
_NOT_FROM_ENV = frozenset({"clock", "auth_clock"})


class SettingsError(ValueError):
    """A setting has a value that cannot be used."""


@dataclass(frozen=True)
class Settings:
    """Operator settings. See docs/operations.md for each."""

    #: Where the data lives: ``sqlite:///PATH``.
    database_url: str = DEFAULT_URL
    #: Where the counters live instead, when set: ``clickhouse://HOST:PORT[,...]/DB?cluster=C``.
    counters_url: str | None = None
    #: Testing only: the step of the ClickHouse ingest protocol after which the process kills
    #: itself (store/split.py CRASH_STEPS), for the crash tests.
    crash_at: str | None = None
    #: OAuth 1.0a ``oauth_timestamp`` must be within this many seconds of the server clock.
    timestamp_window: int = 300
    #: How far back ``/historical`` may reach, in days.
    historical_lookback_days: int = 365
    #: Largest request body on the three read endpoints, in bytes (413 above).
    max_body_bytes: int = 1024 * 1024
    #: Largest request body on the ingest endpoints, in bytes (413 above).
    max_ingest_bytes: int = 64 * 1024 * 1024
    #: Most lines (records) in one ingest batch over HTTP (413 above).
    max_ingest_lines: int = 1_000_000
    #: Requests per app, endpoint and minute for apps created without --rate-limit.
    default_rate_limit: int = 600
    #: gzip level of the answers (1 fastest ... 9 smallest), when the client accepts gzip.
    gzip_level: int = 1
    #: The address people reach this server at: the base of dashboard sign-in links.
    public_url: str = "http://127.0.0.1:8000"
    #: How long a dashboard sign-in link stays usable, in seconds (it is usable once).
    dashboard_link_ttl: int = 900
    #: How long a dashboard session lasts after sign-in, in seconds (12 hours).
    session_lifetime: int = 12 * 3600
    #: The secret that signs dashboard cookies and CSRF tokens; empty: one is made on first use
    #: and kept in the database, so every server process on it signs alike.
    session_secret: str = field(default="", repr=False)
    #: The clock every time rule reads ("now"); not an environment setting.
    clock: Clock = field(default_factory=SystemClock, compare=False, repr=False)
    #: The clock OAuth 1.0a timestamps and nonces are checked against; None: ``clock``. The
    #: stand-in gives the wall clock here while its data clock stands still (clients sign with
    #: the real time). Not an environment setting.
    auth_clock: Clock | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        for name in (
            "timestamp_window",
            "historical_lookback_days",
            "max_body_bytes",
            "max_ingest_bytes",
            "max_ingest_lines",
            "default_rate_limit",
            "dashboard_link_ttl",
            "session_lifetime",
        ):
            if getattr(self, name) <= 0:
                raise SettingsError(f"{name} must be a positive integer")
        if not 1 <= self.gzip_level <= 9:
            raise SettingsError("gzip_level must be an integer from 1 to 9")
        if not self.public_url.startswith(("http://", "https://")):
            raise SettingsError("public_url must start with http:// or https://")
        if self.timestamp_window > 3600:
            raise SettingsError("timestamp_window must be at most 3600 seconds")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``ENGAGEMENT_API_*`` variables, then ``overrides`` (None ignored)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name in _NOT_FROM_ENV:
                continue
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None or raw == "":
                continue
            if f.type in ("int", int):
                try:
                    values[f.name] = int(raw)
                except ValueError:
                    raise SettingsError(
                        f"{ENV_PREFIX}{f.name.upper()} must be an integer, got {raw!r}"
                    ) from None
            else:
                values[f.name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def open_store(self) -> Store:
        """The store these settings name (not migrated)."""
        return open_store(self.database_url, self.counters_url, self.crash_at)

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @property
    def oauth_clock(self) -> Clock:
        """The clock of OAuth 1.0a timestamps and nonces: ``auth_clock``, else ``clock``."""
        return self.clock if self.auth_clock is None else self.auth_clock


def setting_names() -> list[str]:
    """Environment variable names of every setting (the docs test checks they are documented)."""
    return [ENV_PREFIX + f.name.upper() for f in fields(Settings) if f.name not in _NOT_FROM_ENV]
