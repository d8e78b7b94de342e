"""`serve` and `migrate`."""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

import click
import uvicorn
from uvicorn.config import LOGGING_CONFIG

from engagement_api.api.logging import access_log_config
from engagement_api.api.prometheus import MULTIPROC_ENV
from engagement_api.cli import workers as reuse_port
from engagement_api.cli.context import (
    CliContext,
    database_option,
    friendly_errors,
    pass_ctx,
    with_defaults,
)
from engagement_api.contract.times import (
    TimeFormatError,
    floor_hour,
    format_timestamp,
    hour_index,
    parse_timestamp,
)
from engagement_api.settings import ENV_PREFIX


@click.command()
@with_defaults
def migrate(ctx: CliContext) -> None:
    """Apply pending schema migrations."""
    with ctx.store(migrate=False, check=False) as store:
        applied = store.migrate()
        version = store.schema_version()
    ctx.emit(
        {"schema_version": version, "applied": applied},
        f"schema is at version {version}" + (f" (applied {applied})" if applied else ""),
    )


def log_config(log_level: str) -> dict[str, Any]:
    """uvicorn's logging configuration plus the JSON access log (one line per request on
    standard output). uvicorn's own access log is off: it would log query strings."""
    config: dict[str, Any] = {
        key: dict(value) if isinstance(value, dict) else value
        for key, value in LOGGING_CONFIG.items()
    }
    for section, entries in access_log_config(log_level).items():
        config[section] = {**config.get(section, {}), **entries}
    return config


def run_server(ctx: CliContext, host: str, port: int, workers: int, log_level: str) -> None:
    """Check the schema, then serve with uvicorn (settings reach workers via the environment);
    several workers on Linux listen on a socket each (:mod:`engagement_api.cli.workers`).

    With several workers, Prometheus metrics are kept in a fresh multi-process directory (unless
    ``PROMETHEUS_MULTIPROC_DIR`` is set), so ``/metrics`` sums every worker."""
    with ctx.store(migrate=False):
        pass  # refuses to start on a missing, older or newer schema
    os.environ[ENV_PREFIX + "DATABASE_URL"] = ctx.settings.database_url
    if ctx.settings.counters_url is not None:
        os.environ[ENV_PREFIX + "COUNTERS_URL"] = ctx.settings.counters_url
    made_dir = None
    if workers > 1 and not os.environ.get(MULTIPROC_ENV):
        made_dir = tempfile.mkdtemp(prefix="engagement-api-metrics-")
        os.environ[MULTIPROC_ENV] = made_dir
    options: dict[str, Any] = {
        "app": "engagement_api.api.asgi:app_from_env",
        "factory": True,
        "host": host,
        "port": port,
        "log_level": log_level,
        "log_config": log_config(log_level),
        "access_log": False,
        "proxy_headers": True,
        "http": "engagement_api.api.protocol:NoDelayHTTPProtocol",
        "server_header": False,
    }
    try:
        if workers > 1 and reuse_port.available():  # a socket per worker (cli/workers.py)
            try:
                sockets = reuse_port.bind_sockets(host, port, workers)
            except OSError as exc:
                raise click.ClickException(
                    f"cannot listen on {host}:{port}: {exc.strerror or exc}"
                ) from exc
            status = reuse_port.supervise(options, sockets)
            if status:
                raise SystemExit(status)
        else:
            uvicorn.run(**options, workers=workers)
    finally:
        if made_dir is not None:
            shutil.rmtree(made_dir, ignore_errors=True)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="Server processes.")
@click.option("--log-level", default="info", show_default=True)
@database_option
@pass_ctx
@friendly_errors
def serve(ctx: CliContext, host: str, port: int, workers: int, log_level: str) -> None:
    """Serve the API (the schema must be current: run `migrate` first)."""
    run_server(ctx, host, port, workers, log_level)


@click.command()
@click.option(
    "--before",
    "before",
    required=True,
    metavar="DATE",
    help="Drop hourly counts of hours before this date or date-time (UTC).",
)
@with_defaults
def prune(ctx: CliContext, before: str) -> None:
    """Drop old hourly counts (lifetime totals stay, so /totals is unchanged)."""
    try:
        cut = floor_hour(parse_timestamp(before))
    except TimeFormatError as exc:
        raise click.BadParameter(f"{before!r} {exc}", param_hint="--before") from None
    with ctx.store() as store:
        removed = store.prune_hourly(hour_index(cut))
    ctx.emit(
        {"before": format_timestamp(cut), "deleted_rows": removed},
        f"deleted {removed} hourly rows before {format_timestamp(cut)}",
    )
