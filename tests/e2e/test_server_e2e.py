"""The real thing: a database prepared with the CLI, `engagement-api serve` in a child process on
the system clock, and requests signed by requests-oauthlib (user context and app-only) and with
the app's bearer token. Every count is checked against sums computed here from the generated
events; windows are taken from each response's own start/end (the hour may turn mid-test).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
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
    write_json,
    write_ndjson,
)
from tests.support.model import (
    TOTALS_METRICS,
    WINDOWED_METRICS,
    Counts,
    floor_hour,
    hours_between,
    parse_z,
    tree,
)
from tests.support.processes import ServerProcess, run_cli_json

# One worker runs them all (xdist group): the deployment is module-scoped, and a module's tests
# spread over the workers would each prepare and start one of their own.
pytestmark = [pytest.mark.xdist_group("server_e2e"), pytest.mark.slow]

PUBLIC = ["favorites", "quote_tweets", "replies", "retweets", "video_views"]


@dataclass
class Deployment:
    world: World
    counts: Counts
    client: Client
    server: ServerProcess


def _chunks(ids: list[int], size: int) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    where: Path = tmp_path_factory.mktemp("e2e")
    url = f"sqlite:///{where / 'engagement.db'}"
    rng = random.Random(20261126)
    world = make_world(rng, datetime.now(UTC))
    world.events = make_events(rng, world, 20_000)
    events = [e.record() for e in world.events]

    assert run_cli_json("migrate", database_url=url)["schema_version"] >= 1
    users = write_ndjson(where / "users.ndjson", world.users)
    tweets = write_json(where / "tweets.json", [p.record() for p in world.posts])
    assert run_cli_json("load", "users", str(users), database_url=url) == {"accepted": 30}
    assert run_cli_json("load", "tweets", str(tweets), database_url=url) == {"accepted": 200}
    parts = [
        write_ndjson(where / "events-1.ndjson", events[:7_000]),
        write_json(where / "events-2.json", events[7_000:14_000]),
        write_ndjson(where / "events-3.ndjson", events[14_000:]),
    ]
    for part, size in zip(parts, (7_000, 7_000, 6_000), strict=True):
        done = run_cli_json("load", "events", str(part), database_url=url)
        assert (done["accepted"], done["duplicate"]) == (size, False)
    again = run_cli_json("load", "events", str(parts[0]), database_url=url)
    assert (again["accepted"], again["duplicate"]) == (7_000, True)  # counted once

    app = run_cli_json("apps", "create", "e2e app", database_url=url)
    token = run_cli_json(
        "tokens",
        "create",
        "--app",
        app["consumer_key"],
        "--user",
        str(world.owner),
        database_url=url,
    )
    assert token["user_id"] == str(world.owner)
    creds = Credentials(
        app["consumer_key"],
        app["consumer_secret"],
        app["bearer_token"],
        token["access_token"],
        token["access_token_secret"],
    )
    server = ServerProcess(url, where / "server.log")
    server.start()
    client = Client(server.base_url, creds)
    try:
        yield Deployment(world, Counts(world.events), client, server)
    finally:
        client.close()
        server.stop()


@pytest.mark.parametrize("auth", ["bearer", "app"])
def test_totals_public_metrics_of_every_post(deployment: Deployment, auth: str) -> None:
    world, counts = deployment.world, deployment.counts
    ids = [p.id for p in world.posts]
    data = deployment.client.ok(
        "totals",
        {
            "tweet_ids": [str(i) for i in ids],
            "engagement_types": PUBLIC,
            "groupings": {
                "perTweet": {"group_by": ["tweet.id", "engagement.type"]},
                "Grand Totals": {"group_by": ["engagement.type"]},
            },
        },
        auth=auth,
    )
    per_tweet = expected_totals(world, counts, ids, PUBLIC)
    unavailable = sorted(p.id for p in world.posts if not p.available)
    assert unavailable, "the seed should give some deleted or protected Posts"
    assert data["perTweet"] == per_tweet
    assert data["Grand Totals"] == {
        m: str(sum(int(v[m]) for v in per_tweet.values())) for m in PUBLIC
    }
    assert data["unavailable_tweet_ids"] == [str(i) for i in unavailable]
    assert data["errors"] == [f"{len(unavailable)} Tweet ID(s) are unavailable"]
    shared = [p for p in world.posts if p.available and len(world.carriers(p.id)) > 1]
    assert shared, "the seed should give videos carried by several Posts"


def test_totals_user_context_private_metrics(deployment: Deployment) -> None:
    world, counts = deployment.world, deployment.counts
    owned = world.owned(world.owner, available=False)
    response = deployment.client.post(
        "totals",
        {
            "tweet_ids": [str(i) for i in owned],
            "engagement_types": list(TOTALS_METRICS),
            "groupings": {"perTweet": {"group_by": ["tweet.id", "engagement.type"]}},
        },
    )
    assert response.status_code == 200, response.text
    assert response.headers["Content-Encoding"] == "gzip"  # requests asks for gzip
    data = response.json()
    assert data["perTweet"] == expected_totals(world, counts, owned, TOTALS_METRICS)
    assert any(int(v["impressions"]) > 0 for v in data["perTweet"].values())


def test_28hr_matches_the_events_hour_by_hour(deployment: Deployment) -> None:
    world, counts = deployment.world, deployment.counts
    owned = world.owned(world.owner)
    group_by = ["tweet.id", "engagement.type", "engagement.day", "engagement.hour"]
    seen = 0
    for chunk in _chunks(owned, 25):
        before = datetime.now(UTC)
        data = deployment.client.ok(
            "28hr",
            {
                "tweet_ids": [str(i) for i in chunk],
                "engagement_types": list(WINDOWED_METRICS),
                "groupings": {
                    "hourly": {"group_by": group_by},
                    "sums": {"group_by": ["engagement.type", "tweet.id"]},
                },
            },
        )
        after = datetime.now(UTC)
        start, end = parse_z(data["start"]), parse_z(data["end"])
        assert end - start == timedelta(hours=29)
        assert floor_hour(before) <= end - timedelta(hours=1) <= floor_hour(after)
        hours = hours_between(start, end)
        for name, levels in (("hourly", group_by), ("sums", ["engagement.type", "tweet.id"])):
            assert data[name] == tree(levels, chunk, WINDOWED_METRICS, hours, counts.over(hours)), (
                name
            )
        seen += sum(int(v) for per_post in data["sums"].values() for v in per_post.values())
    assert seen > 0, "some events should fall in the last 28 hours"


def test_historical_default_window(deployment: Deployment) -> None:
    world, counts = deployment.world, deployment.counts
    groupings = {
        "perTweet": ["tweet.id", "engagement.type"],
        "daily": ["engagement.type", "engagement.day"],
        "hour of day": ["engagement.type", "engagement.hour"],
    }
    for chunk in _chunks(world.owned(world.owner), 25):
        data = deployment.client.ok(
            "historical",
            {
                "tweet_ids": [str(i) for i in chunk],
                "engagement_types": list(WINDOWED_METRICS),
                "groupings": {k: {"group_by": v} for k, v in groupings.items()},
            },
        )
        start, end = parse_z(data["start"]), parse_z(data["end"])
        assert end - start == timedelta(days=28)
        hours = hours_between(start, end)
        for name, levels in groupings.items():
            assert data[name] == tree(levels, chunk, WINDOWED_METRICS, hours, counts.over(hours)), (
                name
            )
        # every generated event lies in the default window: it holds the lifetime sums
        for post in chunk:
            for metric in ("favorites", "impressions", "engagements"):
                assert data["perTweet"][str(post)][metric] == str(counts.lifetime(post, metric))


def test_historical_explicit_window(deployment: Deployment) -> None:
    world, counts = deployment.world, deployment.counts
    now = datetime.now(UTC)
    day = (now - timedelta(days=12)).date()
    end_at = (now - timedelta(days=3)).replace(microsecond=0)
    end_local = end_at.astimezone(timezone(timedelta(hours=5, minutes=30)))
    chunk = world.owned(world.owner)[:25]
    data = deployment.client.ok(
        "historical",
        {
            "tweet_ids": [str(i) for i in chunk],
            "engagement_types": ["impressions", "engagements", "favorites", "url_clicks"],
            "groupings": {"daily": {"group_by": ["tweet.id", "engagement.type", "engagement.day"]}},
            "start": day.isoformat(),
            "end": end_local.isoformat(),  # +05:30: converted to UTC
        },
    )
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    end = floor_hour(end_at) + (
        timedelta(hours=1) if end_at != floor_hour(end_at) else timedelta(0)
    )
    assert (parse_z(data["start"]), parse_z(data["end"])) == (start, end)
    hours = hours_between(start, end)
    assert data["daily"] == tree(
        ["tweet.id", "engagement.type", "engagement.day"],
        chunk,
        ["impressions", "engagements", "favorites", "url_clicks"],
        hours,
        counts.over(hours),
    )


def test_policy_against_the_real_server(deployment: Deployment) -> None:
    world = deployment.world
    someone_else = next(p.id for p in world.posts if p.available and p.author != world.owner)
    mine = world.owned(world.owner)[0]
    body = {
        "tweet_ids": [str(mine), str(someone_else)],
        "engagement_types": ["favorites"],
        "groupings": {"g": {"group_by": ["tweet.id", "engagement.type"]}},
    }
    response = deployment.client.post("28hr", body)
    assert response.status_code == 403
    assert response.json() == {"errors": [f"Forbidden to access tweets: {someone_else}"]}
    response = deployment.client.post("historical", body, auth="bearer")
    assert response.status_code == 403
    assert response.json() == {"errors": ["Forbidden to access endpoint: user context required"]}
    response = deployment.client.post("totals", {**body, "engagement_types": ["impressions"]})
    assert response.status_code == 403
    assert response.json() == {"errors": [f"Forbidden to access tweets: {someone_else}"]}


def test_a_normal_serve_has_no_standin_control_endpoints(deployment: Deployment) -> None:
    """/_standin/* exists only on a stand-in: a real `serve` answers 404, whatever the method
    or the headers (credentials, the fault header), and a fault header does nothing."""
    base = deployment.server.base_url
    bearer = {"Authorization": f"Bearer {deployment.client.creds.bearer_token}"}
    header_sets: list[dict[str, str]] = [
        {},
        bearer,
        {**bearer, "X-Standin-Fault": "500"},
        {"X-Standin-Fault": "reset", "X-Standin-Delay": "0"},
    ]
    with httpx.Client(timeout=10) as http:
        for path in ("/_standin", "/_standin/clock", "/_standin/faults", "/_standin/requests"):
            for method in ("GET", "POST", "DELETE"):
                for headers in header_sets:
                    response = http.request(method, base + path, headers=headers, json={})
                    assert response.status_code == 404, (method, path, headers)
                    assert response.json() == {"errors": [f"No such path: {path}"]}
        response = http.post(base + "/_standin/reset", headers={**bearer, "X-Standin-Fault": "503"})
        assert response.status_code == 404
        # the fault header is just another header to a normal server
        healthy = http.get(base + "/healthz", headers={"X-Standin-Fault": "503"})
        assert healthy.status_code == 200
