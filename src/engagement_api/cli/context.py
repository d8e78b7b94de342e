"""What every command shares: settings from options and environment, the store, output."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, TypeVar

import click
import orjson
from rich.console import Console
from rich.table import Table

from engagement_api.contract.errors import ApiError
from engagement_api.settings import Settings, SettingsError
from engagement_api.store.errors import StoreError
from engagement_api.store.protocols import Store

F = TypeVar("F", bound=Callable[..., Any])

#: A terminal gets at most this many error lines (HTTP answers list every one).
MAX_PRINTED_ERRORS = 1000


@dataclass
class CliContext:
    database_url: str | None = None
    counters_url: str | None = None
    json_output: bool = False
    _settings: Settings | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings.from_env(
                database_url=self.database_url, counters_url=self.counters_url
            )
        return self._settings

    @contextmanager
    def store(self, migrate: bool = True, check: bool = True) -> Iterator[Store]:
        """Open the store; by default bring its schema up to date first (as `migrate` does),
        else (``migrate=False``) refuse a schema that is not current."""
        store = self.settings.open_store()
        try:
            if migrate:
                store.migrate()
            elif check:
                store.check_schema()
            yield store
        finally:
            store.close()

    def emit(self, data: Any, human: str | Table | None = None) -> None:
        """Print ``data`` as JSON with --json, else the human form (default: JSON too)."""
        if self.json_output or human is None:
            click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())
        elif isinstance(human, Table):
            Console().print(human)
        else:
            click.echo(human)


pass_ctx = click.make_pass_decorator(CliContext)


def database_option(func: F) -> F:
    """``--database-url`` and ``--counters-url`` on every command (also
    ENGAGEMENT_API_DATABASE_URL, ENGAGEMENT_API_COUNTERS_URL)."""

    def counters_url(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
        if value is not None:
            obj = ctx.ensure_object(CliContext)
            obj.counters_url = value
            obj._settings = None

    def store_url(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
        if value is not None:
            obj = ctx.ensure_object(CliContext)
            obj.database_url = value
            obj._settings = None

    with_database = click.option(
        "--database-url",
        metavar="URL",
        expose_value=False,
        callback=store_url,
        help="Database URL (default sqlite:///engagement.db; env ENGAGEMENT_API_DATABASE_URL).",
    )(func)
    return click.option(
        "--counters-url",
        metavar="URL",
        expose_value=False,
        callback=counters_url,
        help="Keep the counters in a ClickHouse cluster: clickhouse://HOST:PORT[,HOST:PORT...]"
        "/DATABASE?cluster=NAME (env ENGAGEMENT_API_COUNTERS_URL).",
    )(with_database)


def json_option(func: F) -> F:
    def set_json(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if value:
            ctx.ensure_object(CliContext).json_output = True

    return click.option(
        "--json",
        "json_output",
        is_flag=True,
        expose_value=False,
        callback=set_json,
        help="Print machine-readable JSON.",
    )(func)


def friendly_errors(func: F) -> F:
    """Turn the project's errors into a one-line message and exit status 1 (no traceback)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ApiError as exc:
            shown = exc.messages[:MAX_PRINTED_ERRORS]
            for message in shown:
                click.echo(f"error: {message}", err=True)
            if len(exc.messages) > len(shown):
                click.echo(f"error: ... and {len(exc.messages) - len(shown)} more", err=True)
            sys.exit(1)
        except (StoreError, SettingsError, ValueError) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]  # @wraps: it has func's signature, F


def with_defaults(func: Callable[..., Any]) -> Callable[..., Any]:
    """What every command shares, in one decorator: ``--database-url``, ``--json``, the
    :class:`CliContext` as first argument, and :func:`friendly_errors`."""
    return database_option(json_option(pass_ctx(friendly_errors(func))))
