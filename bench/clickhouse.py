"""``python -m bench --backend clickhouse``: the counters on a ClickHouse cluster beside
PostgreSQL alone, in the same run, on the same data (docs/scaling.md, bench/README.md).

Three stores, each with its catalog in its own database of one throwaway PostgreSQL:

- ``postgresql``: everything in PostgreSQL (the baseline of every ratio);
- ``clickhouse-2``: the counters on a local 2-shard x 2-replica cluster;
- ``clickhouse-1``: the counters on a 1-shard x 2-replica cluster (ingest only: what the second
  shard gains; on 2 cores, where the ingester and every node share the machine, this measures
  the ingester's side, not the cluster's capacity).

Figures: file ingest (``Loader.load_events`` per 1M-event file, the stores taking each file in
turn, rotating who goes first), HTTP ingest (100,000-event batches to the real app in a child
process), then ``/totals`` (250 Posts, 7 metrics, 2 groupings) and ``/historical`` (25 Posts x
28 days, 8 metrics, 4-level grouping) answered in-process, after checking that every store gives
the same answer. Each figure is printed beside PostgreSQL's, as a ratio.
"""

from __future__ import annotations

import gc
import os
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
from devtools.clickhouse_cluster import LocalCluster
from rich.console import Console
from rich.table import Table

from bench import synth
from bench.pg import EmbeddedPostgres
from bench.run import (
    EVENTS_PER_FILE,
    HISTORICAL_GROUPINGS,
    HISTORICAL_IDS,
    HISTORICAL_METRICS,
    HTTP_BATCH,
    QUERY_SETS,
    TOTALS_GROUPINGS,
    TOTALS_IDS,
    TOTALS_METRICS,
    Mismatch,
    check_equal,
)
from bench.server import Server
from bench.timing import Latency, timed
from engagement_api.clock import ManualClock
from engagement_api.contract.metrics import Endpoint
from engagement_api.ingest import Format
from engagement_api.service import credentials
from engagement_api.service.loading import Loader
from engagement_api.service.reading import EngagementReader
from engagement_api.settings import Settings
from engagement_api.store import Store, open_store

DEFAULT_EVENTS = 20_000_000
STORES = ("postgresql", "clickhouse-2", "clickhouse-1")


class Subject:
    """One store under test and what drives it."""

    def __init__(self, name: str, url: str, counters_url: str | None, clock: ManualClock) -> None:
        self.name = name
        self.url = url
        self.counters_url = counters_url
        self.store: Store = open_store(url, counters_url)
        self.store.migrate()
        self.settings = Settings(database_url=url, counters_url=counters_url, clock=clock)
        self.loader = Loader(self.store, self.store, clock)
        self.reader = EngagementReader(self.store, self.store, self.settings)
        self.ingest_s = 0.0
        self.ingest_events = 0

    def close(self) -> None:
        self.store.close()


def run(events: int, runs: int, http_batches: int, seed: int, console: Console) -> dict[str, Any]:
    log = console.log
    workdir = Path(tempfile.mkdtemp(prefix="engagement-bench-ch-"))
    figures: dict[str, Any] = {"events": events}
    pg: EmbeddedPostgres | None = None
    clusters: list[LocalCluster] = []
    subjects: dict[str, Subject] = {}
    try:
        log("starting PostgreSQL, a 2 x 2 and a 1 x 2 ClickHouse cluster")
        pg = EmbeddedPostgres()  # its own temporary directory (the server runs as its own user)
        two = LocalCluster(workdir / "cluster-2", shards=2, replicas=2)
        one = LocalCluster(workdir / "cluster-1", shards=1, replicas=2)
        for cluster in (two, one):
            cluster.start()
            clusters.append(cluster)
        with pg.admin() as conn:
            for name in STORES:
                conn.execute(f"CREATE DATABASE {name.replace('-', '_')}")
        clock = ManualClock(synth.NOW)
        counters = {
            "postgresql": None,
            "clickhouse-2": two.counters_url("bench"),
            "clickhouse-1": one.counters_url("bench"),
        }
        for name in STORES:
            subjects[name] = Subject(name, pg.url(name.replace("-", "_")), counters[name], clock)
        world = synth.build_world(seed)
        for subject in subjects.values():
            subject.store.upsert_users(world.users)
            subject.store.upsert_posts(world.posts)
        log(f"catalog: {len(world.users)} users, {len(world.posts)} Posts; synthesising events")
        files = synth.write_event_files(world, workdir, events, EVENTS_PER_FILE, seed)
        figures["file_ingest"] = _file_ingest(subjects, files, log)
        for path in files:
            path.unlink()
        figures["http_ingest"] = _http_ingest(subjects, world, http_batches, seed, workdir, log)
        figures["totals"], figures["historical"] = _reads(subjects, world, runs, seed, log)
    finally:
        for subject in subjects.values():
            subject.close()
        for cluster in clusters:
            cluster.stop()
        if pg is not None:
            pg.destroy()
        shutil.rmtree(workdir, ignore_errors=True)
    figures["load_average_end"] = os.getloadavg()
    _print(console, figures)
    return figures


def _file_ingest(
    subjects: dict[str, Subject], files: list[Path], log: Callable[[str], None]
) -> dict[str, Any]:
    order = list(subjects.values())
    for i, path in enumerate(files):
        data = path.read_bytes()
        for subject in order[i % len(order) :] + order[: i % len(order)]:
            gc.collect()
            seconds, result = timed(subject.loader.load_events, data, Format.NDJSON)
            if result.duplicate:
                raise RuntimeError(f"{path.name} taken as a duplicate by {subject.name}")
            subject.ingest_s += seconds
            subject.ingest_events += result.accepted
        rates = ", ".join(f"{s.name} {s.ingest_events / s.ingest_s:,.0f}/s" for s in order)
        log(f"file {i + 1}/{len(files)}: {rates}")
    base = subjects["postgresql"]
    base_rate = base.ingest_events / base.ingest_s
    out: dict[str, Any] = {}
    for subject in order:
        rate = subject.ingest_events / subject.ingest_s
        out[subject.name] = {"events_per_s": rate, "ratio_to_postgresql": rate / base_rate}
    out["two_shards_over_one"] = (
        out["clickhouse-2"]["events_per_s"] / out["clickhouse-1"]["events_per_s"]
    )
    return out


def _http_ingest(
    subjects: dict[str, Subject],
    world: synth.World,
    batches: int,
    seed: int,
    workdir: Path,
    log: Callable[[str], None],
) -> dict[str, Any]:
    bodies = [synth.event_lines(world, HTTP_BATCH, seed * 7_919 + i)[0] for i in range(batches)]
    out: dict[str, Any] = {}
    for name in ("postgresql", "clickhouse-2"):
        subject = subjects[name]
        key = credentials.create_ingest_key(subject.store, ManualClock(synth.NOW))
        if subject.counters_url:
            os.environ["ENGAGEMENT_API_COUNTERS_URL"] = subject.counters_url
        else:
            os.environ.pop("ENGAGEMENT_API_COUNTERS_URL", None)
        server = Server(subject.url, synth.NOW, str(workdir / f"server-{name}.log"))
        try:
            server.wait_ready()
            with httpx.Client(base_url=server.base_url, timeout=300) as client:
                seconds = 0.0
                for i, body in enumerate(bodies):
                    start = time.perf_counter()
                    response = client.post(
                        "/ingest/events",
                        content=body,
                        headers={
                            "Authorization": f"Bearer {key}",
                            "Idempotency-Key": f"bench-http-{i}",
                            "Content-Type": "application/x-ndjson",
                        },
                    )
                    seconds += time.perf_counter() - start
                    if response.status_code != 200 or response.json()["duplicate"]:
                        raise RuntimeError(f"{name}: {response.status_code} {response.text}")
        finally:
            server.stop()
            os.environ.pop("ENGAGEMENT_API_COUNTERS_URL", None)
        out[name] = {"events_per_s": batches * HTTP_BATCH / seconds}
        log(f"HTTP ingest {name}: {out[name]['events_per_s']:,.0f} events/s")
    out["ratio"] = out["clickhouse-2"]["events_per_s"] / out["postgresql"]["events_per_s"]
    return out


def _reads(
    subjects: dict[str, Subject],
    world: synth.World,
    runs: int,
    seed: int,
    log: Callable[[str], None],
) -> tuple[dict[str, Any], dict[str, Any]]:
    rng = random.Random(seed + 1)
    candidates = sorted(p for p in world.owner_posts if world.events_per_post[p] > 0)
    end = synth.hour_ceil(synth.NOW)
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    totals = [
        orjson.dumps(
            {
                "tweet_ids": [str(p) for p in rng.sample(candidates, TOTALS_IDS)],
                "engagement_types": TOTALS_METRICS,
                "groupings": TOTALS_GROUPINGS,
            }
        )
        for _ in range(QUERY_SETS)
    ]
    historical = [
        orjson.dumps(
            {
                "tweet_ids": [str(p) for p in rng.sample(candidates, HISTORICAL_IDS)],
                "engagement_types": HISTORICAL_METRICS,
                "groupings": HISTORICAL_GROUPINGS,
                "start": (end - timedelta(days=28)).strftime(stamp),
                "end": end.strftime(stamp),
            }
        )
        for _ in range(QUERY_SETS)
    ]
    owner = world.owner_id
    base, ours = subjects["postgresql"], subjects["clickhouse-2"]
    found = []
    for endpoint, bodies in ((Endpoint.TOTALS, totals), (Endpoint.HISTORICAL, historical)):

        def answer(subject: Subject, body: bytes, endpoint: Endpoint = endpoint) -> bytes:
            reader = subject.reader
            return reader.respond(reader.parse(endpoint, body), owner).json

        for i, body in enumerate(bodies):
            mine_bytes, base_bytes = answer(ours, body), answer(base, body)
            if mine_bytes != base_bytes:  # byte-identical, or the first difference named
                what = f"/{endpoint.value} set {i + 1}"
                check_equal(what, orjson.loads(mine_bytes), orjson.loads(base_bytes))
                raise Mismatch(f"{what}: the same data in other bytes")
        mine: list[float] = []
        theirs: list[float] = []
        for i in range(runs):
            body = bodies[i % len(bodies)]
            pair = [(mine, ours), (theirs, base)]
            for into, subject in pair if i % 2 == 0 else pair[::-1]:
                into.append(timed(answer, subject, body)[0])
        a, b = Latency(tuple(mine)), Latency(tuple(theirs))
        found.append(
            {
                "clickhouse-2": a.as_json(),
                "postgresql": b.as_json(),
                "ratio_p50": a.p50 / b.p50,
                "ratio_p99": a.p99 / b.p99,
            }
        )
        log(
            f"/{endpoint.value}: p50 clickhouse-2 {a.p50 * 1e3:.2f} ms, "
            f"postgresql {b.p50 * 1e3:.2f} ms (byte-identical answers)"
        )
    return found[0], found[1]


def _print(console: Console, figures: dict[str, Any]) -> None:
    table = Table(title=f"ClickHouse counters beside PostgreSQL, {figures['events']:,} events")
    table.add_column("figure")
    table.add_column("clickhouse (2 shards)", justify="right")
    table.add_column("postgresql", justify="right")
    table.add_column("ratio", justify="right")
    ingest = figures["file_ingest"]
    table.add_row(
        "file ingest, events/s",
        f"{ingest['clickhouse-2']['events_per_s']:,.0f}",
        f"{ingest['postgresql']['events_per_s']:,.0f}",
        f"{ingest['clickhouse-2']['ratio_to_postgresql']:.2f}x",
    )
    http = figures["http_ingest"]
    table.add_row(
        "HTTP ingest, events/s",
        f"{http['clickhouse-2']['events_per_s']:,.0f}",
        f"{http['postgresql']['events_per_s']:,.0f}",
        f"{http['ratio']:.2f}x",
    )
    for name in ("totals", "historical"):
        row = figures[name]
        table.add_row(
            f"/{name} p50 / p99, ms",
            f"{row['clickhouse-2']['p50_ms']:.2f} / {row['clickhouse-2']['p99_ms']:.2f}",
            f"{row['postgresql']['p50_ms']:.2f} / {row['postgresql']['p99_ms']:.2f}",
            f"{row['ratio_p50']:.2f}x / {row['ratio_p99']:.2f}x",
        )
    console.print(table)
    console.print(
        f"file ingest, 1 shard: {ingest['clickhouse-1']['events_per_s']:,.0f} events/s; "
        f"2 shards / 1 shard: {ingest['two_shards_over_one']:.2f}x (on 2 cores: the ingester's "
        "side, not the cluster's capacity)"
    )


__all__ = ["DEFAULT_EVENTS", "Mismatch", "run"]
