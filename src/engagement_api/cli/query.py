"""`engagement-api query`: the read API through the Python client (engagement_api.client).

Any number of Post IDs and, on ``historical``, any range: the client splits and merges.
Credentials: flags, then ``ENGAGEMENT_API_*`` variables, then ``credentials.toml`` in the
platform config directory (see ``engagement_api.client.credentials`` and docs/client.md).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import Any, TextIO, TypeVar

import click
import httpx
import orjson
from rich.console import Console
from rich.table import Table

from engagement_api.client import EngagementClient, EngagementError, Result
from engagement_api.client.charts import ChartsUnavailable, png_chart, series_of, terminal_chart
from engagement_api.client.credentials import (
    AUTH_KINDS,
    Credentials,
    CredentialsError,
    default_path,
    resolve,
)
from engagement_api.client.errors import ApiError

F = TypeVar("F", bound=Callable[..., Any])

SERIES = "_chart series"
DEFAULT_TYPES = "impressions,engagements,favorites,retweets,replies"
DEFAULT_GROUPING = {"perTweet": ["tweet.id", "engagement.type"]}


@dataclass
class QueryHooks:
    """What tests may inject (pass as ``obj`` to the group): a transport, a wall clock."""

    transport: httpx.BaseTransport | None = None
    wall_clock: Callable[[], float] = time.time
    environ: dict[str, str] | None = None


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _friendly(func: F) -> F:
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ApiError as exc:
            for message in exc.messages:
                click.echo(f"error: {exc.status_code}: {message}", err=True)
            sys.exit(1)
        except (EngagementError, CredentialsError, ChartsUnavailable, ValueError) as exc:
            _fail(str(exc))

    return wrapper  # type: ignore[return-value]  # @wraps: it has func's signature, F


# -- options -----------------------------------------------------------------------------------


def _credential_options(func: F) -> F:
    options = [
        click.option(
            "--base-url",
            metavar="URL",
            help="Server base URL with /insights/engagement (env ENGAGEMENT_API_BASE_URL).",
        ),
        click.option("--consumer-key", metavar="KEY", help="env ENGAGEMENT_API_CONSUMER_KEY"),
        click.option(
            "--consumer-secret", metavar="SECRET", help="env ENGAGEMENT_API_CONSUMER_SECRET"
        ),
        click.option("--access-token", metavar="TOKEN", help="env ENGAGEMENT_API_ACCESS_TOKEN"),
        click.option(
            "--access-token-secret", metavar="SECRET", help="env ENGAGEMENT_API_ACCESS_TOKEN_SECRET"
        ),
        click.option("--bearer-token", metavar="TOKEN", help="env ENGAGEMENT_API_BEARER_TOKEN"),
        click.option(
            "--auth",
            type=click.Choice(AUTH_KINDS),
            help="Signing to use (default: user if an access token is given, "
            "else bearer, else app).",
        ),
        click.option(
            "--credentials-file",
            type=click.Path(dir_okay=False, path_type=Path),
            help="TOML credentials (default: credentials.toml in the config dir, "
            "see `query config-path`; env ENGAGEMENT_API_CREDENTIALS_FILE).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _request_options(func: F) -> F:
    options = [
        click.option(
            "--ids",
            "ids",
            multiple=True,
            metavar="ID[,ID...]",
            help="Post IDs (comma-separated, repeatable).",
        ),
        click.option(
            "--ids-file",
            type=click.File("r"),
            metavar="FILE",
            help="Post IDs, one per line ('-': standard input).",
        ),
        click.option(
            "--drop-unowned",
            is_flag=True,
            help="Leave out Posts the user does not own (named by a 403) and retry.",
        ),
        click.option(
            "--concurrency",
            type=click.IntRange(1, 64),
            default=4,
            show_default=True,
            help="Requests in flight at once.",
        ),
        click.option(
            "--timeout", type=float, default=30.0, show_default=True, help="Seconds per request."
        ),
        click.option(
            "--format",
            "fmt",
            type=click.Choice(["json", "csv", "table"]),
            default="json",
            show_default=True,
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _shape_options(func: F) -> F:
    options = [
        click.option(
            "--types",
            default=DEFAULT_TYPES,
            show_default=True,
            metavar="TYPE[,TYPE...]",
            help="Engagement types.",
        ),
        click.option(
            "--group-by",
            "group_by",
            multiple=True,
            metavar="[NAME=]LEVEL[,LEVEL...]",
            help="A grouping (repeatable, up to 3); default perTweet=tweet.id,engagement.type.",
        ),
        click.option(
            "--grouping",
            metavar="NAME",
            help="The grouping shown by --format csv/table (default: the first).",
        ),
        click.option("--int-counts", is_flag=True, help="JSON counts as numbers, not strings."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _chart_options(func: F) -> F:
    options = [
        click.option("--chart", is_flag=True, help="Also draw the series in the terminal."),
        click.option(
            "--chart-out",
            type=click.Path(dir_okay=False, path_type=Path),
            metavar="FILE",
            help="Also write the series as a PNG chart (matplotlib).",
        ),
        click.option(
            "--chart-interval",
            type=click.Choice(["auto", "hour", "day"]),
            default="auto",
            show_default=True,
            help="auto: hourly up to 72 hours, else daily.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _range_options(func: F) -> F:
    func = click.option("--end", metavar="DATE", help="End (exclusive; ceiled to the hour).")(func)
    return click.option("--start", metavar="DATE", help="Start (floored to the hour).")(func)


# -- helpers -----------------------------------------------------------------------------------


def read_ids(values: Iterable[str], file: TextIO | None) -> list[str]:
    """IDs from ``--ids`` (commas and whitespace separate) and ``--ids-file`` (one per line,
    surrounding whitespace and blank lines ignored), in order."""
    ids = [part for value in values for part in value.replace(",", " ").split()]
    if file is not None:
        ids.extend(line.strip() for line in file if line.strip())
    if not ids:
        raise click.UsageError("give Post IDs with --ids or --ids-file")
    return ids


def parse_group_by(values: Iterable[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for value in values:
        name, _, levels = value.rpartition("=")
        entries = [e.strip() for e in levels.split(",") if e.strip()]
        out[name.strip() or ",".join(entries)] = entries
    return out or dict(DEFAULT_GROUPING)


def _types(value: str) -> list[str]:
    return [t.strip() for t in value.split(",") if t.strip()]


def _client(
    ctx: click.Context, creds: dict[str, Any], concurrency: int, timeout: float
) -> EngagementClient:
    hooks = ctx.find_object(QueryHooks) or QueryHooks()
    environ = dict(os.environ) if hooks.environ is None else hooks.environ
    file = creds.pop("credentials_file")
    resolved = resolve(Credentials(**creds), environ, file)
    return EngagementClient(
        resolved.resolved_base_url(),
        auth=resolved.make_auth(clock=hooks.wall_clock),
        timeout=timeout,
        max_concurrency=concurrency,
        transport=hooks.transport,
        wall_clock=hooks.wall_clock,
    )


def _report_dropped(result: Result) -> None:
    if result.dropped_tweet_ids:
        click.echo(
            f"dropped {len(result.dropped_tweet_ids)} Post(s) not owned by the user: "
            + ", ".join(result.dropped_tweet_ids),
            err=True,
        )


def _emit(result: Result, fmt: str, grouping: str | None, int_counts: bool) -> None:
    if fmt == "json":
        data = result.to_dict(int_counts=int_counts)
        data.pop(SERIES, None)
        click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())
    elif fmt == "csv":
        click.echo(result.to_csv(grouping=grouping), nl=False)
    else:
        name = result.grouping_name(grouping)
        table = Table(title=name)
        for column in ("post_id", "metric", "day", "hour"):
            table.add_column(column)
        table.add_column("count", justify="right")
        for row in result.rows(name):
            table.add_row(*("" if v is None else str(v) for v in row.as_tuple()))
        Console().print(table)


def _run(
    ctx: click.Context,
    endpoint: str,
    opts: dict[str, Any],
    start: str | None = None,
    end: str | None = None,
) -> None:
    creds = {k: opts.pop(k) for k in (*Credentials.names(), "credentials_file")}
    ids = read_ids(opts["ids"], opts["ids_file"])
    groupings = parse_group_by(opts["group_by"])
    charting = bool(opts.get("chart") or opts.get("chart_out"))
    if charting:
        if len(groupings) >= 3:
            raise click.UsageError("--chart needs room for one more grouping: give at most 2")
        groupings[SERIES] = ["engagement.type", "engagement.day", "engagement.hour"]
    with _client(ctx, creds, opts["concurrency"], opts["timeout"]) as client:
        types = _types(opts["types"])
        drop = opts["drop_unowned"]
        if endpoint == "totals":
            result = client.totals(ids, types, groupings, drop_unowned=drop)
        elif endpoint == "28hr":
            result = client.last_28_hours(ids, types, groupings, drop_unowned=drop)
        else:
            result = client.historical(
                ids, types, groupings, start=start, end=end, drop_unowned=drop
            )
    _report_dropped(result)
    _emit(result, opts["fmt"], opts["grouping"], opts["int_counts"])
    if charting:
        interval, series = series_of(result.series(SERIES), opts["chart_interval"])
        if opts["chart"]:
            Console(stderr=opts["fmt"] != "table").print(terminal_chart(series, interval))
        if opts["chart_out"]:
            title = f"{endpoint} {result.start or ''} to {result.end or ''}".strip()
            png_chart(series, interval, opts["chart_out"], title)
            click.echo(f"chart written to {opts['chart_out']}", err=True)


# -- commands ----------------------------------------------------------------------------------


@click.group("query")
def query() -> None:
    """Query a server's read API through the Python client (any number of IDs, any range)."""


@query.command("totals")
@_request_options
@_shape_options
@_credential_options
@click.pass_context
@_friendly
def totals(ctx: click.Context, /, **opts: Any) -> None:
    """Lifetime totals (250 IDs per request)."""
    _run(ctx, "totals", opts)


@query.command("28hr")
@_request_options
@_shape_options
@_chart_options
@_credential_options
@click.pass_context
@_friendly
def last_28_hours(ctx: click.Context, /, **opts: Any) -> None:
    """The last 28 hours and the current one (25 IDs per request)."""
    _run(ctx, "28hr", opts)


@query.command("historical")
@_request_options
@_shape_options
@_range_options
@_chart_options
@_credential_options
@click.pass_context
@_friendly
def historical(ctx: click.Context, /, start: str | None, end: str | None, **opts: Any) -> None:
    """Any range (25 IDs and 28 days per request, merged)."""
    _run(ctx, "historical", opts, start, end)


@query.command("top")
@click.option("--metric", default="impressions", show_default=True, help="Rank by this type.")
@click.option(
    "-n", "count", type=click.IntRange(1), default=10, show_default=True, help="How many Posts."
)
@_request_options
@_range_options
@_credential_options
@click.pass_context
@_friendly
def top(
    ctx: click.Context, /, metric: str, count: int, start: str | None, end: str | None, **opts: Any
) -> None:
    """The top N of the given Posts by one metric over a range (/historical).

    The contract has no endpoint that lists a user's Posts, so the candidates are the IDs given
    (--ids/--ids-file); use --drop-unowned to skip those the user does not own."""
    creds = {k: opts.pop(k) for k in (*Credentials.names(), "credentials_file")}
    ids = read_ids(opts["ids"], opts["ids_file"])
    with _client(ctx, creds, opts["concurrency"], opts["timeout"]) as client:
        result = client.historical(
            ids,
            [metric],
            {"top": ["tweet.id", "engagement.type"]},
            start=start,
            end=end,
            drop_unowned=opts["drop_unowned"],
        )
    _report_dropped(result)
    ranked = rank(result, count)
    if opts["fmt"] == "json":
        data = {
            "start": result.start,
            "end": result.end,
            "metric": metric,
            "top": [{"rank": r, "post_id": p, "count": c} for r, p, c in ranked],
        }
        click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())
    elif opts["fmt"] == "csv":
        click.echo("rank,post_id,metric,count")
        for r, p, c in ranked:
            click.echo(f"{r},{p},{metric},{c}")
    else:
        table = Table(title=f"top {count} by {metric}, {result.start} to {result.end}")
        table.add_column("rank", justify="right")
        table.add_column("post_id")
        table.add_column(metric, justify="right")
        for r, p, c in ranked:
            table.add_row(str(r), p, str(c))
        Console().print(table)


def rank(result: Result, count: int) -> list[tuple[int, str, int]]:
    """(rank, post_id, count): highest count first, ties by ascending ID."""
    totals = [(row.post_id or "", row.count) for row in result.rows("top")]
    totals.sort(key=lambda pc: (-pc[1], int(pc[0])))
    return [(i + 1, p, c) for i, (p, c) in enumerate(totals[:count])]


@query.command("config-path")
def config_path() -> None:
    """Print where the credentials file is looked for."""
    click.echo(str(default_path()))
