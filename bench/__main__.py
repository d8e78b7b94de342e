"""``python -m bench``: ingest and read benchmarks, each beside a baseline of the same run.

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

from bench.report import machine, print_report
from bench.run import Bench, Mismatch, Options

DEFAULT_EVENTS = 10_000_000
QUICK_EVENTS = 1_000_000


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--events", type=int, default=DEFAULT_EVENTS, help="events to synthesise and ingest"
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_EVENTS:,} events (overrides --events)"
    )
    parser.add_argument("--runs", type=int, default=50, help="timed runs per read figure (≥ 50)")
    parser.add_argument(
        "--http-batches", type=int, default=10, help="100,000-event batches over HTTP"
    )
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
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
    if args.events < 1_000 or args.runs < 1 or args.http_batches < 1 or args.workers < 1:
        parser.error("--events ≥ 1000; --runs, --http-batches and --workers ≥ 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = Console(width=130)
    progress = Console(stderr=True)
    options = Options(
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
    bench = Bench(options, workdir, progress)
    try:
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
        bench.close()
        if args.keep:
            progress.log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
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
