"""The benchmark's stages: setup, file ingest, /totals, /historical, HTTP.

Every figure is measured beside its baseline in the same run, interleaved where possible, and
the read answers are checked equal to the baseline's before anything is timed. The same stages
run on SQLite (a file in the work directory) and on PostgreSQL (the store and ``raw_events`` in
one database).
"""

from __future__ import annotations

import contextlib
import cProfile
import gc
import gzip
import io
import os
import pstats
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any, cast

import httpx
import orjson
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_TYPE_AUTH_HEADER, Client
from rich.console import Console

from bench import synth
from bench.baseline import PgRawEvents, RawEvents
from bench.server import Server
from bench.timing import Latency, interleaved, timed
from engagement_api.clock import ManualClock
from engagement_api.contract.metrics import Endpoint
from engagement_api.ingest import Format
from engagement_api.service import credentials
from engagement_api.service.loading import EventSource, Loader
from engagement_api.service.reading import EngagementReader
from engagement_api.settings import Settings
from engagement_api.store import Store, open_store

EVENTS_PER_FILE = 1_000_000
HTTP_BATCH = 100_000
#: events/s, file ingest, this 2-core machine, per backend
INGEST_TARGETS = {"sqlite": 500_000, "postgresql": 300_000}
TOTALS_TARGET = 50.0  # speed-up over the raw-events baseline at 10M events
TOTALS_TARGET_EVENTS = 10_000_000
QUERY_SETS = 5  # distinct request bodies per endpoint, cycled through the runs
THROUGHPUT_CLIENTS = 4  # concurrent HTTP clients of the throughput figure
THROUGHPUT_REQUESTS = 400  # /totals requests they send in all

TOTALS_IDS = 250
TOTALS_METRICS = [
    "engagements",
    "favorites",
    "impressions",
    "quote_tweets",
    "replies",
    "retweets",
    "video_views",
]
TOTALS_GROUPINGS = {
    "perTweet": {"group_by": ["tweet.id", "engagement.type"]},
    "Grand Totals": {"group_by": ["engagement.type"]},
}
HISTORICAL_IDS = 25
HISTORICAL_METRICS = [
    "detail_expands",
    "engagements",
    "favorites",
    "impressions",
    "replies",
    "retweets",
    "url_clicks",
    "video_views",
]
HISTORICAL_GROUPINGS = {
    "hourly": {"group_by": ["tweet.id", "engagement.type", "engagement.day", "engagement.hour"]}
}


class Mismatch(Exception):
    """Ours and the baseline answered differently: the figures would mean nothing."""


@dataclass
class Options:
    backend: str  # "sqlite" or "postgresql"
    events: int
    runs: int
    http_batches: int
    workers: int
    seed: int
    http: bool
    profile: Path | None


@dataclass
class Results:
    """Everything measured, JSON-ready."""

    info: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, dict[str, Any]] = field(default_factory=dict)


class Bench:
    def __init__(
        self, options: Options, workdir: Path, console: Console, database_url: str | None = None
    ) -> None:
        """On SQLite the database is ``bench.db`` in ``workdir``; on PostgreSQL it is the
        (empty) database of ``database_url``."""
        self.options = options
        self.workdir = workdir
        self.console = console
        self.results = Results()
        self.db_path = workdir / "bench.db"
        self.postgres = options.backend == "postgresql"
        if self.postgres:
            if database_url is None:
                raise ValueError("the PostgreSQL benchmark needs a database URL")
            self.db_url = database_url
        else:
            self.db_url = f"sqlite:///{self.db_path}"
        self.clock = ManualClock(synth.NOW)
        self.now = synth.NOW
        self.store: Store = open_store(self.db_url)
        self.store.migrate()
        self.settings = Settings(database_url=self.db_url, clock=self.clock)
        self.loader = Loader(self.store, self.store, self.clock)
        self.reader = EngagementReader(self.store, self.store, self.settings)
        self.raw = PgRawEvents(self.db_url) if self.postgres else RawEvents(str(self.db_path))
        self.world = synth.build_world(options.seed)
        self.rng = random.Random(options.seed + 1)
        self.bodies: dict[Endpoint, list[bytes]] = {}
        self.in_process: dict[Endpoint, Latency] = {}
        self.http_latency: dict[Endpoint, Latency] = {}

    def log(self, text: str) -> None:
        self.console.log(text)

    # -- 1. setup --------------------------------------------------------------------------

    def setup(self) -> list[Path]:
        world = self.world
        self.store.upsert_users(world.users)
        self.store.upsert_posts(world.posts)
        self.raw.create()
        self.log(
            f"catalog: {len(world.users)} users, {len(world.posts)} Posts "
            f"({len(world.owner_posts)} by the owner); synthesising {self.options.events:,} events"
        )
        seconds, files = timed(
            synth.write_event_files,
            world,
            self.workdir,
            self.options.events,
            EVENTS_PER_FILE,
            self.options.seed,
        )
        files = cast(list[Path], files)
        size = sum(p.stat().st_size for p in files)
        self.log(
            f"synthesised {len(files)} NDJSON files, {size / 2**20:,.0f} MiB, in {seconds:.1f} s"
        )
        self.results.info.update(
            users=len(world.users),
            posts=len(world.posts),
            owner_posts=len(world.owner_posts),
            events=self.options.events,
            files=len(files),
            ndjson_mib=round(size / 2**20, 1),
            synthesis_seconds=round(seconds, 2),
            now=self.now.isoformat(),
        )
        return files

    # -- 2. file ingest --------------------------------------------------------------------

    def ingest(self, files: list[Path]) -> None:
        """Two ways of loading files, each timed beside the baseline's inserts of the same
        files: the first half one file per call (``Loader.load_events``, alternating with the
        baseline file by file), the second half in one call (``Loader.load_event_files``, what
        ``engagement-api load events FILE...`` runs: the next file is validated while the
        store applies the current one), after the baseline has taken those files. The target
        is read on the second way; its files meet the larger store (conservative)."""
        half = len(files) // 2
        base_s = 0.0
        single_s, single_events = 0.0, 0
        per_file: list[float] = []
        for i, path in enumerate(files[:half]):
            data = path.read_bytes()
            gc.collect()
            steps: list[tuple[str, Callable[[], Any]]] = [
                ("ours", partial(self.loader.load_events, data, Format.NDJSON)),
                ("base", partial(self.raw.insert, data)),
            ]
            if i % 2:
                steps.reverse()
            for name, step in steps:
                seconds, result = timed(step)
                gc.collect()
                if name == "ours":
                    if result.duplicate:
                        raise RuntimeError(f"{path.name} was taken as a duplicate")
                    single_s += seconds
                    single_events += result.accepted
                    per_file.append(result.accepted / seconds)
                else:
                    base_s += seconds
            del data, steps
            self.log(
                f"file {i + 1}/{len(files)}, one per call: ours {per_file[-1]:,.0f} events/s "
                f"(running total {single_events / single_s:,.0f}/s)"
            )
        rest = files[half:]
        for path in rest:
            data = path.read_bytes()
            gc.collect()
            seconds, _ = timed(self.raw.insert, data)
            base_s += seconds
            del data
        self.log(f"baseline inserted files {half + 1}-{len(files)}")
        gc.collect()

        def source(path: Path) -> EventSource:
            return lambda: (path.read_bytes(), Format.NDJSON, None)

        events = 0
        start = last = time.perf_counter()
        for result in self.loader.load_event_files(map(source, rest)):
            if result.duplicate:
                raise RuntimeError(f"batch {result.key} was taken as a duplicate")
            now = time.perf_counter()
            per_file.append(result.accepted / (now - last))
            last = now
            events += result.accepted
        ours_s = time.perf_counter() - start
        self.log(f"files {half + 1}-{len(files)} in one call: ours {events / ours_s:,.0f} events/s")
        index_s, _ = timed(self.raw.build_index)
        self.log(f"baseline index built in {index_s:.1f} s")
        ours_rate = events / ours_s
        base_rate = (single_events + events) / (base_s + index_s)
        target = INGEST_TARGETS[self.options.backend]
        self.results.figures["file_ingest"] = {
            "events": events,
            "files": len(rest),
            "ours_seconds": ours_s,
            "ours_events_per_s": ours_rate,
            "ours_per_file_events_per_s": per_file,
            "single_events": single_events,
            "single_seconds": single_s,
            "single_events_per_s": single_events / single_s if single_s else None,
            "single_ratio": single_events / single_s / base_rate if single_s else None,
            "baseline_insert_seconds": base_s,
            "baseline_index_seconds": index_s,
            "baseline_events_per_s": base_rate,
            "ratio": ours_rate / base_rate,
            "target_events_per_s": target,
            "target_met": ours_rate >= target,
        }
        if self.postgres:
            self._pg_settle()
            self._pg_storage_info()
        else:
            self._storage_info()

    def _pg_settle(self) -> None:
        """After the bulk load, before the reads (untimed, for both sides alike): ``VACUUM
        (ANALYZE)`` (planner statistics, visibility map), then ``CHECKPOINT``, so that neither
        autovacuum nor a checkpoint runs during the timed reads."""
        import psycopg

        with psycopg.connect(self.db_url, autocommit=True) as conn:
            vacuum_s, _ = timed(conn.execute, "VACUUM (ANALYZE)")
            try:
                checkpoint_s, _ = timed(conn.execute, "CHECKPOINT")
            except psycopg.errors.InsufficientPrivilege:
                checkpoint_s = float("nan")  # a server of someone else's: not ours to force
        self.results.info["pg_vacuum_analyze_seconds"] = round(vacuum_s, 2)
        self.results.info["pg_checkpoint_seconds"] = round(checkpoint_s, 2)
        self.log(f"VACUUM (ANALYZE) {vacuum_s:.1f} s, CHECKPOINT {checkpoint_s:.1f} s (untimed)")

    def _pg_storage_info(self) -> None:
        import psycopg

        tables = ("counts_hourly", "counts_total", "video_totals", "raw_events")
        with psycopg.connect(self.db_url, autocommit=True) as conn:
            # (fetchone() may be None to a type checker; an aggregate always returns a row)
            counts = {
                table: int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]
                for table in tables
            }
            database, raw, hourly = conn.execute(
                "SELECT pg_database_size(current_database()), "
                "pg_total_relation_size('raw_events'), "
                "(SELECT sum(pg_total_relation_size(relid))::bigint "
                " FROM pg_partition_tree('counts_hourly'))"
            ).fetchone()  # type: ignore[misc]  # a row, never None: an aggregate
        self.results.info["rows"] = counts
        self.results.info["db_mib"] = round(database / 2**20, 1)
        self.results.info["raw_events_mib"] = round(raw / 2**20, 1)
        self.results.info["counts_hourly_mib"] = round(hourly / 2**20, 1)

    def _storage_info(self) -> None:
        conn = sqlite3.connect(str(self.db_path))
        try:
            counts = {
                table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("counts_hourly", "counts_total", "video_totals", "raw_events")
            }
        finally:
            conn.close()
        self.results.info["rows"] = counts
        self.results.info["db_mib"] = round(
            sum(
                p.stat().st_size
                for p in self.workdir.iterdir()
                if p.name.startswith(self.db_path.name)
            )
            / 2**20,
            1,
        )

    # -- 3./4. reads -----------------------------------------------------------------------

    def _with_data(self) -> list[int]:
        return sorted(p for p in self.world.owner_posts if self.world.events_per_post[p] > 0)

    def totals(self) -> None:
        candidates = self._with_data()
        bodies = [
            orjson.dumps(
                {
                    "tweet_ids": [str(p) for p in self.rng.sample(candidates, TOTALS_IDS)],
                    "engagement_types": TOTALS_METRICS,
                    "groupings": TOTALS_GROUPINGS,
                }
            )
            for _ in range(QUERY_SETS)
        ]
        self.bodies[Endpoint.TOTALS] = bodies
        owner = self.world.owner_id

        def ours(body: bytes) -> object:
            return self.reader.answer(self.reader.parse(Endpoint.TOTALS, body), owner)

        def base(body: bytes) -> object:
            return self.raw.totals(body, owner, self.now)

        ours_l, base_l = self._reads("totals", ours, base, bodies)
        self.in_process[Endpoint.TOTALS] = ours_l
        met = base_l.p50 / ours_l.p50 >= TOTALS_TARGET
        self.results.figures["totals"].update(
            target_speedup=TOTALS_TARGET,
            target_events=TOTALS_TARGET_EVENTS,
            target_met=met,
        )

    def historical(self) -> None:
        candidates = self._with_data()
        end = synth.hour_ceil(self.now)
        start = end - timedelta(days=28)
        stamp = "%Y-%m-%dT%H:%M:%SZ"
        bodies = [
            orjson.dumps(
                {
                    "tweet_ids": [str(p) for p in self.rng.sample(candidates, HISTORICAL_IDS)],
                    "engagement_types": HISTORICAL_METRICS,
                    "groupings": HISTORICAL_GROUPINGS,
                    "start": start.strftime(stamp),
                    "end": end.strftime(stamp),
                }
            )
            for _ in range(QUERY_SETS)
        ]
        owner = self.world.owner_id

        def ours(body: bytes) -> object:
            return self.reader.answer(self.reader.parse(Endpoint.HISTORICAL, body), owner)

        def base(body: bytes) -> object:
            return self.raw.historical(body, owner, self.now)

        self.bodies[Endpoint.HISTORICAL] = bodies
        self.in_process[Endpoint.HISTORICAL], _ = self._reads("historical", ours, base, bodies)

    def _reads(
        self,
        name: str,
        ours: Callable[[bytes], object],
        base: Callable[[bytes], object],
        bodies: list[bytes],
    ) -> tuple[Latency, Latency]:
        for i, body in enumerate(bodies):
            check_equal(f"/{name} query set {i + 1}", ours(body), base(body))
        self.log(f"/{name}: ours and the baseline agree on {len(bodies)} query sets")
        ours_l, base_l = interleaved(ours, base, bodies, self.options.runs)
        self.results.figures[name] = {
            "ours": ours_l.as_json(),
            "baseline": base_l.as_json(),
            "speedup_p50": base_l.p50 / ours_l.p50,
            "speedup_p99": base_l.p99 / ours_l.p99,
            "query_sets": len(bodies),
        }
        self.log(f"/{name}: p50 ours {ours_l.p50 * 1e3:.2f} ms, baseline {base_l.p50 * 1e3:.2f} ms")
        return ours_l, base_l

    # -- 5. HTTP ---------------------------------------------------------------------------

    def http(self) -> None:
        app = credentials.create_app(self.store, self.clock, "bench", rate_limit=10**9)
        token = credentials.create_token(
            self.store, self.clock, app.consumer_key, self.world.owner_id
        )
        ingest_key = credentials.create_ingest_key(self.store, self.clock)
        server = Server(
            self.db_url, self.now, str(self.workdir / "server.log"), self.options.workers
        )
        try:
            server.wait_ready()
            self.log(f"server up on {server.base_url} ({self.options.workers} worker(s))")
            with httpx.Client(base_url=server.base_url, timeout=600.0) as client:
                signer = self._signer(app, token)
                self._http_reads(client, server.base_url, signer)
                self._http_throughput(server.base_url, signer)
                self._http_ingest(client, ingest_key)
        finally:
            server.stop()

    def _signer(self, app: credentials.IssuedApp, token: Any) -> Callable[[str], dict[str, str]]:
        """OAuth 1.0a user-context headers for one POST to ``url`` (a fresh nonce each)."""
        timestamp = str(int(self.now.timestamp()))

        def headers(url: str) -> dict[str, str]:
            signer = Client(
                app.consumer_key,
                client_secret=app.consumer_secret,
                resource_owner_key=token.token,
                resource_owner_secret=token.secret,
                signature_method=SIGNATURE_HMAC_SHA1,
                signature_type=SIGNATURE_TYPE_AUTH_HEADER,
                timestamp=timestamp,
                nonce=os.urandom(16).hex(),
            )
            _, signed, _ = signer.sign(
                url, http_method="POST", headers={"Content-Type": "application/json"}
            )
            return {str(k): str(v) for k, v in signed.items()}

        return headers

    def _http_reads(
        self, client: httpx.Client, base_url: str, headers: Callable[[str], dict[str, str]]
    ) -> None:
        """Each read endpoint's requests over HTTP, beside the in-process figure."""
        owner = self.world.owner_id
        floor: list[float] = []
        for _ in range(self.options.runs):
            start = time.perf_counter()
            client.get("/healthz").raise_for_status()
            floor.append(time.perf_counter() - start)
        healthz = Latency(tuple(floor))
        self.results.info["healthz"] = healthz.as_json()
        for endpoint in (Endpoint.TOTALS, Endpoint.HISTORICAL):
            url = base_url + "/insights/engagement" + endpoint.path
            bodies = self.bodies[endpoint]
            for i, body in enumerate(bodies):
                response = client.post(url, content=body, headers=headers(url))
                if response.status_code != 200:
                    raise RuntimeError(f"{url}: {response.status_code} {response.text}")
                expected = self.reader.answer(self.reader.parse(endpoint, body), owner)
                check_equal(
                    f"HTTP {endpoint.path} query set {i + 1}",
                    orjson.loads(response.content),
                    expected,
                )
            runs: list[float] = []
            gc.collect()
            for i in range(self.options.runs):
                body = bodies[i % len(bodies)]
                signed = headers(url)  # signing is the client's work, not the server's
                start = time.perf_counter()
                response = client.post(url, content=body, headers=signed)
                _ = response.content  # read (and gunzipped) in full
                runs.append(time.perf_counter() - start)
                if response.status_code != 200:
                    raise RuntimeError(f"{url}: {response.status_code}")
            http_l = Latency(tuple(runs))
            self.http_latency[endpoint] = http_l
            inproc = self.in_process[endpoint]
            self.results.figures[f"http_{endpoint.name.lower()}"] = {
                "http": http_l.as_json(),
                "in_process": inproc.as_json(),
                "ratio_p50": inproc.p50 / http_l.p50,
                "ratio_p99": inproc.p99 / http_l.p99,
                "response_bytes": len(response.content),
                "response_wire_bytes": response.num_bytes_downloaded,
                "content_encoding": response.headers.get("content-encoding"),
            }
            self.log(
                f"HTTP {endpoint.path}: p50 {http_l.p50 * 1e3:.2f} ms "
                f"(in-process {inproc.p50 * 1e3:.2f} ms)"
            )

    def _http_throughput(self, base_url: str, headers: Callable[[str], dict[str, str]]) -> None:
        """``/totals`` requests per second with THROUGHPUT_CLIENTS concurrent keep-alive clients
        (threads, one connection each) sending THROUGHPUT_REQUESTS requests in all (the query
        sets in turn, signed beforehand), beside one client's rate over the timed runs of
        ``HTTP /totals`` (the same requests one at a time)."""
        url = base_url + "/insights/engagement" + Endpoint.TOTALS.path
        bodies = self.bodies[Endpoint.TOTALS]
        clients = THROUGHPUT_CLIENTS
        work: list[list[tuple[bytes, dict[str, str]]]] = [[] for _ in range(clients)]
        for i in range(THROUGHPUT_REQUESTS):
            work[i % clients].append((bodies[i % len(bodies)], headers(url)))
        failures: list[str] = []
        barrier = threading.Barrier(clients + 1)
        ends: list[float] = []

        def client_thread(requests: list[tuple[bytes, dict[str, str]]]) -> None:
            try:
                with httpx.Client(timeout=600.0) as client:
                    client.get(base_url + "/healthz").raise_for_status()  # connect first
                    barrier.wait(timeout=60)
                    for body, signed in requests:
                        response = client.post(url, content=body, headers=signed)
                        _ = response.content
                        if response.status_code != 200:
                            failures.append(f"{response.status_code} {response.text[:200]}")
                            break
            except Exception as exc:  # reported below, by the main thread
                failures.append(repr(exc))
                barrier.abort()
            ends.append(time.perf_counter())

        threads = [threading.Thread(target=client_thread, args=(w,)) for w in work]
        gc.collect()
        for thread in threads:
            thread.start()
        with contextlib.suppress(threading.BrokenBarrierError):  # a client failed: see below
            barrier.wait(timeout=60)
        start = time.perf_counter()
        for thread in threads:
            thread.join()
        if failures:
            raise RuntimeError(f"{url} under concurrent clients: {failures[0]}")
        seconds = max(ends) - start
        rate = THROUGHPUT_REQUESTS / seconds
        single = self.http_latency[Endpoint.TOTALS]
        single_rate = len(single.runs) / sum(single.runs)
        self.results.figures["http_throughput"] = {
            "endpoint": Endpoint.TOTALS.path,
            "clients": clients,
            "requests": THROUGHPUT_REQUESTS,
            "seconds": seconds,
            "requests_per_s": rate,
            "single_client_requests_per_s": single_rate,
            "ratio": rate / single_rate,
            "workers": self.options.workers,
        }
        self.log(
            f"HTTP /totals throughput: {rate:,.1f} requests/s with {clients} clients "
            f"(one client: {single_rate:,.1f}/s)"
        )

    def _http_ingest(self, client: httpx.Client, ingest_key: str) -> None:
        batches = [
            synth.event_lines(self.world, HTTP_BATCH, self.options.seed * 7_919 + i)[0]
            for i in range(self.options.http_batches)
        ]
        http_s = file_s = 0.0
        events = 0
        for i, batch in enumerate(batches):
            gc.collect()

            def over_http(batch: bytes = batch, i: int = i) -> int:
                response = client.post(
                    "/ingest/events",
                    content=batch,
                    headers={
                        "Authorization": f"Bearer {ingest_key}",
                        "Idempotency-Key": f"bench-http-{i}",
                        "Content-Type": "application/x-ndjson",
                    },
                )
                if response.status_code != 200:
                    raise RuntimeError(f"/ingest/events: {response.status_code} {response.text}")
                answer = response.json()
                if answer["duplicate"]:
                    raise RuntimeError("HTTP batch taken as a duplicate")
                return int(answer["accepted"])

            def in_process(batch: bytes = batch, i: int = i) -> int:
                result = self.loader.load_events(batch, Format.NDJSON, key=f"bench-file-{i}")
                return result.accepted

            steps = [("http", over_http), ("file", in_process)]
            if i % 2:
                steps.reverse()
            for name, step in steps:
                seconds, accepted = timed(step)
                if name == "http":
                    http_s += seconds
                    events += accepted
                else:
                    file_s += seconds
        http_rate, file_rate = events / http_s, events / file_s
        self.results.figures["http_ingest"] = {
            "batches": len(batches),
            "batch_events": HTTP_BATCH,
            "http_events_per_s": http_rate,
            "in_process_events_per_s": file_rate,
            "ratio": http_rate / file_rate,
        }
        self.log(f"HTTP ingest: {http_rate:,.0f} events/s, in-process {file_rate:,.0f} events/s")

    # -- profiles (optional) ---------------------------------------------------------------

    def profile(self, directory: Path) -> None:
        """cProfile of one 1M-event file ingest, and of 20 /totals and /historical answers;
        top entries by own time go to the console and ``DIR/*.txt``."""
        directory.mkdir(parents=True, exist_ok=True)
        owner = self.world.owner_id
        data, _ = synth.event_lines(self.world, EVENTS_PER_FILE, self.options.seed * 31)
        totals = self.bodies[Endpoint.TOTALS][0]
        historical = self.bodies[Endpoint.HISTORICAL][0]
        jobs: dict[str, Callable[[], object]] = {
            "ingest": lambda: self.loader.load_events(data, Format.NDJSON, key="bench-profile"),
            "totals": lambda: [
                self.reader.answer(self.reader.parse(Endpoint.TOTALS, totals), owner)
                for _ in range(20)
            ],
            "historical": lambda: [
                self.reader.answer(self.reader.parse(Endpoint.HISTORICAL, historical), owner)
                for _ in range(20)
            ],
        }
        for name, job in jobs.items():
            profiler = cProfile.Profile()
            profiler.runcall(job)
            profiler.dump_stats(directory / f"{name}.pstats")
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out).strip_dirs()
            stats.sort_stats("tottime").print_stats(15)
            stats.sort_stats("cumulative").print_stats(15)
            (directory / f"{name}.txt").write_text(out.getvalue())
            self.console.print(f"[bold]profile: {name}[/bold]")
            self.console.print(out.getvalue(), markup=False, highlight=False)
        if self.postgres:
            self._pg_profile(directory, data)
        self._gzip_costs(directory)

    def _pg_profile(self, directory: Path, data: bytes) -> None:
        """PostgreSQL only: the ingest split (each step of one batch timed, with its WAL) and
        the plans of the upserts and of the store's read statements."""
        from bench import pgprofile

        owner = self.world.owner_id
        split = pgprofile.ingest_split(self.db_url, self.store, data, self.now, "bench-pg-split")

        def reads() -> None:
            for endpoint in (Endpoint.TOTALS, Endpoint.HISTORICAL):
                body = self.bodies[endpoint][0]
                self.reader.answer(self.reader.parse(endpoint, body), owner)

        plans = pgprofile.read_plans(self.db_url, self.store, reads)
        for name, text in (("pg-ingest-split", split), ("pg-read-plans", plans)):
            (directory / f"{name}.txt").write_text(text + "\n")
            self.console.print(f"[bold]profile: {name}[/bold]")
            self.console.print(text, markup=False, highlight=False)

    def _gzip_costs(self, directory: Path) -> None:
        """What compressing each read answer costs at gzip levels 9 (Starlette's GZipMiddleware
        default), 6 and 1: median of 5 compressions of the real answer."""
        lines = []
        costs: dict[str, dict[str, float]] = {}
        for endpoint in (Endpoint.TOTALS, Endpoint.HISTORICAL):
            body = self.bodies[endpoint][0]
            answer = orjson.dumps(
                self.reader.answer(self.reader.parse(endpoint, body), self.world.owner_id)
            )
            costs[endpoint.value] = {"bytes": len(answer)}
            for level in (9, 6, 1):
                times = sorted(timed(gzip.compress, answer, level)[0] for _ in range(5))
                size = len(gzip.compress(answer, level))
                costs[endpoint.value][f"level_{level}_ms"] = times[2] * 1e3
                lines.append(
                    f"{endpoint.path}: {len(answer):,} bytes, gzip level {level}: "
                    f"{times[2] * 1e3:,.1f} ms -> {size:,} bytes"
                )
        self.results.info["gzip_costs"] = costs
        text = "\n".join(lines)
        (directory / "gzip.txt").write_text(text + "\n")
        self.console.print("[bold]gzip cost of the read answers[/bold]")
        self.console.print(text, markup=False, highlight=False)

    def close(self) -> None:
        self.raw.close()
        self.store.close()


def check_equal(what: str, ours: object, base: object) -> None:
    """Byte-identical JSON (key order included), else :class:`Mismatch` naming the first
    difference."""
    if orjson.dumps(ours) == orjson.dumps(base):
        return
    raise Mismatch(f"{what}: ours and the baseline differ at {first_difference(ours, base)}")


def first_difference(a: object, b: object, path: str = "$") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            only_a = [k for k in a if k not in b][:3]
            only_b = [k for k in b if k not in a][:3]
            if not only_a and not only_b:
                return f"{path}: same keys in another order"
            return f"{path}: keys only in ours {only_a}, only in the baseline {only_b}"
        for key in a:
            if orjson.dumps(a[key]) != orjson.dumps(b[key]):
                return first_difference(a[key], b[key], f"{path}[{key!r}]")
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return first_difference(x, y, f"{path}[{i}]")
    return f"{path}: ours {str(a)[:120]!r}, baseline {str(b)[:120]!r}"
