"""`load users|tweets|events FILE`: the same validation and idempotency as POST /ingest/*."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from engagement_api.cli.context import (
    CliContext,
    F,
    with_defaults,
)
from engagement_api.ingest import Format, detect_format
from engagement_api.loading import Loader

#: Files at least this large get a progress bar (on a terminal).
PROGRESS_BYTES = 4 * 1024 * 1024

FORMATS = click.Choice([f.value for f in Format])


def _read(path: str) -> tuple[bytes, str | None]:
    if path == "-":
        return sys.stdin.buffer.read(), None
    file = Path(path)
    if not file.is_file():
        raise click.BadParameter(f"{path}: no such file", param_hint="FILE")
    return file.read_bytes(), file.name


def _fmt(data: bytes, name: str | None, given: str | None) -> Format:
    return Format(given) if given else detect_format(None, name, data)


@click.group()
def load() -> None:
    """Load users, Posts or events from a file (NDJSON, JSON array or CSV; - for stdin)."""


def _common(func: F) -> F:
    func = click.option("--format", "fmt", type=FORMATS, help="Default: from name or content.")(
        func
    )
    return click.argument("file")(func)


@load.command("users")
@_common
@with_defaults
def load_users(ctx: CliContext, file: str, fmt: str | None) -> None:
    """Upsert users ({"id": "42", "handle": "alice"} records)."""
    data, name = _read(file)
    with ctx.store() as store:
        accepted = Loader(store, ctx.settings.clock).load_users(data, _fmt(data, name, fmt))
    ctx.emit({"accepted": accepted}, f"accepted {accepted} users")


@load.command("tweets")
@_common
@with_defaults
def load_tweets(ctx: CliContext, file: str, fmt: str | None) -> None:
    """Upsert Posts (id, author_id, created_at, media, protected, deleted)."""
    data, name = _read(file)
    with ctx.store() as store:
        accepted = Loader(store, ctx.settings.clock).load_tweets(data, _fmt(data, name, fmt))
    ctx.emit({"accepted": accepted}, f"accepted {accepted} Posts")


@load.command("events")
@_common
@click.option("--key", help="Idempotency key (default: sha256 of the file's content).")
@click.option("--progress/--no-progress", default=None, help="Default: on a terminal, large files.")
@with_defaults
def load_events(
    ctx: CliContext, file: str, fmt: str | None, key: str | None, progress: bool | None
) -> None:
    """Apply a batch of engagement events, exactly once per key."""
    data, name = _read(file)
    show = (
        progress
        if progress is not None
        else (sys.stderr.isatty() and len(data) >= PROGRESS_BYTES and not ctx.json_output)
    )
    with ctx.store() as store:
        loader = Loader(store, ctx.settings.clock)
        if show:
            with Progress(
                TextColumn("[bold]validating"),
                BarColumn(),
                DownloadColumn(),
                TimeRemainingColumn(),
                transient=True,
            ) as bar:
                task = bar.add_task("events", total=len(data))
                result = loader.load_events(
                    data, _fmt(data, name, fmt), key, lambda n: bar.advance(task, n)
                )
        else:
            result = loader.load_events(data, _fmt(data, name, fmt), key)
    data_out = {"accepted": result.accepted, "duplicate": result.duplicate, "key": result.key}
    verb = "already applied" if result.duplicate else "applied"
    ctx.emit(data_out, f"{verb}: {result.accepted} events (key {result.key})")
