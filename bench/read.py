"""``python -m bench.read``: the read road under steady load, as shares of ``GET /healthz``.

Starts the real server (``engagement-api serve``) over a demo-sized store (the demo's data set:
300 users, 5,000 Posts, 30 days of events, seeded through the real load path), then drives it
from a separate process, wrk (Debian's ``wrk``; installed with apt-get when missing), with 4
keep-alive connections and ``Accept-Encoding: gzip``, one request kind at a time:

- ``GET /healthz`` (the ceiling, on the same server, in the same run: first in each round and
  once more at the end);
- ``/totals`` of 1 Post, 3 public metrics, 1 grouping (bearer token);
- ``/totals`` of 250 Posts, 5 metrics, 2 groupings (bearer token);
- ``/28hr`` of 25 owned Posts, 8 metrics, the 4-level grouping (OAuth 1.0a user context);
- ``/historical`` of the same over 28 days (OAuth 1.0a user context).

The kinds are run ``--rounds`` times in turn (each round: /healthz, then every kind), so that a
pause of the shared machine's host falls on one run of one kind, not on a whole figure; each
kind's figures are the medians of its runs. OAuth requests are signed beforehand, each with its
own nonce (wrk cannot sign), and sent in turn; a run that used every one of them, or that got
any answer but 200, is reported as an error. Each kind's requests/s, p50 and p99 are printed
beside ``/healthz`` as a share, for each ``--workers`` value, and the gain of the last worker
count over the first beside /healthz's gain. Absolute figures here are noise (2 shared cores);
the shares are the result.

    python -m bench.read [--backend sqlite|postgresql|both] [--workers 1,2] [--seconds 5]
                         [--rounds 3] [--json FILE] [--keep]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from statistics import median
from typing import Any, Literal

import httpx
import orjson
from devtools import apt
from oauthlib.oauth1 import Client as OAuth1Signer
from rich.console import Console
from rich.table import Table

from bench.server import free_port
from engagement_api.clock import SystemClock
from engagement_api.contract.ids import parse_id
from engagement_api.contract.times import format_timestamp
from engagement_api.ingest.generator import Synthetic
from engagement_api.service import credentials
from engagement_api.service import demo as seeding
from engagement_api.store import Store, open_store

PREFIX = "/insights/engagement"
CONNECTIONS = 4
TARGETS = {"totals_1": 0.50, "totals_250": 0.15, "28hr_25": 0.16, "historical_25x28d": 0.015}
TITLES = {
    "healthz": "GET /healthz",
    "totals_1": "/totals 1 Post, 3 metrics, 1 grouping",
    "totals_250": "/totals 250 Posts, 5 metrics, 2 groupings",
    "28hr_25": "/28hr 25 Posts, 8 metrics, 4 levels, OAuth",
    "historical_25x28d": "/historical 25 Posts x 28 d, 4 levels, OAuth",
}
PUBLIC_3 = ["favorites", "retweets", "replies"]
PUBLIC_5 = ["favorites", "retweets", "quote_tweets", "replies", "video_views"]
OWNED_8 = [
    "impressions",
    "engagements",
    "favorites",
    "retweets",
    "replies",
    "video_views",
    "url_clicks",
    "detail_expands",
]
FOUR_LEVELS = ["tweet.id", "engagement.type", "engagement.day", "engagement.hour"]
MAX_RATE = 3000  # signed requests prepared per second of run (more than any kind answers)

_LUA = """
local body = io.open("{body}", "rb"):read("*a")
local auths = {{}}
for line in io.lines("{auths}") do auths[#auths + 1] = line end
local i = 0
wrk.method = "{method}"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept-Encoding"] = "gzip"
{request}
"""
_ROTATE = """
request = function()
  i = i + 1
  if i > #auths then i = #auths end
  wrk.headers["Authorization"] = auths[i]
  return wrk.format()
end
"""
_STATIC = """
wrk.headers["Authorization"] = auths[1]
"""


@dataclass
class Kind:
    name: str
    method: Literal["GET", "POST"]
    path: str
    body: bytes
    auth: str  # none | bearer | oauth


@dataclass
class Figure:
    kind: str
    workers: int
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    notes: list[str] = field(default_factory=list)


@dataclass
class Setup:
    store: Store
    url: str
    data: Synthetic
    consumer_key: str
    consumer_secret: str
    bearer: str
    token: str
    token_secret: str
    owner: int
    owned: list[int]
    top: list[int]


def need_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("installing wrk (apt-get install wrk) ...", file=sys.stderr)
    try:
        apt.ensure(["wrk"], lambda: shutil.which("wrk") is not None)
    except RuntimeError as exc:
        raise SystemExit(f"wrk is not installed and apt-get could not install it: {exc}") from exc
    return shutil.which("wrk") or "wrk"


def seed(store: Store) -> Setup:
    """The demo's data set as of now, an app with no practical rate limit, and a token for the
    author with the most available Posts (the demo's busiest author may own fewer than 25)."""
    clock = SystemClock()
    data = seeding.seed(store, clock, users=300, tweets=5000, days=30, seed=0)
    demo = seeding.issue_credentials(store, clock, data)
    app = credentials.create_app(store, clock, "bench-read", rate_limit=10**9)
    available: dict[int, list[tuple[str, int]]] = {}
    for tweet in data.tweets:
        if tweet.get("deleted") or tweet.get("protected"):
            continue
        available.setdefault(parse_id(tweet["author_id"]), []).append(
            (str(tweet["created_at"]), parse_id(tweet["id"]))
        )
    owner = max(available, key=lambda author: len(available[author]))
    owned = [pid for _, pid in sorted(available[owner], reverse=True)[:25]]
    token = credentials.create_token(store, clock, app.consumer_key, owner)
    everyone = [pid for posts in available.values() for _, pid in posts]
    top = demo.top_posts + [pid for pid in everyone if pid not in demo.top_posts]
    return Setup(
        store,
        store.url,
        data,
        app.consumer_key,
        app.consumer_secret,
        app.bearer_token,
        token.token,
        token.secret,
        owner,
        owned,
        top[:250],
    )


def kinds(setup: Setup) -> list[Kind]:
    def body(ids: list[int], metrics: list[str], groupings: dict[str, Any], **extra: Any) -> bytes:
        return orjson.dumps(
            {
                "tweet_ids": [str(i) for i in ids],
                "engagement_types": metrics,
                "groupings": groupings,
                **extra,
            }
        )

    per_tweet = {"perTweet": {"group_by": ["tweet.id", "engagement.type"]}}
    two = {**per_tweet, "byType": {"group_by": ["engagement.type"]}}
    four = {"hourly": {"group_by": FOUR_LEVELS}}
    now = SystemClock().now().replace(minute=0, second=0, microsecond=0)
    days28 = {
        "start": format_timestamp(now - timedelta(days=28)),
        "end": format_timestamp(now),
    }
    return [
        Kind("healthz", "GET", "/healthz", b"", "none"),
        Kind(
            "totals_1",
            "POST",
            f"{PREFIX}/totals",
            body(setup.top[:1], PUBLIC_3, per_tweet),
            "bearer",
        ),
        Kind("totals_250", "POST", f"{PREFIX}/totals", body(setup.top, PUBLIC_5, two), "bearer"),
        Kind("28hr_25", "POST", f"{PREFIX}/28hr", body(setup.owned, OWNED_8, four), "oauth"),
        Kind(
            "historical_25x28d",
            "POST",
            f"{PREFIX}/historical",
            body(setup.owned, OWNED_8, four, **days28),
            "oauth",
        ),
    ]


def auth_lines(setup: Setup, kind: Kind, base: str, count: int) -> list[str]:
    if kind.auth == "none":
        return ["None"]  # never sent: a harmless header value
    if kind.auth == "bearer":
        return [f"Bearer {setup.bearer}"]
    signer = OAuth1Signer(
        setup.consumer_key,
        client_secret=setup.consumer_secret,
        resource_owner_key=setup.token,
        resource_owner_secret=setup.token_secret,
    )
    lines = []
    for _ in range(count):
        _, headers, _ = signer.sign(base + kind.path, http_method=kind.method)
        lines.append(headers["Authorization"])
    return lines


@contextmanager
def server(url: str, workers: int, log: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "ENGAGEMENT_API_DATABASE_URL": url}
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "engagement_api.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--log-level",
                "warning",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"the server exited ({proc.returncode}); see {log}")
            try:
                if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"the server did not get ready; see {log}")
            time.sleep(0.1)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"cannot read wrk's latency {text!r}")
    return float(match[1]) * _UNITS[match[2]]


def parse_wrk(output: str) -> tuple[int, float, float, float, int]:
    """(requests, seconds, p50 ms, p99 ms, errors) from wrk's report with --latency."""
    done = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    if not (done and p50 and p99):
        raise ValueError(f"cannot read wrk's report:\n{output}")
    seconds = _ms(done[2] + done[3]) / 1e3
    errors = 0
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if bad:
        errors += int(bad[1])
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if sockets:
        errors += sum(int(n) for n in sockets.groups())
    return int(done[1]), seconds, _ms(p50[1]), _ms(p99[1]), errors


def drive(
    wrk: str, setup: Setup, kind: Kind, base: str, seconds: float, workdir: Path, workers: int
) -> Figure:
    count = int(MAX_RATE * seconds) if kind.auth == "oauth" else 1
    lines = auth_lines(setup, kind, base, count)
    body_path = workdir / f"{kind.name}.json"
    auths_path = workdir / f"{kind.name}.auth"
    script_path = workdir / f"{kind.name}.lua"
    body_path.write_bytes(kind.body)
    auths_path.write_text("\n".join(lines) + "\n")
    script = _LUA.format(
        body=body_path,
        auths=auths_path,
        method=kind.method,
        request=_ROTATE if kind.auth == "oauth" else _STATIC if kind.auth == "bearer" else "",
    )
    script_path.write_text(script)
    result = subprocess.run(
        [
            wrk,
            "-t1",
            f"-c{CONNECTIONS}",
            f"-d{seconds:g}s",
            "--latency",
            "--timeout",
            "10s",
            "-s",
            str(script_path),
            base + kind.path,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    requests, took, p50, p99, errors = parse_wrk(result.stdout)
    notes = []
    if kind.auth == "oauth" and requests >= len(lines):
        notes.append(f"used all {len(lines)} signed requests")
        errors += requests - len(lines) + 1
    return Figure(kind.name, workers, requests, took, requests / took, p50, p99, errors, notes)


def warm(base: str, setup: Setup, kind: Kind) -> None:
    """A few answers first (caches, connections), checked to be 200s."""
    for line in auth_lines(setup, kind, base, 3)[:3]:
        headers = {"Content-Type": "application/json", "Accept-Encoding": "gzip"}
        if kind.auth != "none":
            headers["Authorization"] = line
        response = httpx.request(
            kind.method, base + kind.path, content=kind.body or None, headers=headers, timeout=30
        )
        if response.status_code != 200:
            raise SystemExit(f"{kind.name}: {response.status_code} {response.text[:300]}")


def run_backend(
    wrk: str,
    backend: str,
    url: str,
    workers: list[int],
    seconds: float,
    workdir: Path,
    rounds: int = 1,
) -> list[Figure]:
    store = open_store(url)
    store.migrate()
    started = time.monotonic()
    setup = seed(store)
    print(
        f"{backend}: seeded the demo data set in {time.monotonic() - started:.1f} s",
        file=sys.stderr,
    )
    figures: list[Figure] = []
    try:
        for count in workers:
            with server(url, count, workdir / f"server-{backend}-{count}.log") as base:
                order = kinds(setup)
                for kind in order:
                    warm(base, setup, kind)
                # every kind once per round, /healthz first; /healthz again at the end
                for kind in [*order * rounds, order[0]]:
                    figure = drive(wrk, setup, kind, base, seconds, workdir, count)
                    print(
                        f"{backend} workers={count} {kind.name}: {figure.rps:,.1f} req/s, "
                        f"p50 {figure.p50_ms:.2f} ms, p99 {figure.p99_ms:.2f} ms"
                        + (f", {figure.errors} errors" if figure.errors else ""),
                        file=sys.stderr,
                    )
                    figures.append(figure)
    finally:
        store.close()
    return figures


def summary(figures: list[Figure], kind: str, workers: int) -> Figure:
    """One kind's figure for one worker count: the medians of its runs (requests and
    seconds summed, errors and notes of every run)."""
    runs = [f for f in figures if f.kind == kind and f.workers == workers]
    return Figure(
        kind,
        workers,
        sum(f.requests for f in runs),
        sum(f.seconds for f in runs),
        median(f.rps for f in runs),
        median(f.p50_ms for f in runs),
        median(f.p99_ms for f in runs),
        sum(f.errors for f in runs),
        [note for f in runs for note in f.notes],
    )


def report(console: Console, backend: str, figures: list[Figure], workers: list[int]) -> None:
    for count in workers:
        ceiling = summary(figures, "healthz", count).rps
        runs = sum(1 for f in figures if f.kind == "healthz" and f.workers == count)
        each = sum(1 for f in figures if f.kind == "totals_1" and f.workers == count)
        table = Table(
            title=f"{backend}, serve --workers {count}, {CONNECTIONS} connections (wrk), "
            f"medians of {each} run(s) per kind"
        )
        for column in ("request", "req/s", "p50", "p99", "p99/p50", "share of /healthz", "target"):
            table.add_column(column, justify="left" if column == "request" else "right")
        for kind in TITLES:
            figure = summary(figures, kind, count)
            label = TITLES[kind] + (f" ({runs} runs)" if kind == "healthz" else "")
            share = figure.rps / ceiling
            target = TARGETS.get(kind)
            verdict = ""
            if target is not None:
                verdict = f">= {target:.1%}: " + ("PASS" if share >= target else "MISS")
            if figure.errors:
                verdict += f" ({figure.errors} errors!)"
            table.add_row(
                label,
                f"{figure.rps:,.1f}",
                f"{figure.p50_ms:.2f} ms",
                f"{figure.p99_ms:.2f} ms",
                f"{figure.p99_ms / figure.p50_ms:.2f}x",
                f"{share:.1%}",
                verdict,
            )
        console.print(table)
    if len(workers) > 1:
        first, last = workers[0], workers[-1]
        gain = {}
        for kind in TITLES:
            gain[kind] = summary(figures, kind, last).rps / summary(figures, kind, first).rps
        table = Table(title=f"{backend}: --workers {last} over --workers {first}")
        for column in ("request", "gain", "share of /healthz's gain", "target"):
            table.add_column(column, justify="left" if column == "request" else "right")
        measurable = gain["healthz"] > 1.05  # else the machine had no second core to give
        for kind, value in gain.items():
            of_ceiling = (value - 1) / (gain["healthz"] - 1) if measurable else float("nan")
            goal = ""
            if kind == "totals_250":
                verdict = "PASS" if of_ceiling >= 0.8 else "MISS"
                goal = ">= 80%: " + (verdict if measurable else "not measurable")
            table.add_row(TITLES[kind], f"{value:.2f}x", f"{of_ceiling:.0%}", goal)
        console.print(table)
        if not measurable:
            console.print(
                f"/healthz gained {gain['healthz']:.2f}x with {last} workers: the machine was "
                "busy (another load on its cores), so the scaling figures mean nothing here"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.read", description=__doc__)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--seconds", type=float, default=5.0, help="per run of a kind")
    parser.add_argument("--rounds", type=int, default=3, help="runs of every kind, in turn")
    parser.add_argument("--json", metavar="FILE", help="also write every figure as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.seconds <= 0:
        parser.error("--rounds must be at least 1 and --seconds more than 0")
    workers = [int(w) for w in args.workers.split(",")]
    wrk = need_wrk()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    workdir = Path(tempfile.mkdtemp(prefix="engagement-bench-read-"))
    console = Console(width=150)
    every: dict[str, list[Figure]] = {}
    try:
        for backend in backends:
            if backend == "sqlite":
                url = f"sqlite:///{workdir / 'read.db'}"
                every[backend] = run_backend(
                    wrk, backend, url, workers, args.seconds, workdir, args.rounds
                )
            else:
                from bench.pg import EmbeddedPostgres

                cluster = (
                    EmbeddedPostgres()
                )  # (its own temporary directory: the server user needs access)
                try:
                    url = cluster.url(pool_max=20)
                    every[backend] = run_backend(
                        wrk, backend, url, workers, args.seconds, workdir, args.rounds
                    )
                finally:
                    cluster.destroy()
        console.print(
            f"run: {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}; "
            f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}; "
            f"{args.rounds} rounds of {args.seconds:g} s per kind; wrk -t1 -c{CONNECTIONS}"
        )
        for backend, figures in every.items():
            report(console, backend, figures, workers)
        if args.json:
            Path(args.json).write_bytes(
                orjson.dumps({b: [asdict(f) for f in fs] for b, fs in every.items()})
            )
    finally:
        if args.keep:
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
