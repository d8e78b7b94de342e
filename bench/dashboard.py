"""``python -m bench.dashboard``: the dashboard's pages beside the read API calls they make.

A fresh SQLite store holds one user with 1,000 Posts created over 3 years and a year of events
(seeded through the real load path, :class:`~engagement_api.service.loading.Loader`); the real
server (``python -m bench.server``, the benchmark's fixed clock) answers, over HTTP with
keep-alive, in the same run, interleaved run by run:

- the overview of that user over the 3 years (``GET /dashboard?user=...``), beside the four
  ``/totals`` requests of 250 Posts it makes (the same bodies, signed OAuth 1.0a user context,
  one after the other);
- a Post's page with its default range of 28 days, beside its ``/totals`` + ``/28hr`` +
  ``/historical`` (one 28-day window) requests;
- the same page over a year (365 days: 14 windows), beside its ``/totals`` + ``/28hr`` + 14
  ``/historical`` requests;
- that year's CSV (every hour with a count), beside the same 14 ``/historical`` requests of
  the 4-level grouping.

Each figure is the page's p50 and p99 and the p50 of its API calls, as a ratio: what the page
costs beyond reading its numbers (HTML, charts, CSV). Absolute times are noise here (2 shared
cores); the ratios are the result. Nothing is asserted.

    python -m bench.dashboard [--runs 30] [--json FILE] [--keep]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
from rich.console import Console
from rich.table import Table

from bench.report import machine
from bench.server import Server
from bench.timing import percentile
from engagement_api.client.auth import OAuth1User
from engagement_api.clock import ManualClock
from engagement_api.contract.times import ceil_hour, format_timestamp
from engagement_api.contract.windows import MAX_SPAN
from engagement_api.ingest import Format
from engagement_api.service import credentials
from engagement_api.service.dashboard import TOTALS_METRICS, WINDOWED_METRICS
from engagement_api.service.loading import Loader
from engagement_api.store import Store, open_store

NOW = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)
USER = 4242
POSTS = 1000
YEARS_DAYS = 3 * 365
PREFIX = "/insights/engagement"
TYPES = ("impressions", "favorites", "retweets", "replies", "url_clicks", "detail_expands")


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def seed(store: Store, clock: ManualClock) -> list[int]:
    """The user, 1,000 Posts over 3 years (newest first in the answer), a year of events."""
    loader = Loader(store, store, clock)
    loader.load_users(orjson.dumps({"id": str(USER), "handle": "busy"}) + b"\n", Format.NDJSON)
    posts = [
        (10**15 + i, NOW - timedelta(days=YEARS_DAYS * i / POSTS, hours=1)) for i in range(POSTS)
    ]
    tweets = b"".join(
        orjson.dumps({"id": str(pid), "author_id": str(USER), "created_at": _iso(at)}) + b"\n"
        for pid, at in posts
    )
    loader.load_tweets(tweets, Format.NDJSON)
    lines: list[bytes] = []
    year_ago = NOW - timedelta(days=365)
    for n, (pid, created) in enumerate(posts):
        start = max(created, year_ago)
        step = timedelta(hours=1) if n == 0 else timedelta(days=5, hours=n % 24)
        at = NOW - timedelta(minutes=1)
        while at > start:
            for k, kind in enumerate(TYPES):
                count = 1 + (n + k + int(at.timestamp()) // 3600) % (
                    7 if kind == "impressions" else 3
                )
                record = {"tweet_id": str(pid), "type": kind, "at": _iso(at), "count": count}
                lines.append(orjson.dumps(record))
            at -= step
    loader.load_events(b"\n".join(lines) + b"\n", Format.NDJSON, key="bench-dashboard")
    print(
        f"seeded {POSTS} Posts over {YEARS_DAYS} days, {len(lines):,} event lines", file=sys.stderr
    )
    return [pid for pid, _ in posts]


def _totals_bodies(ids: Sequence[int]) -> list[dict[str, Any]]:
    return [
        {
            "tweet_ids": [str(i) for i in ids[k : k + 250]],
            "engagement_types": list(TOTALS_METRICS),
            "groupings": {"p": {"group_by": ["tweet.id", "engagement.type"]}},
        }
        for k in range(0, len(ids), 250)
    ]


def _windows(days: int) -> list[tuple[datetime, datetime]]:
    today = NOW.replace(hour=0, minute=0, second=0, microsecond=0)
    first, last = today + timedelta(days=1) - timedelta(days=days), ceil_hour(NOW)
    found = []
    while first < last:
        found.append((first, min(first + MAX_SPAN, last)))
        first += MAX_SPAN
    return found


def _post_calls(
    pid: int, days: int, levels: list[str], page: bool
) -> list[tuple[str, dict[str, Any]]]:
    calls: list[tuple[str, dict[str, Any]]] = []
    ids = [str(pid)]
    if page:
        calls.append(("totals", _totals_bodies([pid])[0]))
        three = ["engagement.type", "engagement.day", "engagement.hour"]
        calls.append(
            (
                "28hr",
                {
                    "tweet_ids": ids,
                    "engagement_types": list(WINDOWED_METRICS),
                    "groupings": {"h": {"group_by": three}},
                },
            )
        )
    for first, last in _windows(days):
        calls.append(
            (
                "historical",
                {
                    "tweet_ids": ids,
                    "engagement_types": list(WINDOWED_METRICS),
                    "groupings": {"g": {"group_by": levels}},
                    "start": format_timestamp(first),
                    "end": format_timestamp(last),
                },
            )
        )
    return calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboard")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    url = f"sqlite:///{work / 'dashboard.db'}"
    clock = ManualClock(NOW)
    store = open_store(url)
    store.migrate()
    ids = seed(store, clock)
    app = credentials.create_app(store, clock, "bench", 1_000_000)
    token = credentials.create_token(store, clock, app.consumer_key, USER)
    admin_key = credentials.create_admin_key(store, clock)
    store.close()
    auth = OAuth1User(
        app.consumer_key, app.consumer_secret, token.token, token.secret, clock=NOW.timestamp
    )
    server = Server(url, NOW, str(work / "server.log"))
    try:
        server.wait_ready()
        with (
            httpx.Client(base_url=server.base_url, timeout=120) as web,
            httpx.Client(base_url=server.base_url + PREFIX, auth=auth, timeout=120) as api,
        ):
            form = web.get("/dashboard/sign-in").text
            csrf = re.search(r'name="csrf" value="([^"]+)"', form)
            assert csrf is not None
            signed = web.post("/dashboard/sign-in", data={"csrf": csrf[1], "admin_key": admin_key})
            assert signed.status_code == 303, signed.text
            figures = run_all(web, api, ids, args.runs)
    finally:
        server.stop()
    report(figures, args.runs)
    if args.json:
        args.json.write_text(
            orjson.dumps(
                {"machine": machine(), "figures": figures}, option=orjson.OPT_INDENT_2
            ).decode()
        )
    if not args.keep:
        for path in sorted(work.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        work.rmdir()
    return 0


def _get(web: httpx.Client, path: str) -> Callable[[], None]:
    def call() -> None:
        answer = web.get(path)
        if answer.status_code != 200:
            raise RuntimeError(f"{path}: {answer.status_code} {answer.text[:300]}")

    return call


def _calls(api: httpx.Client, calls: list[tuple[str, dict[str, Any]]]) -> Callable[[], None]:
    bodies = [(f"/{endpoint}", orjson.dumps(body)) for endpoint, body in calls]

    def call() -> None:
        for path, body in bodies:
            answer = api.post(path, content=body, headers={"content-type": "application/json"})
            if answer.status_code != 200:
                raise RuntimeError(f"{path}: {answer.status_code} {answer.text[:300]}")

    return call


def _interleaved(
    page: Callable[[], None], calls: Callable[[], None], runs: int
) -> tuple[list[float], list[float]]:
    ours: list[float] = []
    theirs: list[float] = []
    page()  # warm up
    calls()
    for i in range(runs):
        order = [(page, ours), (calls, theirs)] if i % 2 == 0 else [(calls, theirs), (page, ours)]
        for func, into in order:
            start = time.perf_counter()
            func()
            into.append(time.perf_counter() - start)
    return ours, theirs


def run_all(
    web: httpx.Client, api: httpx.Client, ids: list[int], runs: int
) -> dict[str, dict[str, Any]]:
    newest = ids[0]
    start_3y = (NOW - timedelta(days=YEARS_DAYS + 1)).date().isoformat()
    year = (NOW + timedelta(days=1) - timedelta(days=365)).date().isoformat()
    four = ["tweet.id", "engagement.type", "engagement.day", "engagement.hour"]
    two = ["engagement.type", "engagement.day"]
    cases = {
        "overview": (
            f"/dashboard?user={USER}&start={start_3y}&metric=engagements",
            _post_calls_overview(ids),
            "overview, 1,000 Posts over 3 years",
            "4 x /totals of 250 Posts",
        ),
        "post_28d": (
            f"/dashboard/posts/{newest}",
            _post_calls(newest, 28, two, page=True),
            "Post page, 28 days",
            "/totals + /28hr + 1 x /historical",
        ),
        "post_365d": (
            f"/dashboard/posts/{newest}?start={year}",
            _post_calls(newest, 365, two, page=True),
            "Post page, 365 days",
            "/totals + /28hr + 14 x /historical",
        ),
        "post_csv_365d": (
            f"/dashboard/posts/{newest}.csv?start={year}",
            _post_calls(newest, 365, four, page=False),
            "Post CSV, 365 days, every hour",
            "14 x /historical, 4 levels",
        ),
    }
    figures: dict[str, dict[str, Any]] = {}
    for name, (path, calls, title, baseline) in cases.items():
        print(f"timing {title} ...", file=sys.stderr)
        ours, theirs = _interleaved(_get(web, path), _calls(api, calls), runs)
        figures[name] = {
            "title": title,
            "baseline": baseline,
            "requests": len(calls),
            "page_p50_ms": percentile(ours, 50) * 1e3,
            "page_p99_ms": percentile(ours, 99) * 1e3,
            "api_p50_ms": percentile(theirs, 50) * 1e3,
            "api_p99_ms": percentile(theirs, 99) * 1e3,
            "ratio_p50": percentile(ours, 50) / percentile(theirs, 50),
        }
    return figures


def _post_calls_overview(ids: list[int]) -> list[tuple[str, dict[str, Any]]]:
    return [("totals", body) for body in _totals_bodies(sorted(ids))]


def report(figures: dict[str, dict[str, Any]], runs: int) -> None:
    info = machine()
    table = Table(
        title=f"the dashboard beside its API calls, same server, same run ({runs} runs each)"
    )
    for column in ("page", "p50", "p99", "its API calls", "p50", "p99", "page / calls (p50)"):
        table.add_column(
            column, justify="right" if column != "page" and column != "its API calls" else "left"
        )
    for f in figures.values():
        table.add_row(
            f["title"],
            f"{f['page_p50_ms']:.1f} ms",
            f"{f['page_p99_ms']:.1f} ms",
            f["baseline"],
            f"{f['api_p50_ms']:.1f} ms",
            f"{f['api_p99_ms']:.1f} ms",
            f"{f['ratio_p50']:.2f}x",
        )
    console = Console(width=160)
    console.print(
        f"run: {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}; {info['cores']} cores ({info['cpu']}); "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    console.print(table)


if __name__ == "__main__":
    sys.exit(main())
