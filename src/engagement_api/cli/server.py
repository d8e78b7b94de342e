"""`serve` and `migrate`."""

from __future__ import annotations

import os

import click
import uvicorn

from engagement_api.cli.context import (
    CliContext,
    database_option,
    friendly_errors,
    json_option,
    pass_ctx,
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
@database_option
@json_option
@pass_ctx
@friendly_errors
def migrate(ctx: CliContext) -> None:
    """Apply pending schema migrations."""
    with ctx.store(migrate=False, check=False) as store:
        applied = store.migrate()
        version = store.schema_version()
    ctx.emit(
        {"schema_version": version, "applied": applied},
        f"schema is at version {version}" + (f" (applied {applied})" if applied else ""),
    )


def run_server(ctx: CliContext, host: str, port: int, workers: int, log_level: str) -> None:
    """Check the schema, then serve with uvicorn (settings reach workers via the environment)."""
    with ctx.store(migrate=False):
        pass  # refuses to start on a missing, older or newer schema
    os.environ[ENV_PREFIX + "DATABASE_URL"] = ctx.settings.database_url
    uvicorn.run(
        "engagement_api.api.asgi:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        proxy_headers=True,
        http="engagement_api.api.protocol:NoDelayHTTPProtocol",
        server_header=False,
    )


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
@database_option
@json_option
@pass_ctx
@friendly_errors
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
