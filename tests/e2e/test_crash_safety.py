"""Crash safety: a success answer means committed, a crash leaves nothing half-applied, and
resending every batch under its key counts each batch exactly once (spec ingest.md).

Two ways to crash: SIGKILL of the `serve` process group while a thread sends event batches over
HTTP, and SIGKILL of `engagement-api load events` on a large file, once while it validates and
once while its write transaction is in the middle of the database's write-ahead log.
"""

from __future__ import annotations

import contextlib
import random
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.e2e.data import (
    Client,
    Credentials,
    World,
    expected_totals,
    make_events,
    make_world,
    ndjson,
    write_ndjson,
)
from tests.support.model import TOTALS_METRICS, Counts, Event, hours_between, parse_z, tree
from tests.support.processes import ServerProcess, kill_group, run_cli_json, start_cli

# One worker runs them all (xdist group), so that the module-scoped template and big file are
# made once.
pytestmark = [pytest.mark.xdist_group("crash_safety"), pytest.mark.slow]

PUBLIC = ["favorites", "quote_tweets", "replies", "retweets", "video_views"]
WINDOWED = [
    "engagements",
    "favorites",
    "impressions",
    "media_views",
    "replies",
    "url_clicks",
    "video_views",
]


@dataclass
class Prepared:
    where: Path
    url: str
    world: World
    creds: Credentials
    ingest_key: str

    def server(self, name: str) -> ServerProcess:
        return ServerProcess(self.url, self.where / f"{name}.log")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    """A migrated SQLite file with 5 users and 40 Posts, an app, a token and an ingest key, made
    with the CLI once for the module; each test gets a copy (:func:`prepared`)."""
    where = tmp_path_factory.mktemp("crash-template")
    url = f"sqlite:///{where / 'engagement.db'}"
    world = make_world(random.Random(7), datetime.now(UTC), users=5, posts=40, owner_posts=25)
    run_cli_json("migrate", database_url=url)
    users = write_ndjson(where / "users.ndjson", world.users)
    tweets = write_ndjson(where / "tweets.ndjson", [p.record() for p in world.posts])
    run_cli_json("load", "users", str(users), database_url=url)
    run_cli_json("load", "tweets", str(tweets), database_url=url)
    app = run_cli_json("apps", "create", "crash app", database_url=url)
    token = run_cli_json(
        "tokens",
        "create",
        "--app",
        app["consumer_key"],
        "--user",
        str(world.owner),
        database_url=url,
    )
    ingest_key = run_cli_json("ingest-keys", "create", database_url=url)["ingest_key"]
    creds = Credentials(
        app["consumer_key"],
        app["consumer_secret"],
        app["bearer_token"],
        token["access_token"],
        token["access_token_secret"],
    )
    return Prepared(where, url, world, creds, ingest_key)


@pytest.fixture
def prepared(template: Prepared, tmp_path: Path) -> Prepared:
    """The template's database copied (SQLite's backup API) into the test's own directory."""
    copy = tmp_path / "engagement.db"
    source = sqlite3.connect(template.where / "engagement.db")
    target = sqlite3.connect(copy)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
    return replace(template, where=tmp_path, url=f"sqlite:///{copy}")


def assert_counts_exact(prepared: Prepared, server: ServerProcess, events: list[Event]) -> None:
    """/totals and /historical answer exactly the sums of ``events``, each counted once."""
    world = prepared.world
    counts = Counts(events)
    client = Client(server.base_url, prepared.creds)
    try:
        every = [p.id for p in world.posts]
        data = client.ok(
            "totals",
            {
                "tweet_ids": [str(i) for i in every],
                "engagement_types": PUBLIC,
                "groupings": {"perTweet": {"group_by": ["tweet.id", "engagement.type"]}},
            },
            auth="bearer",
        )
        assert data["perTweet"] == expected_totals(world, counts, every, PUBLIC)
        owned = world.owned(world.owner)
        assert len(owned) <= 25
        data = client.ok(
            "totals",
            {
                "tweet_ids": [str(i) for i in owned],
                "engagement_types": list(TOTALS_METRICS),
                "groupings": {"perTweet": {"group_by": ["tweet.id", "engagement.type"]}},
            },
        )
        assert data["perTweet"] == expected_totals(world, counts, owned, TOTALS_METRICS)
        groupings = {
            "perTweet": ["tweet.id", "engagement.type"],
            "daily": ["tweet.id", "engagement.type", "engagement.day"],
            "hour of day": ["engagement.type", "engagement.hour"],
        }
        data = client.ok(
            "historical",
            {
                "tweet_ids": [str(i) for i in owned],
                "engagement_types": WINDOWED,
                "groupings": {k: {"group_by": v} for k, v in groupings.items()},
            },
        )
        hours = hours_between(parse_z(data["start"]), parse_z(data["end"]))
        for name, levels in groupings.items():
            assert data[name] == tree(levels, owned, WINDOWED, hours, counts.over(hours)), name
    finally:
        client.close()


def integrity_ok(url: str) -> bool:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        return bool(conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok")


@contextlib.contextmanager
def committed_batches(url: str) -> Iterator[Callable[[], int]]:
    """A function counting the batches committed in the SQLite file so far: a read-only reader
    beside the writer (WAL mode: it never waits for the writer's transaction, and each count
    is its own transaction, so it sees every commit as it happens)."""
    path = url.removeprefix("sqlite:///")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30, isolation_level=None)
    try:
        yield lambda: int(conn.execute("SELECT count(*) FROM batches").fetchone()[0])
    finally:
        conn.close()


# -- the server killed while batches arrive ----------------------------------------------------


def test_server_killed_mid_ingest_loses_and_doubles_nothing(prepared: Prepared) -> None:
    rng = random.Random(11)
    events = make_events(rng, prepared.world, 24_000)
    batches = [(f"batch-{i:03d}", events[i : i + 200]) for i in range(0, len(events), 200)]
    bodies = {key: ndjson(e.record() for e in chunk) for key, chunk in batches}
    headers = {
        "Authorization": f"Bearer {prepared.ingest_key}",
        "Content-Type": "application/x-ndjson",
    }

    acked: list[str] = []
    unexpected: list[str] = []
    progress = threading.Condition()
    server = prepared.server("first")
    server.start()

    def send_all() -> None:
        with httpx.Client(timeout=30.0) as client:
            for key, _ in batches:
                try:
                    response = client.post(
                        f"{server.base_url}/ingest/events",
                        content=bodies[key],
                        headers={**headers, "Idempotency-Key": key},
                    )
                except httpx.TransportError:
                    return  # the server is gone
                if response.status_code != 200 or response.json()["duplicate"]:
                    unexpected.append(f"{key}: {response.status_code} {response.text}")
                    return
                with progress:
                    acked.append(key)
                    progress.notify_all()

    sender = threading.Thread(target=send_all, daemon=True)
    sender.start()
    with progress:
        assert progress.wait_for(lambda: len(acked) >= 40 or not sender.is_alive(), timeout=120)
    server.kill()  # SIGKILL, the whole process group
    sender.join(timeout=60)
    assert not unexpected, unexpected
    assert 40 <= len(acked) < len(batches), "the kill should land mid-way"
    acked_before_kill = set(acked)
    assert integrity_ok(prepared.url)

    with prepared.server("second") as again, httpx.Client(timeout=30.0) as client:
        applied_now = 0
        for key, chunk in batches:
            response = client.post(
                f"{again.base_url}/ingest/events",
                content=bodies[key],
                headers={**headers, "Idempotency-Key": key},
            )
            assert response.status_code == 200, response.text
            answer = response.json()
            assert answer["accepted"] == len(chunk)
            if key in acked_before_kill:  # durable before acknowledged
                assert answer["duplicate"] is True, key
            applied_now += not answer["duplicate"]
        # at most the one batch in flight at the kill was committed without an answer
        assert len(batches) - len(acked_before_kill) - applied_now in (0, 1)
        assert_counts_exact(prepared, again, events)


# -- `load events` killed -------------------------------------------------------------------


def _wal_state(wal: Path) -> tuple[int, int] | None:
    try:
        st = wal.stat()
    except FileNotFoundError:
        return None
    return st.st_size, st.st_mtime_ns


@pytest.fixture(scope="module")
def big_file(template: Prepared) -> Iterator[tuple[Path, list[Event]]]:
    """150,000 events in one NDJSON file, made once for the module (the tests only read it)."""
    events = make_events(random.Random(13), template.world, 150_000)
    path = write_ndjson(template.where / "events.ndjson", [e.record() for e in events])
    yield path, events


def test_load_killed_mid_way_and_rerun_counts_once(
    prepared: Prepared, big_file: tuple[Path, list[Event]]
) -> None:
    path, events = big_file
    url = prepared.url
    wal = prepared.where / "engagement.db-wal"
    args = ("load", "events", str(path), "--json")
    log = prepared.where / "load.log"
    killed_mid_way = 0

    # 1. early, while it reads and validates the file
    proc = start_cli(*args, database_url=url, log_path=log)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=0.3)
    code = kill_group(proc)
    assert code in (0, -signal.SIGKILL), log.read_text()
    killed_mid_way += code == -signal.SIGKILL

    # 2. in the middle of the write transaction: as soon as the log starts to grow
    for _ in range(3):
        before = _wal_state(wal)
        proc = start_cli(*args, database_url=url, log_path=log)
        while proc.poll() is None:
            state = _wal_state(wal)
            if state is not None and state[0] > 0 and state != before:
                break
            time.sleep(0.001)
        code = kill_group(proc)
        if code == -signal.SIGKILL:
            killed_mid_way += 1
            break
        assert code == 0, log.read_text()
    assert killed_mid_way >= 1, "a kill should land while the load runs"
    assert integrity_ok(url)

    # 3. rerun to completion, then once more: the file's content hash is its key
    first = run_cli_json(*args, database_url=url)
    assert first["accepted"] == len(events)
    second = run_cli_json(*args, database_url=url)
    assert second == {**first, "duplicate": True}

    with prepared.server("after-load") as server:
        assert_counts_exact(prepared, server, events)


def test_load_of_several_files_killed_mid_way_and_rerun_counts_each_once(
    prepared: Prepared, big_file: tuple[Path, list[Event]]
) -> None:
    _, events = big_file
    parts = [events[i::4] for i in range(4)]
    paths = [
        write_ndjson(prepared.where / f"part-{i}.ndjson", [e.record() for e in part])
        for i, part in enumerate(parts)
    ]
    url = prepared.url
    args = ("load", "events", *map(str, paths), "--json")
    log = prepared.where / "load-many.log"

    # killed as soon as the first file's batch is committed: the first file applied, the run not
    # over (a change of the write-ahead log is no such sign: a long transaction writes to it too)
    with committed_batches(url) as committed:
        before = committed()
        proc = start_cli(*args, database_url=url, log_path=log)
        while proc.poll() is None and committed() == before:
            time.sleep(0.001)
        code = kill_group(proc)
    assert code == -signal.SIGKILL, log.read_text()  # (four files: the run was not over)
    assert integrity_ok(url)

    rerun = run_cli_json(*args, database_url=url)
    files = rerun["files"]
    assert isinstance(files, list) and len(files) == 4
    assert [f["accepted"] for f in files] == [len(p) for p in parts]
    # what the killed run applied (a first part of the files, in order) is a duplicate now
    done = [f["duplicate"] for f in files]
    assert done == sorted(done, reverse=True) and done[0] and not done[-1], done
    again = run_cli_json(*args, database_url=url)
    assert all(f["duplicate"] for f in again["files"])

    with prepared.server("after-load-many") as server:
        assert_counts_exact(prepared, server, events)
