"""`standin`: a stand-in server for client test suites (docs/standin.md)."""

from __future__ import annotations

from datetime import datetime

import click
import orjson

from engagement_api.api.standin_server import StandinServer
from engagement_api.cli.context import CliContext, json_option, pass_ctx
from engagement_api.clock import SystemClock
from engagement_api.contract.times import TimeFormatError, parse_timestamp


def _now(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime:
    if value is None:
        return SystemClock().now().replace(microsecond=0)
    try:
        return parse_timestamp(value)
    except TimeFormatError as exc:
        raise click.BadParameter(f"{value!r} {exc}") from None


def describe(info: dict[str, object]) -> str:
    """The human form of the ``--json`` object: one ``key: value`` line each."""
    groups = info["post_ids"]
    assert isinstance(groups, dict)
    lines = [f"{key}: {value}" for key, value in info.items() if key != "post_ids"]
    lines += [f"post_ids.{name}: {' '.join(ids)}" for name, ids in groups.items()]
    lines.append(f"Serving the stand-in on {info['base_url']} (Ctrl-C to stop)")
    return "\n".join(lines)


@click.command()
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the data set.")
@click.option(
    "--now",
    default=None,
    callback=_now,
    metavar="DATE-TIME",
    help="The frozen data clock, e.g. 2026-01-01T12:00:00Z (default: the wall time at start).",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int, help="0 picks a free port.")
@json_option
@pass_ctx
def standin(ctx: CliContext, seed: int, now: datetime, host: str, port: int) -> None:
    """Serve a seeded stand-in (frozen data clock, faults, request log) for client tests."""
    try:
        server = StandinServer(seed, now, host, port)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    info = server.info()
    if ctx.json_output:
        click.echo(orjson.dumps(info).decode())  # one line: read it, then talk to base_url
    else:
        click.echo(describe(info))
    server.serve_forever()
