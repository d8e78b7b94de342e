"""Load benchmark: a sustained mixed workload against the real server, then an exact count check.

    .venv/bin/python -m bench.load [--seconds 30 | --quick] [--clients 8] [--ingesters 2]
                                   [--database-url postgresql://...]

Sets up a fresh SQLite database in a temporary directory (or uses ``--database-url``; every ID
and idempotency key of a run is new, so an existing database is fine), with several apps (a high
rate limit: a 429 is an error here) and many users with access tokens, starts
``engagement-api serve --workers 2`` as a child process, and runs for a fixed time:

- client threads: POST /totals with the bearer token (public metrics, up to 100 Posts) and with
  OAuth 1.0a user context, /28hr and /historical with user context on the user's own Posts,
  each request from a random app and user;
- ingest threads: event batches with a new Idempotency-Key each, and some replays of keys already
  acknowledged (which must answer ``duplicate: true``).

Reported per kind: throughput, p50/p99/p999 latency and errors (any answer but 200, any
transport error). Baselines measured in the same run: GET /healthz under the same concurrency
(each p50 is printed as a ratio to its p50) and the in-process ``Loader.load_events`` rate on
batches of the same size (the ingest rate is printed as a ratio to it).

At the end, once every thread is done, /totals and /historical must answer for every Post
exactly the sum, computed here independently from the event records, of the distinct
acknowledged batches: no event lost, none doubled. Exit status 1 on any error or mismatch.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
from oauthlib.oauth1 import Client as OAuth1Signer
from rich.console import Console
from rich.table import Table

from engagement_api.clock import SystemClock
from engagement_api.ingest import Format
from engagement_api.service.credentials import create_app, create_ingest_key, create_token
from engagement_api.service.loading import Loader
from engagement_api.store import open_store

#: Event types sent (positive counts only, no video): views and interactions.
TYPES = (
    "impressions",
    "impressions",
    "impressions",
    "favorites",
    "favorites",
    "retweets",
    "replies",
    "quote_tweets",
    "url_clicks",
)
INTERACTIONS = frozenset({"favorites", "retweets", "replies", "quote_tweets", "url_clicks"})
PUBLIC = ["favorites", "quote_tweets", "replies", "retweets"]
TOTALS = ["engagements", "favorites", "impressions", "quote_tweets", "replies", "retweets"]
WINDOWED = [m for m in TOTALS if m != "quote_tweets"] + ["url_clicks"]  # no quote_tweets
READS = ("totals bearer", "totals user", "28hr user", "historical user")
PER_TWEET = {"perTweet": {"group_by": ["tweet.id", "engagement.type"]}}
RATE_LIMIT = 1_000_000_000  # per app and minute: no request of the benchmark is refused
EVENT_DAYS = 20  # events lie in the last 20 days (all inside /historical's default 28 days)
MARGIN = timedelta(minutes=10)  # and at least this long before now (the server's clock)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# -- the world: users, Posts, apps, tokens ----------------------------------------------------


@dataclass(frozen=True)
class Cred:
    key: str
    secret: str
    bearer: str
    tokens: dict[int, tuple[str, str]]  # user -> (access token, access token secret)


@dataclass
class World:
    run: str
    posts_of: dict[int, list[int]]  # user -> their Posts
    created: dict[int, datetime]
    apps: list[Cred] = field(default_factory=list)
    ingest_key: str = ""

    @property
    def posts(self) -> list[int]:
        return sorted(p for ps in self.posts_of.values() for p in ps)


def make_world(rng: random.Random, users: int, posts_per_user: int, now: datetime) -> World:
    run = secrets.token_hex(4)
    user_base = 10_000_000 + rng.randrange(10**9)
    post_base = 1_700_000_000_000_000_000 + rng.randrange(10**15) * 1000
    posts_of: dict[int, list[int]] = {}
    created: dict[int, datetime] = {}
    for u in range(users):
        posts_of[user_base + u] = []
        for i in range(posts_per_user):
            post = post_base + (u * posts_per_user + i) * 7
            posts_of[user_base + u].append(post)
            created[post] = (now - timedelta(days=EVENT_DAYS + 1 + rng.randrange(9))).replace(
                microsecond=0
            )
    return World(run, posts_of, created)


def ndjson(records: list[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


def load_world(loader: Loader, world: World) -> None:
    loader.load_users(
        ndjson([{"id": str(u), "handle": f"u{u}"} for u in world.posts_of]), Format.NDJSON
    )
    loader.load_tweets(
        ndjson(
            [
                {
                    "id": str(p),
                    "author_id": str(u),
                    "created_at": iso(world.created[p]),
                    "media": [],
                }
                for u, ps in world.posts_of.items()
                for p in ps
            ]
        ),
        Format.NDJSON,
    )


def make_batch(rng: random.Random, posts: list[int], size: int) -> tuple[bytes, Counter[Any]]:
    """An NDJSON event batch and what it adds: (Post, metric) -> count, computed here from the
    records (every count adds to its type; an interaction also adds to engagements)."""
    now = datetime.now(UTC)
    latest = now - MARGIN
    span = int((latest - (now - timedelta(days=EVENT_DAYS))).total_seconds())
    records = []
    adds: Counter[Any] = Counter()
    for _ in range(size):
        post = rng.choice(posts)
        kind = rng.choice(TYPES)
        count = 1 if rng.random() < 0.8 else rng.randrange(2, 40)
        at = latest - timedelta(seconds=rng.randrange(span))
        record: dict[str, Any] = {"tweet_id": str(post), "type": kind, "at": iso(at)}
        if count != 1:
            record["count"] = count
        records.append(record)
        adds[(post, kind)] += count
        if kind in INTERACTIONS:
            adds[(post, "engagements")] += count
    return ndjson(records), adds


# -- measurements -----------------------------------------------------------------------------


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    samples: dict[str, str] = field(default_factory=dict)  # kind -> first error seen

    def add(self, kind: str, seconds: float, problem: str | None) -> None:
        self.latencies.setdefault(kind, []).append(seconds)
        if problem is not None:
            self.errors[kind] += 1
            self.samples.setdefault(kind, problem)

    def merge(self, other: Tally) -> None:
        for kind, values in other.latencies.items():
            self.latencies.setdefault(kind, []).extend(values)
        self.errors.update(other.errors)
        for kind, text in other.samples.items():
            self.samples.setdefault(kind, text)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.999999) - 1))]


def timed(
    client: httpx.Client, tally: Tally, kind: str, method: str, url: str, **kwargs: Any
) -> httpx.Response | None:
    start = time.perf_counter()
    try:
        response = client.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        tally.add(kind, time.perf_counter() - start, f"transport: {exc!r}")
        return None
    seconds = time.perf_counter() - start
    ok = response.status_code == 200
    tally.add(kind, seconds, None if ok else f"{response.status_code}: {response.text[:200]}")
    return response if ok else None


# -- the client threads ------------------------------------------------------------------------


def healthz_loop(base: str, stop: threading.Event, tally: Tally) -> None:
    with httpx.Client(base_url=base, timeout=30.0) as client:
        while not stop.is_set():
            timed(client, tally, "healthz", "GET", "/healthz")


def read_loop(base: str, world: World, seed: int, stop: threading.Event, tally: Tally) -> None:
    rng = random.Random(seed)
    every = world.posts
    users = list(world.posts_of)
    with httpx.Client(base_url=base, timeout=30.0) as client:
        while not stop.is_set():
            app = rng.choice(world.apps)
            kind = rng.choice(READS)
            if kind == "totals bearer":
                ids = rng.sample(every, min(100, len(every)))
                body = {
                    "tweet_ids": [str(i) for i in ids],
                    "engagement_types": PUBLIC,
                    "groupings": PER_TWEET,
                }
                headers = {"Authorization": f"Bearer {app.bearer}"}
            else:
                user = rng.choice(users)
                own = world.posts_of[user]
                ids = rng.sample(own, rng.randint(1, min(25, len(own))))
                metrics = TOTALS if kind == "totals user" else WINDOWED
                body = {
                    "tweet_ids": [str(i) for i in ids],
                    "engagement_types": metrics,
                    "groupings": PER_TWEET,
                }
                headers = user_auth(base, kind.split()[0], app, user)
            headers["Content-Type"] = "application/json"
            timed(
                client,
                tally,
                kind,
                "POST",
                f"/insights/engagement/{kind.split()[0]}",
                content=orjson.dumps(body),
                headers=headers,
            )


def user_auth(base: str, endpoint: str, app: Cred, user: int) -> dict[str, str]:
    token, token_secret = app.tokens[user]
    signer = OAuth1Signer(
        app.key,
        client_secret=app.secret,
        resource_owner_key=token,
        resource_owner_secret=token_secret,
    )
    _, headers, _ = signer.sign(f"{base}/insights/engagement/{endpoint}", http_method="POST")
    return dict(headers)


@dataclass
class Ledger:
    """Acknowledged batches: key -> (body, what it adds). Shared by the ingest threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    acked: dict[str, tuple[bytes, Counter[Any]]] = field(default_factory=dict)
    applied_events: int = 0  # sum of "accepted" of the answers with duplicate: false
    replays: int = 0
    doubled: list[str] = field(default_factory=list)  # a replay answered duplicate: false


def ingest_loop(
    base: str,
    world: World,
    seed: int,
    size: int,
    stop: threading.Event,
    tally: Tally,
    ledger: Ledger,
) -> None:
    rng = random.Random(seed)
    every = world.posts
    sent = 0
    with httpx.Client(base_url=base, timeout=60.0) as client:
        while not stop.is_set():
            with ledger.lock:
                old = (
                    rng.choice(list(ledger.acked)) if ledger.acked and rng.random() < 0.2 else None
                )
            if old is not None:
                key, (body, _) = old, ledger.acked[old]
                kind = "ingest replay"
            else:
                key = f"load-{world.run}-{seed}-{sent:06d}"
                sent += 1
                body, adds = make_batch(rng, every, size)
                kind = "ingest batch"
            response = timed(
                client,
                tally,
                kind,
                "POST",
                "/ingest/events",
                content=body,
                headers={
                    "Authorization": f"Bearer {world.ingest_key}",
                    "Content-Type": "application/x-ndjson",
                    "Idempotency-Key": key,
                },
            )
            if response is None:
                continue
            answer = response.json()
            with ledger.lock:
                if old is not None:
                    ledger.replays += 1
                    if answer.get("duplicate") is not True:
                        ledger.doubled.append(key)
                elif answer.get("duplicate") is True:
                    ledger.doubled.append(key)  # a new key must never be a duplicate
                else:
                    ledger.acked[key] = (body, adds)
                    ledger.applied_events += int(answer["accepted"])


def run_threads(seconds: float, targets: list[Any]) -> tuple[list[Tally], float]:
    """Run each ``target(stop, tally)`` in a thread for ``seconds``; wait for all of them (so for
    every request in flight). Returns their tallies and the elapsed time."""
    stop = threading.Event()
    tallies = [Tally() for _ in targets]
    threads = [
        threading.Thread(target=t, args=(stop, tally), daemon=True)
        for t, tally in zip(targets, tallies, strict=True)
    ]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    return tallies, time.perf_counter() - start


# -- the server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(url: str, workers: int, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "engagement_api.cli",
                "serve",
                "--workers",
                str(workers),
                "--port",
                str(port),
                "--database-url",
                url,
                "--log-level",
                "warning",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    with httpx.Client(timeout=1.0) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}: {log.read_text()}")
            try:
                if client.get(base + "/readyz").status_code == 200:
                    return proc, base
            except httpx.TransportError:
                pass
            time.sleep(0.05)
    stop_server(proc)
    raise RuntimeError(f"server did not become ready: {log.read_text()}")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # the group of the server started here
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


# -- the final check ---------------------------------------------------------------------------


def verify(base: str, world: World, ledger: Ledger) -> list[str]:
    """Every count the API answers, against the sum of the distinct acknowledged batches."""
    expected: Counter[Any] = Counter()
    for _, adds in ledger.acked.values():
        expected.update(adds)
    problems: list[str] = []

    def compare(
        where: str, got: dict[str, dict[str, str]], posts: list[int], metrics: list[str]
    ) -> None:
        for post in posts:
            for metric in metrics:
                want = expected[(post, metric)]
                have = int(got.get(str(post), {}).get(metric, "-1"))
                if have != want:
                    problems.append(f"{where}: Post {post} {metric}: {have}, expected {want}")

    app = world.apps[0]
    with httpx.Client(base_url=base, timeout=60.0) as client:
        every = world.posts
        for i in range(0, len(every), 250):
            chunk = every[i : i + 250]
            response = client.post(
                "/insights/engagement/totals",
                content=orjson.dumps(
                    {
                        "tweet_ids": [str(p) for p in chunk],
                        "engagement_types": PUBLIC,
                        "groupings": PER_TWEET,
                    }
                ),
                headers={
                    "Authorization": f"Bearer {app.bearer}",
                    "Content-Type": "application/json",
                },
            )
            if response.status_code != 200:
                problems.append(f"/totals bearer: {response.status_code} {response.text[:200]}")
                continue
            compare("/totals bearer", response.json()["perTweet"], chunk, PUBLIC)
        for user, own in world.posts_of.items():
            for endpoint, metrics in (("totals", TOTALS), ("historical", WINDOWED)):
                headers = user_auth(base, endpoint, app, user)
                headers["Content-Type"] = "application/json"
                response = client.post(
                    f"/insights/engagement/{endpoint}",
                    content=orjson.dumps(
                        {
                            "tweet_ids": [str(p) for p in own],
                            "engagement_types": metrics,
                            "groupings": PER_TWEET,
                        }
                    ),
                    headers=headers,
                )
                if response.status_code != 200:
                    problems.append(f"/{endpoint}: {response.status_code} {response.text[:200]}")
                    continue
                compare(f"/{endpoint} user", response.json()["perTweet"], own, metrics)
    sent_events = sum(body.count(b"\n") for body, _ in ledger.acked.values())
    if ledger.applied_events != sent_events:
        problems.append(f"accepted {ledger.applied_events} events, sent {sent_events}")
    problems.extend(f"replay of {key} not answered as a duplicate" for key in ledger.doubled)
    return problems


# -- main --------------------------------------------------------------------------------------


def loader_rate(loader: Loader, world: World, rng: random.Random, size: int, batches: int) -> float:
    """The in-process baseline: events/s of ``Loader.load_events`` on batches of ``size``."""
    posts = world.posts
    bodies = [make_batch(rng, posts, size)[0] for _ in range(batches)]
    start = time.perf_counter()
    for i, body in enumerate(bodies):
        loader.load_events(body, Format.NDJSON, f"load-{world.run}-baseline-{i:04d}")
    return size * batches / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--seconds", type=float, default=30.0, help="mixed phase (default 30)")
    parser.add_argument("--quick", action="store_true", help="10 s instead")
    parser.add_argument("--clients", type=int, default=8, help="read threads (default 8)")
    parser.add_argument("--ingesters", type=int, default=2, help="ingest threads (default 2)")
    parser.add_argument("--batch-size", type=int, default=200, help="events per batch")
    parser.add_argument("--apps", type=int, default=4)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--posts-per-user", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2, help="server workers (default 2)")
    parser.add_argument("--database-url", help="an existing database (default: a new SQLite)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    seconds = 10.0 if args.quick else args.seconds
    console = Console(width=120)
    rng = random.Random(args.seed)
    clock = SystemClock()

    with tempfile.TemporaryDirectory(prefix="engagement-load-") as tmp:
        url = args.database_url or f"sqlite:///{tmp}/load.db"
        store = open_store(url)
        store.migrate()
        loader = Loader(store, store, clock)
        world = make_world(rng, args.users, args.posts_per_user, clock.now())
        load_world(loader, world)
        for a in range(args.apps):
            issued = create_app(store, clock, f"load {world.run} {a}", RATE_LIMIT)
            tokens = {}
            for user in world.posts_of:
                t = create_token(store, clock, issued.consumer_key, user)
                tokens[user] = (t.token, t.secret)
            world.apps.append(
                Cred(issued.consumer_key, issued.consumer_secret, issued.bearer_token, tokens)
            )
        world.ingest_key = create_ingest_key(store, clock)
        # baseline Posts of their own, so the check below is not disturbed
        base_world = make_world(rng, 5, 10, clock.now())
        load_world(loader, base_world)
        base_world.run = world.run
        loader_eps = loader_rate(loader, base_world, rng, args.batch_size, 20)
        store.close()

        proc, base = start_server(url, args.workers, Path(tmp) / "server.log")
        try:
            threads = args.clients + args.ingesters
            healthz_seconds = max(3.0, seconds / 5)
            healthz, healthz_elapsed = run_threads(
                healthz_seconds, [lambda stop, tally: healthz_loop(base, stop, tally)] * threads
            )
            ledger = Ledger()
            targets: list[Any] = [
                (lambda stop, tally, s=s: read_loop(base, world, s, stop, tally))
                for s in range(args.clients)
            ] + [
                (
                    lambda stop, tally, s=s: ingest_loop(
                        base, world, 1000 + s, args.batch_size, stop, tally, ledger
                    )
                )
                for s in range(args.ingesters)
            ]
            mixed, elapsed = run_threads(seconds, targets)
            problems = verify(base, world, ledger)
        finally:
            stop_server(proc)
        log = (Path(tmp) / "server.log").read_text()

    base_tally, tally = Tally(), Tally()
    for part in healthz:
        base_tally.merge(part)
    for part in mixed:
        tally.merge(part)
    report(
        console,
        args,
        url if args.database_url else "sqlite (temporary file)",
        seconds,
        base_tally,
        healthz_elapsed,
        tally,
        elapsed,
        ledger,
        loader_eps,
        threads,
    )
    errors = sum(tally.errors.values()) + sum(base_tally.errors.values())
    for kind, text in {**base_tally.samples, **tally.samples}.items():
        console.print(f"[red]first error of {kind}:[/red] {text}")
    for problem in problems[:20]:
        console.print(f"[red]mismatch:[/red] {problem}")
    if errors or problems:
        if log.strip():
            console.print("server log (tail):\n" + log[-2000:])
        console.print(f"[red bold]FAILED[/red bold]: {errors} errors, {len(problems)} mismatches")
        return 1
    console.print(
        f"[green bold]OK[/green bold]: 0 errors; {len(ledger.acked)} distinct batches "
        f"({ledger.applied_events} events) and {ledger.replays} replays acknowledged; every "
        f"count of {len(world.posts)} Posts on /totals (bearer and user) and /historical equals "
        f"the independent sum: 0 lost, 0 doubled"
    )
    return 0


def report(
    console: Console,
    args: argparse.Namespace,
    database: str,
    seconds: float,
    base: Tally,
    base_elapsed: float,
    tally: Tally,
    elapsed: float,
    ledger: Ledger,
    loader_eps: float,
    threads: int,
) -> None:
    load1, load5, _ = os.getloadavg()
    console.print(
        f"engagement-api load benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: "
        f"{os.cpu_count()} cores, load average {load1:.2f} (1 min) {load5:.2f} (5 min); "
        f"{database}, {args.workers} server workers; {args.clients} read + {args.ingesters} "
        f"ingest threads for {seconds:g} s; {args.apps} apps, {args.users} users, "
        f"{args.users * args.posts_per_user} Posts; batches of {args.batch_size} events"
    )
    ref = percentile(base.latencies["healthz"], 0.5)
    table = Table(
        title="latency in ms; p50/healthz = p50 / p50 of GET /healthz under the same "
        f"concurrency ({threads} threads), measured first in this run"
    )
    for column in ("kind", "requests", "req/s", "p50", "p99", "p999", "p50/healthz", "errors"):
        table.add_column(column, justify="left" if column == "kind" else "right")

    def row(kind: str, values: list[float], took: float, errors: int) -> None:
        p50 = percentile(values, 0.5)
        table.add_row(
            kind,
            str(len(values)),
            f"{len(values) / took:,.0f}",
            f"{p50 * 1e3:.2f}",
            f"{percentile(values, 0.99) * 1e3:.2f}",
            f"{percentile(values, 0.999) * 1e3:.2f}",
            f"{p50 / ref:.1f}",
            str(errors),
        )

    row("healthz (baseline)", base.latencies["healthz"], base_elapsed, base.errors["healthz"])
    every: list[float] = []
    for kind in (*READS, "ingest batch", "ingest replay"):
        values = tally.latencies.get(kind, [])
        if values:
            row(kind, values, elapsed, tally.errors[kind])
            every.extend(values)
    row("all (mixed)", every, elapsed, sum(tally.errors.values()))
    console.print(table)
    eps = ledger.applied_events / elapsed
    console.print(
        f"ingest: {ledger.applied_events:,} events in {len(ledger.acked)} batches, "
        f"{eps:,.0f} events/s over HTTP while serving reads; in-process Loader.load_events on "
        f"batches of {args.batch_size} (baseline, this run): {loader_eps:,.0f} events/s; "
        f"ratio {eps / loader_eps:.2f}"
    )


if __name__ == "__main__":
    sys.exit(main())
