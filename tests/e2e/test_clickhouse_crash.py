"""The exactly-once protocol of the ClickHouse counters (store/split.py, docs/scaling.md), tested
the way it fails: `engagement-api load events` SIGKILLed right after each named step, restarted,
every batch resent; two ingesters racing on one batch; a batch whose rows reached one shard and
not the other. Every count is then checked against an independent sum of the batches
(tests/support/model.py), read back through the store.

The catalog is a fresh PostgreSQL database and the counters a fresh database on the run's shared
cluster (these tests stop no server).
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engagement_api.contract.metrics import METRICS
from engagement_api.store import Store, open_store
from engagement_api.store.split import CRASH_STEPS, SplitStore
from tests.e2e.data import World, make_events, make_world, write_ndjson
from tests.support.model import Counts, Event
from tests.support.processes import CLI

pytestmark = pytest.mark.slow


class Ingest:
    """The CLI against one catalog + counters pair."""

    def __init__(self, where: Path, database_url: str, counters_url: str) -> None:
        self.where = where
        self.database_url = database_url
        self.counters_url = counters_url

    def run(self, *args: str, crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ENGAGEMENT_API_")}
        if crash_at is not None:
            env["ENGAGEMENT_API_CRASH_AT"] = crash_at
        return subprocess.run(
            [
                *CLI,
                *args,
                "--database-url",
                self.database_url,
                "--counters-url",
                self.counters_url,
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )

    def ok(self, *args: str) -> str:
        done = self.run(*args)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def start(self, *args: str) -> subprocess.Popen[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ENGAGEMENT_API_")}
        return subprocess.Popen(
            [*CLI, *args, "--database-url", self.database_url, "--counters-url", self.counters_url],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


@pytest.fixture
def ingest(tmp_path: Path, pg_url: str, ch_url: str) -> Iterator[tuple[Ingest, World]]:
    """A migrated catalog + cluster holding 5 users and 30 Posts, loaded by the CLI."""
    world = make_world(random.Random(3), datetime.now(UTC), users=5, posts=30, owner_posts=20)
    runner = Ingest(tmp_path, pg_url, ch_url)
    runner.ok("migrate")
    runner.ok("load", "users", str(write_ndjson(tmp_path / "users.ndjson", world.users)))
    tweets = write_ndjson(tmp_path / "tweets.ndjson", [p.record() for p in world.posts])
    runner.ok("load", "tweets", str(tweets))
    yield runner, world


def _hour(moment: datetime) -> int:
    return int(moment.timestamp()) // 3600


def assert_exact(store: Store, world: World, events: list[Event]) -> None:
    """Every lifetime total and every hourly count is the sum of ``events``, once each."""
    counts = Counts(events)
    posts = [p.id for p in world.posts]
    codes = {name: METRICS[name].code for name in {m for _, m in counts.total}}
    totals = store.totals(posts, list(codes.values()))
    expected_totals = {(p, codes[m]): n for (p, m), n in counts.total.items()}
    assert {k: v for k, v in totals.items() if v} == {k: v for k, v in expected_totals.items() if v}
    hourly = store.hourly(posts, list(codes.values()), 0, 2**31)
    expected_hourly = {(p, codes[m], _hour(h)): n for (p, m, h), n in counts.hourly.items() if n}
    assert {(p, m, h): n for p, m, h, n in hourly} == expected_hourly


def _split(runner: Ingest) -> SplitStore:
    store = open_store(runner.database_url, runner.counters_url)
    assert isinstance(store, SplitStore)
    return store


def test_an_ingester_killed_after_each_step_then_resent_counts_each_batch_once(
    ingest: tuple[Ingest, World],
) -> None:
    runner, world = ingest
    rng = random.Random(11)
    batches = []
    for step in CRASH_STEPS:
        events = make_events(rng, world, 400)
        path = write_ndjson(runner.where / f"events-{step}.ndjson", [e.record() for e in events])
        batches.append((step, path, events))

    for step, path, _ in batches:
        done = runner.run("load", "events", str(path), "--json", crash_at=step)
        assert done.returncode == -signal.SIGKILL, (step, done.stdout, done.stderr)

    store = _split(runner)
    try:
        # each batch is claimed (crashed before its finish) or finished: the one killed after
        # "finished", and any claim a later ingester found older than STALE_AFTER and finished
        keys = {
            step: "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
            for step, path, _ in batches
        }
        pending = {claim.key for claim in store.pending()}
        assert keys["finished"] not in pending and store.get_batch(keys["finished"])
        for step, key in keys.items():
            assert (key in pending) != (store.get_batch(key) is not None), step
        # every batch sent again, the crashed ones and the finished one: each counted once
        for _, path, _ in batches:
            runner.ok("load", "events", str(path), "--json")
        assert store.pending() == []
        all_events = [e for _, _, events in batches for e in events]
        assert_exact(store, world, all_events)
        # and once more: nothing changes
        for _, path, _ in batches:
            runner.ok("load", "events", str(path))
        assert_exact(store, world, all_events)
    finally:
        store.close()


def test_a_crashed_claim_is_finished_by_the_next_ingest_without_a_resend(
    ingest: tuple[Ingest, World],
) -> None:
    runner, world = ingest
    rng = random.Random(12)
    first = make_events(rng, world, 300)
    crashed = write_ndjson(runner.where / "crashed.ndjson", [e.record() for e in first])
    assert runner.run("load", "events", str(crashed), crash_at="hourly").returncode == -9
    store = _split(runner)
    try:
        [claim] = store.pending()
        # the sweep takes claims older than STALE_AFTER; 0 here (the next ingest waits 10 s)
        assert store.finish_stale(older_than=0) == 1
        assert store.pending() == []
        assert_exact(store, world, first)
        assert store.get_batch(claim.key) is not None
        runner.ok("load", "events", str(crashed))  # the client's resend: a duplicate
        assert_exact(store, world, first)
    finally:
        store.close()


def test_two_ingesters_racing_on_one_batch_count_it_once(ingest: tuple[Ingest, World]) -> None:
    runner, world = ingest
    events = make_events(random.Random(13), world, 2000)
    path = write_ndjson(runner.where / "race.ndjson", [e.record() for e in events])
    for _ in range(2):
        racers = [runner.start("load", "events", str(path), "--json") for _ in range(3)]
        for racer in racers:
            _, err = racer.communicate(timeout=300)
            assert racer.returncode == 0, err
    store = _split(runner)
    try:
        assert store.pending() == []
        assert_exact(store, world, events)
    finally:
        store.close()


def test_a_batch_whose_rows_reached_one_shard_only_is_completed_once(
    ingest: tuple[Ingest, World],
) -> None:
    """The crash point inside one insert: shard 1 has its rows, shard 2 not. Simulated exactly:
    the claim's rows for shard 1 (by the Distributed table's own sharding expression) are
    written straight into a shard-1 replica, then the batch is sent again."""
    runner, world = ingest
    events = make_events(random.Random(14), world, 500)
    path = write_ndjson(runner.where / "half.ndjson", [e.record() for e in events])
    assert runner.run("load", "events", str(path), crash_at="claimed").returncode == -9
    store = _split(runner)
    try:
        [claim] = store.pending()
        from engagement_api.store.split import decode_deltas

        table = decode_deltas(claim.deltas)
        counters = store.counters
        database = counters.settings.database
        # the hourly rows that the Distributed table sends to shard 1 (cityHash64 % 2 == 0)
        rows = [(p & (2**64 - 1), m, h, n) for p, m, h, n in table.rows()]
        from clickhouse_driver import Client

        host, port = counters.settings.hosts[0]  # node-1-1 (shard 1)
        client = Client(host, port=port)
        try:
            shard_of = dict(
                client.execute(
                    "SELECT arrayJoin(%(ids)s) AS p, modulo(cityHash64(p), 2)",
                    {"ids": sorted({r[0] for r in rows})},
                )
            )
            mine = [r for r in rows if shard_of[r[0]] == 0]
            assert mine and len(mine) < len(rows)
            client.execute(
                f"INSERT INTO {database}.hourly_local (post_id, metric, hour, n, rows, batch) "
                "VALUES",
                [(*r, 1, claim.batch_id) for r in mine],
            )
        finally:
            client.disconnect()
        runner.ok("load", "events", str(path))  # the resend completes the claim
        assert store.pending() == []
        assert_exact(store, world, events)
    finally:
        store.close()
