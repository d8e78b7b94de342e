"""`load users|tweets|events FILE`: the same validation and idempotency as POST /ingest/*."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click
from rich.progress import BarColumn, DownloadColumn, TextColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress

from engagement_api.cli.context import CliContext, F, with_defaults
from engagement_api.ingest import Format, detect_format
from engagement_api.service.loading import EventSource, EventsResult, Loader, Progress

#: Files at least this large get a progress bar (on a terminal).
PROGRESS_BYTES = 4 * 1024 * 1024

FORMATS = click.Choice([f.value for f in Format])


def _existing(path: str) -> Path:
    file = Path(path)
    if not file.is_file():
        raise click.BadParameter(f"{path}: no such file", param_hint="FILE")
    return file


def _read(path: str) -> tuple[bytes, str | None]:
    if path == "-":
        return sys.stdin.buffer.read(), None
    file = _existing(path)
    return file.read_bytes(), file.name


def _result(result: EventsResult) -> dict[str, object]:
    return {"accepted": result.accepted, "duplicate": result.duplicate, "key": result.key}


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
        accepted = Loader(store, store, ctx.settings.clock).load_users(data, _fmt(data, name, fmt))
    ctx.emit({"accepted": accepted}, f"accepted {accepted} users")


@load.command("tweets")
@_common
@with_defaults
def load_tweets(ctx: CliContext, file: str, fmt: str | None) -> None:
    """Upsert Posts (id, author_id, created_at, media, protected, deleted)."""
    data, name = _read(file)
    with ctx.store() as store:
        accepted = Loader(store, store, ctx.settings.clock).load_tweets(data, _fmt(data, name, fmt))
    ctx.emit({"accepted": accepted}, f"accepted {accepted} Posts")


@load.command("events")
@click.option("--format", "fmt", type=FORMATS, help="Default: from name or content.")
@click.argument("files", metavar="FILE...", nargs=-1, required=True)
@click.option("--key", help="Idempotency key (one FILE only; default: sha256 of its content).")
@click.option("--progress/--no-progress", default=None, help="Default: on a terminal, large files.")
@with_defaults
def load_events(
    ctx: CliContext, files: tuple[str, ...], fmt: str | None, key: str | None, progress: bool | None
) -> None:
    """Apply batches of engagement events, one per FILE, each exactly once per key.

    Several files are applied in order, each in its own transaction; the next one is validated
    while the store applies the current one. The first bad file stops the run: the files
    before it stay applied, none after it is.
    """
    if key is not None and len(files) > 1:
        raise click.BadParameter("--key names one batch: give one FILE", param_hint="--key")
    if "-" in files and len(files) > 1:
        raise click.BadParameter("- (stdin) must be the only FILE", param_hint="FILE")
    stdin = _read("-")[0] if files == ("-",) else None  # (its size decides the progress bar)
    sizes = [len(stdin) if stdin is not None else _existing(file).stat().st_size for file in files]
    show = (
        progress
        if progress is not None
        else (sys.stderr.isatty() and sum(sizes) >= PROGRESS_BYTES and not ctx.json_output)
    )

    def source(file: str) -> EventSource:
        def read() -> tuple[bytes, Format, str | None]:
            data, name = (stdin, None) if stdin is not None else _read(file)
            return data, _fmt(data, name, fmt), key

        return read

    results: list[tuple[str, EventsResult]] = []

    def report(file: str, result: EventsResult) -> None:
        results.append((file, result))
        if not ctx.json_output:
            verb = "already applied" if result.duplicate else "applied"
            where = f"{file}: " if len(files) > 1 else ""
            click.echo(f"{where}{verb}: {result.accepted} events (key {result.key})")

    with ctx.store() as store, contextlib.ExitStack() as stack:
        loader = Loader(store, store, ctx.settings.clock)
        advance: Progress | None = None
        if show:
            bar = stack.enter_context(
                RichProgress(
                    TextColumn("[bold]validating"),
                    BarColumn(),
                    DownloadColumn(),
                    TimeRemainingColumn(),
                    transient=True,
                )
            )
            task = bar.add_task("events", total=sum(sizes) or None)
            advance = lambda n: bar.advance(task, n)  # noqa: E731
        try:
            for file, result in zip(
                files, loader.load_event_files(map(source, files), advance), strict=False
            ):
                report(file, result)
        except Exception:
            if len(files) > 1:  # say which file failed, and what was applied before it
                if ctx.json_output:
                    _emit_files(ctx, results)
                applied = len(results)
                click.echo(
                    f"error: {files[applied]}: not applied "
                    f"({applied} file(s) before it were applied, none after it)",
                    err=True,
                )
            raise
    if ctx.json_output:
        if len(files) == 1:
            ctx.emit(_result(results[0][1]))
        else:
            _emit_files(ctx, results)


def _emit_files(ctx: CliContext, results: list[tuple[str, EventsResult]]) -> None:
    ctx.emit(
        {
            "accepted": sum(result.accepted for _, result in results),
            "files": [{"file": file, **_result(result)} for file, result in results],
        }
    )
