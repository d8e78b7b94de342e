"""Faults of the ClickHouse counters as production meets them, on a private 2 x 2 cluster (these
tests stop its nodes; the run's shared cluster stays up): one replica of a shard down, every
replica of a shard down, ZooKeeper down, the catalog down. Through the real app over HTTP; each
test ends with every count exact (the sums of the acknowledged batches) and says which part
``/readyz`` found down.

The catch-up time of a replica that comes back is measured and printed (docs/scaling.md quotes
it); no test asserts a time.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from clickhouse_driver import Client
from devtools.clickhouse_cluster import LocalCluster, Node

from engagement_api.clock import ManualClock
from engagement_api.contract.metrics import METRICS
from engagement_api.store import open_store
from engagement_api.store.split import SplitStore
from tests.support import NOW, shared
from tests.support.clickhouse import ClickHouseResource, private_cluster
from tests.support.harness import ALICE_AVAILABLE, Api, ThreadServer, body, build_api
from tests.support.model import Event
from tests.support.pg import SharedCluster

# One worker runs them all (xdist group), so that the module's private cluster starts once.
pytestmark = [pytest.mark.xdist_group("clickhouse_faults"), pytest.mark.slow]

STORE_UNAVAILABLE = {"errors": ["Store unavailable"]}
POSTS = ALICE_AVAILABLE[:4]  # RECENT, PHOTO, OLD, ANCIENT, all alice's
_names = itertools.count(1)


@pytest.fixture(scope="module")
def cluster(request: pytest.FixtureRequest) -> Iterator[LocalCluster]:
    parent = shared.workdir(request.config, ClickHouseResource())
    with private_cluster(parent, f"faults-{request.node.name}-{time.monotonic_ns()}") as found:
        yield found


@pytest.fixture
def api(
    cluster: LocalCluster, pg_cluster: SharedCluster, thread_server: ThreadServer
) -> Iterator[Api]:
    database = pg_cluster.new_database()
    store = open_store(pg_cluster.url(database), cluster.counters_url(f"f{next(_names)}"))
    try:
        store.migrate()
        with build_api(thread_server, store, ManualClock(NOW)) as running:
            yield running
    finally:
        store.close()
        pg_cluster.drop_database(database)
        for node in cluster.nodes:  # whatever a test stopped comes back for the next one
            if not _answers(node):
                cluster.start_node(node)
        if not cluster.zookeeper_ok():
            cluster.start_zookeeper()


def _answers(node: Node) -> bool:
    client = Client("127.0.0.1", port=node.tcp_port, connect_timeout=1)
    try:
        client.execute("SELECT 1")
        return True
    except Exception:
        return False
    finally:
        client.disconnect()


def _events(n: int, seed: int) -> list[Event]:
    """``n`` favorites and impressions spread over the 4 Posts and the last 3 days."""
    out = []
    for i in range(n):
        at = NOW - timedelta(hours=1 + (i * 7 + seed) % 70, minutes=i % 60)
        kind = "favorites" if i % 3 else "impressions"
        out.append(Event(POSTS[(i + seed) % len(POSTS)], kind, at, 1))
    return out


def _expected(events: list[Event]) -> dict[str, dict[str, str]]:
    per_post = {str(p): {"favorites": 0, "impressions": 0} for p in POSTS}
    for event in events:
        per_post[str(event.tweet_id)][event.type] += event.count
    return {post: {k: str(v) for k, v in counts.items()} for post, counts in per_post.items()}


READ = body(POSTS[:2], ["favorites", "impressions"])  # RECENT and PHOTO: under 90 days


def assert_exact(api: Api, acknowledged: list[Event]) -> None:
    """/totals answers the sums of the acknowledged events (RECENT and PHOTO)."""
    expected = _expected(acknowledged)
    answer = api.read_ok("totals", READ)
    assert answer["perTweet"] == {p: expected[p] for p in map(str, POSTS[:2])}


def _readyz(api: Api) -> tuple[int, dict[str, Any]]:
    response = api.request("GET", "/readyz", auth=None)
    return response.status_code, response.json()


def _wait(condition: Callable[[], bool], timeout: float = 60.0) -> float:
    """Seconds until ``condition`` holds (fails the test after ``timeout``)."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, "the condition never held"
        time.sleep(0.1)
    return time.monotonic() - start


def _local_favorites(node: Node, database: str) -> int:
    client = Client("127.0.0.1", port=node.tcp_port, connect_timeout=1)
    try:
        rows = client.execute(
            f"SELECT sum(n) FROM {database}.totals_local WHERE metric = %(m)s",
            {"m": METRICS["favorites"].code},
        )
        return int(rows[0][0] or 0)
    finally:
        client.disconnect()


def _database(api: Api) -> str:
    store = api.store
    assert isinstance(store, SplitStore)
    return store.counters.settings.database


def test_one_replica_down_reads_and_ingest_go_on_and_it_catches_up(
    api: Api, cluster: LocalCluster
) -> None:
    acknowledged = _events(60, 1)
    api.send_events(acknowledged)
    first = cluster.shard_nodes(1)[0]  # the replica reads and inserts prefer
    cluster.kill_node(first)
    assert_exact(api, acknowledged)
    more = _events(45, 2)
    api.send_events(more)  # goes to the other replica of shard 1
    acknowledged += more
    assert_exact(api, acknowledged)
    assert _readyz(api)[0] == 200

    cluster.start_node(first)
    database = _database(api)
    sibling = cluster.shard_nodes(1)[1]
    target = _local_favorites(sibling, database)
    seconds = _wait(lambda: _local_favorites(first, database) == target)
    print(f"\nreplica {first.name} caught up {seconds:.1f} s after its restart")
    assert_exact(api, acknowledged)


def test_a_whole_shard_down_answers_503_loses_nothing_and_is_exact_after(
    api: Api, cluster: LocalCluster
) -> None:
    acknowledged = _events(50, 3)
    api.send_events(acknowledged)
    shard = cluster.shard_nodes(2)
    for node in shard:
        cluster.kill_node(node)

    response = api.read("totals", READ)
    assert (response.status_code, response.json()) == (503, STORE_UNAVAILABLE)
    for endpoint in ("28hr", "historical"):
        response = api.read(endpoint, body(POSTS[:2], ["favorites"]))
        assert (response.status_code, response.json()) == (503, STORE_UNAVAILABLE)
    status, ready = _readyz(api)
    assert status == 503 and ready["parts"]["counters"] == "down"
    assert ready["parts"]["catalog"] == "ok"

    refused = _events(40, 4)
    response = api.ingest("events", [e.record() for e in refused], key="refused-1")
    assert (response.status_code, response.json()) == (503, STORE_UNAVAILABLE)
    store = api.store
    assert isinstance(store, SplitStore)
    assert [claim.key for claim in store.pending()] == ["refused-1"]  # kept, not acknowledged

    for node in shard:
        cluster.start_node(node)
    assert _readyz(api)[0] == 200
    # the refused batch sent again (the client's retry): counted once, with what shard 1 got
    api.send_events(refused, key="refused-1")
    acknowledged += refused
    assert store.pending() == []
    assert_exact(api, acknowledged)


def test_zookeeper_down_refuses_ingest_and_reads_go_on(api: Api, cluster: LocalCluster) -> None:
    acknowledged = _events(30, 5)
    api.send_events(acknowledged)
    cluster.stop_zookeeper()

    assert_exact(api, acknowledged)
    status, ready = _readyz(api)
    assert (status, ready["status"], ready["parts"]["zookeeper"]) == (200, "degraded", "down")
    refused = _events(20, 6)
    response = api.ingest("events", [e.record() for e in refused], key="zk-1")
    assert (response.status_code, response.json()) == (503, STORE_UNAVAILABLE)

    cluster.start_zookeeper()

    # replicated tables take their sessions back a few seconds after ZooKeeper returns
    def accepted() -> bool:
        again = api.ingest("events", [e.record() for e in refused], key="zk-1")
        assert again.status_code in (200, 503), again.text
        return again.status_code == 200

    seconds = _wait(accepted)
    print(f"\ningest accepted again {seconds:.1f} s after ZooKeeper came back")
    acknowledged += refused
    assert_exact(api, acknowledged)
    assert _readyz(api) == (200, {"status": "ok", "parts": dict.fromkeys(ready["parts"], "ok")})


def test_the_catalog_down_answers_503(api: Api) -> None:
    acknowledged = _events(10, 7)
    api.send_events(acknowledged)
    store = api.store
    assert isinstance(store, SplitStore)
    store.catalog.close()
    response = api.read("totals", READ)
    assert (response.status_code, response.json()) == (503, STORE_UNAVAILABLE)
    response = api.ingest("events", [e.record() for e in _events(5, 8)], key="cat-1")
    assert (response.status_code, response.json()) == (503, STORE_UNAVAILABLE)
    status, ready = _readyz(api)
    assert status == 503
    assert ready["parts"] == {"catalog": "down", "counters": "ok", "zookeeper": "ok"}
