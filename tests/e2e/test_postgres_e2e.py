"""PostgreSQL end to end: `engagement-api serve` on a real PostgreSQL database prepared with the
CLI, many ingesting processes at once, and the database going away under a running server.

- Concurrency: 4 OS processes POST overlapping event batches (same Posts, same hours, some keys
  sent by two processes at the same moment, replays of their own and of another process's
  batches) to a server with 2 workers, while this process keeps reading /totals and /historical.
  Every answer is 200 and plausible (never below what was acknowledged before it was asked,
  never above everything, never smaller than an earlier answer); each key is applied exactly
  once; the final counts equal the sums of the distinct batches.
- Outage: a PostgreSQL server of its own (the session's shared one stays up) is stopped (fast
  mode) under the running API while batches arrive: 503 ``Store unavailable`` everywhere but
  /healthz; started again, the same server processes answer 200 again by themselves, and
  resending every batch finds each acknowledged one already applied (nothing lost) and applies
  the refused ones (nothing doubled).
"""

from __future__ import annotations

import json
import multiprocessing
import random
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import requests

from tests.e2e.data import Client, World, expected_totals, make_world
from tests.e2e.pg_helpers import (
    PER_TWEET,
    PUBLIC,
    STORE_UNAVAILABLE,
    WINDOWED,
    Batch,
    assert_counts_exact,
    ingest_headers,
    make_batches,
    prepare,
    send_plan,
)
from tests.support.model import TOTALS_METRICS, Counts, Event, hours_between, parse_z, tree
from tests.support.pg import PgServer
from tests.support.processes import ServerProcess, ignore_sigint

pytestmark = pytest.mark.slow


def _events(batches: list[Batch]) -> list[Event]:
    return [e for b in batches for e in b.events]


# -- many ingesters, two workers ---------------------------------------------------------------

PROCS = 4  # an even number: the pairing in _plan lines shared keys up at the same step
OWN = 10  # batches each process owns
SHARED = 4  # of which the neighbour sends the first SHARED at the same step
SIZE = 250  # events per batch


def _plan(i: int, owned: list[list[Batch]]) -> list[tuple[str, bytes]]:
    """What process ``i`` sends, in order. Step 2k and 2k+1 carry its own batch k and its right
    neighbour's batch k (k < SHARED); even processes send the neighbour's first, odd ones their
    own first, so each shared key is sent by two processes at the same step. Then a replay of
    two of its own batches and of one of the neighbour's that the neighbour sent long before."""
    own, right = owned[i], owned[(i + 1) % PROCS]
    plan: list[Batch] = []
    for k in range(OWN):
        if k < SHARED:
            plan += [right[k], own[k]] if i % 2 == 0 else [own[k], right[k]]
        else:
            plan.append(own[k])
    plan += [own[1], own[OWN - 1], right[OWN // 2]]
    return [(b.key, b.body) for b in plan]


class Watcher:
    """Reads /totals and /historical while batches arrive and checks every answer: 200, every
    value at least what the batches acknowledged before the request imply, at most what all the
    batches imply, and never below the same value in an earlier answer (counts only grow: the
    batches carry no undo events)."""

    def __init__(self, client: Client, world: World, batches: dict[str, Batch]) -> None:
        self.client = client
        self.world = world
        self.batches = batches
        self.upper = Counts(_events(list(batches.values())))
        self.last: dict[tuple[str, str, str], int] = {}
        self.rounds = 0
        self.every = [p.id for p in world.posts]
        self.owned = world.owned(world.owner)

    def round(self, acked: set[str]) -> None:
        lower = Counts(_events([self.batches[k] for k in sorted(acked)]))
        world, every, owned = self.world, self.every, self.owned
        data = self.client.ok(
            "totals",
            {
                "tweet_ids": [str(i) for i in every],
                "engagement_types": PUBLIC,
                "groupings": PER_TWEET,
            },
            auth="bearer",
        )
        self._check(
            "totals/bearer",
            data["perTweet"],
            expected_totals(world, lower, every, PUBLIC),
            expected_totals(world, self.upper, every, PUBLIC),
        )
        data = self.client.ok(
            "totals",
            {
                "tweet_ids": [str(i) for i in owned],
                "engagement_types": list(TOTALS_METRICS),
                "groupings": PER_TWEET,
            },
        )
        self._check(
            "totals/user",
            data["perTweet"],
            expected_totals(world, lower, owned, TOTALS_METRICS),
            expected_totals(world, self.upper, owned, TOTALS_METRICS),
        )
        data = self.client.ok(
            "historical",
            {
                "tweet_ids": [str(i) for i in owned],
                "engagement_types": WINDOWED,
                "groupings": PER_TWEET,
            },
        )
        hours = hours_between(parse_z(data["start"]), parse_z(data["end"]))
        levels = PER_TWEET["perTweet"]["group_by"]
        self._check(
            "historical/user",
            data["perTweet"],
            tree(levels, owned, WINDOWED, hours, lower.over(hours)),
            tree(levels, owned, WINDOWED, hours, self.upper.over(hours)),
        )
        self.rounds += 1

    def _check(self, name: str, answer: Any, lower: Any, upper: Any) -> None:
        assert answer.keys() == upper.keys(), name
        for post, values in upper.items():
            assert answer[post].keys() == values.keys(), (name, post)
            for metric, high in values.items():
                value = int(answer[post][metric])
                low = int(lower[post][metric])
                earlier = self.last.get((name, post, metric), 0)
                assert max(low, earlier) <= value <= int(high), (
                    f"{name} Post {post} {metric}: {value} not within "
                    f"[acknowledged {low}, earlier answer {earlier}] .. all {high} "
                    f"(round {self.rounds})"
                )
                self.last[(name, post, metric)] = value


def test_four_ingesting_processes_and_two_workers_count_each_batch_once(
    pg_empty_url: str, tmp_path: Path
) -> None:
    pg_url = pg_empty_url  # an empty database (no schema) on the run's PostgreSQL server
    rng = random.Random(20261203)
    world = make_world(rng, datetime.now(UTC), users=6, posts=40, owner_posts=20)
    creds, ingest_key = prepare(pg_url, tmp_path, world)
    # Events of the last day only, on 40 Posts: batches hit the same Posts and hours.
    owned = [
        make_batches(rng, world, f"proc{i}", OWN, SIZE, event_days=1, positive=True)
        for i in range(PROCS)
    ]
    distinct = {b.key: b for batches in owned for b in batches}
    plans = [_plan(i, owned) for i in range(PROCS)]

    server = ServerProcess(pg_url, tmp_path / "server.log", workers=2)
    server.start()
    client = Client(server.base_url, creds)
    client.session.headers["Connection"] = "close"  # a new connection each time: both workers
    try:
        watcher = Watcher(client, world, distinct)
        ctx = multiprocessing.get_context("spawn")
        with ctx.Manager() as manager, ctx.Pool(PROCS, ignore_sigint) as procs:
            barrier = manager.Barrier(PROCS)
            acked = manager.list()
            pending = procs.starmap_async(
                send_plan, [(server.base_url, ingest_key, plan, barrier, acked) for plan in plans]
            )
            for _ in range(500):  # bounded; ends as soon as every sender is done
                watcher.round(set(acked))
                if pending.ready():
                    break
            results = pending.get(timeout=300)
            assert set(acked) == set(distinct)
        watcher.round(set(distinct))  # everything acknowledged: the upper bound is reached

        answers = [answer for chunk in results for answer in chunk]
        assert len(answers) == sum(len(plan) for plan in plans)
        failed = [(key, status, text) for key, status, text in answers if status != 200]
        assert not failed, failed  # no 5xx (nor anything else) under contention
        applied = Counter[str]()
        for key, _status, text in answers:
            body = json.loads(text)
            assert body["accepted"] == SIZE, (key, body)
            applied[key] += body["duplicate"] is False
        assert applied == Counter(dict.fromkeys(distinct, 1))  # exactly once across processes
        with psycopg.connect(pg_url) as conn:
            row = conn.execute("SELECT count(*) FROM batches").fetchone()
        assert row == (len(distinct),)

        assert_counts_exact(client, world, _events(list(distinct.values())))
        log = server.log_path.read_text()
        assert "Traceback" not in log, log
    finally:
        client.close()
        server.stop()


# -- the database goes away and comes back -------------------------------------------------------


def _reads(world: World) -> list[tuple[str, str, dict[str, Any]]]:
    """(endpoint, auth, body) of one request per read endpoint and way of signing."""
    every = [str(p.id) for p in world.posts]
    owned = [str(p) for p in world.owned(world.owner)]
    return [
        (
            "totals",
            "bearer",
            {"tweet_ids": every, "engagement_types": PUBLIC, "groupings": PER_TWEET},
        ),
        ("totals", "app", {"tweet_ids": every, "engagement_types": PUBLIC, "groupings": PER_TWEET}),
        (
            "totals",
            "user",
            {"tweet_ids": owned, "engagement_types": list(TOTALS_METRICS), "groupings": PER_TWEET},
        ),
        (
            "historical",
            "user",
            {"tweet_ids": owned, "engagement_types": WINDOWED, "groupings": PER_TWEET},
        ),
        (
            "28hr",
            "user",
            {"tweet_ids": owned, "engagement_types": WINDOWED, "groupings": PER_TWEET},
        ),
    ]


def _wait_until_serving(client: Client, http: httpx.Client, base_url: str, world: World) -> int:
    """Poll /readyz and every read endpoint (new connections, so both workers) until a few
    rounds in a row answer 200; meanwhile only 503 ``Store unavailable`` is accepted. Fails after
    a bounded wait. Returns the number of rounds taken."""
    reads = _reads(world)
    deadline = time.monotonic() + 40
    in_a_row = 0
    for rounds in range(1, 400):
        ready = http.get(f"{base_url}/readyz")
        statuses = [ready.status_code]
        if ready.status_code == 503:
            assert ready.json() == {"status": "unavailable", "errors": ["Store unavailable"]}
        for endpoint, auth, body in reads:
            response = client.post(endpoint, body, auth)
            statuses.append(response.status_code)
            if response.status_code != 200:
                assert (response.status_code, response.json()) == (503, STORE_UNAVAILABLE)
        in_a_row = in_a_row + 1 if set(statuses) == {200} else 0
        if in_a_row == 3:
            return rounds
        assert time.monotonic() < deadline, f"the service did not come back: {statuses}"
        time.sleep(0.1)
    raise AssertionError("the service did not come back")


class StreamSender(threading.Thread):
    """Sends batches one after another, on one kept-alive connection, until the first answer
    that is not 200 (or the last batch). ``answers`` holds (key, status, JSON body)."""

    def __init__(self, base_url: str, ingest_key: str, batches: list[Batch]) -> None:
        super().__init__(daemon=True)
        self.base_url = base_url
        self.ingest_key = ingest_key
        self.batches = batches
        self.answers: list[tuple[str, int, Any]] = []
        self.progress = threading.Condition()

    def run(self) -> None:
        with httpx.Client(timeout=60.0) as http:
            for batch in self.batches:
                try:
                    response = http.post(
                        f"{self.base_url}/ingest/events",
                        content=batch.body,
                        headers=ingest_headers(self.ingest_key, batch.key),
                    )
                    answer = (batch.key, response.status_code, response.json())
                except (httpx.TransportError, ValueError) as exc:
                    answer = (batch.key, -1, repr(exc))
                with self.progress:
                    self.answers.append(answer)
                    self.progress.notify_all()
                if answer[1] != 200:
                    return

    def acked(self) -> int:
        with self.progress:
            return sum(status == 200 for _key, status, _body in self.answers)


def test_postgres_outage_answers_503_and_service_resumes_by_itself(
    tmp_path: Path, pg_own_server: PgServer
) -> None:
    pg = pg_own_server  # a server of its own: the run's shared one stays up
    try:
        pg.start()
        with pg.admin() as conn:
            conn.execute("CREATE DATABASE outage")
        url = pg.url("outage", pool_timeout=1)  # a request waits 1 s for a connection, then 503
        rng = random.Random(4242)
        world = make_world(rng, datetime.now(UTC), users=5, posts=30, owner_posts=15)
        creds, ingest_key = prepare(url, tmp_path, world)
        batches = make_batches(rng, world, "outage", 65, 200)
        stream, during = batches[:60], batches[60:63]  # and 2 sent only after the outage

        server = ServerProcess(url, tmp_path / "server.log", workers=2)
        server.start()
        client = Client(server.base_url, creds)
        client.session.headers["Connection"] = "close"  # a new connection each time
        base = server.base_url
        sender = StreamSender(base, ingest_key, stream)
        try:
            with httpx.Client(timeout=60.0, headers={"Connection": "close"}) as http:

                def send(batch: Batch) -> httpx.Response:
                    return http.post(
                        f"{base}/ingest/events",
                        content=batch.body,
                        headers=ingest_headers(ingest_key, batch.key),
                    )

                # Batches arrive one after another while PostgreSQL is stopped (fast mode).
                sender.start()
                with sender.progress:
                    assert sender.progress.wait_for(
                        lambda: len(sender.answers) >= 5 or not sender.is_alive(), timeout=60
                    )
                pg.stop()
                sender.join(timeout=120)
                assert not sender.is_alive()
                *acked, last = sender.answers
                assert all(
                    status == 200 and body == {"accepted": 200, "duplicate": False}
                    for _key, status, body in acked
                ), acked
                assert len(acked) >= 5
                # the answer after the stop: 503, unless the stream ended first
                assert last[1:] in (
                    (503, STORE_UNAVAILABLE),
                    (200, {"accepted": 200, "duplicate": False}),
                ), last
                acknowledged = {key for key, status, _body in sender.answers if status == 200}
                in_flight = last[0] if last[1] == 503 else None

                # answers of the signed client (requests) and of send() (httpx)
                response: requests.Response | httpx.Response
                for endpoint, auth, body in _reads(world):
                    response = client.post(endpoint, body, auth)
                    assert (response.status_code, response.json()) == (503, STORE_UNAVAILABLE), (
                        endpoint,
                        auth,
                    )
                for batch in during:
                    response = send(batch)
                    assert (response.status_code, response.json()) == (503, STORE_UNAVAILABLE)
                ready = http.get(f"{base}/readyz")
                assert ready.status_code == 503
                assert ready.json() == {"status": "unavailable", "errors": ["Store unavailable"]}
                health = http.get(f"{base}/healthz")
                assert (health.status_code, health.json()) == (200, {"status": "ok"})

                pg.start()  # the same data directory and port; the API server is not touched
                _wait_until_serving(client, http, base, world)
                assert server.proc is not None and server.proc.poll() is None  # never restarted

                for batch in batches:
                    response = send(batch)
                    assert response.status_code == 200, (batch.key, response.text)
                    answer = response.json()
                    assert answer["accepted"] == 200
                    if batch.key in acknowledged:  # nothing acknowledged was lost
                        assert answer["duplicate"] is True, batch.key
                    elif batch.key != in_flight:  # refused with 503, or never sent: applied now
                        assert answer["duplicate"] is False, batch.key
                    # (the one in flight at the stop may have committed without its answer)
                assert_counts_exact(client, world, _events(batches))
                assert http.get(f"{base}/readyz").json() == {"status": "ok"}
        finally:
            client.close()
            server.stop()
            sender.join(timeout=60)
    finally:
        pg.destroy()
