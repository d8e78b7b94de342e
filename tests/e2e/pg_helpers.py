"""Helpers for test_postgres_e2e.py: a PostgreSQL database prepared with the CLI, event batches
with their idempotency keys, the sender run in child processes (importable, so ``spawn`` works),
and the exact-count checks against the independent model of tests/support/model.py.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.data import (
    Client,
    Credentials,
    World,
    expected_totals,
    make_events,
    ndjson,
    write_ndjson,
)
from tests.support.model import TOTALS_METRICS, Counts, Event, hours_between, parse_z, tree
from tests.support.processes import run_cli_json

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
PER_TWEET = {"perTweet": {"group_by": ["tweet.id", "engagement.type"]}}
STORE_UNAVAILABLE = {"errors": ["Store unavailable"]}


@dataclass(frozen=True)
class Batch:
    key: str
    events: list[Event]
    body: bytes


def make_batches(
    rng: random.Random,
    world: World,
    prefix: str,
    count: int,
    size: int,
    event_days: int = 27,
    positive: bool = False,
) -> list[Batch]:
    """``count`` batches of ``size`` events each, keyed ``prefix-NN``. With ``positive`` no
    event is an undo (count -1), so every counter can only grow as batches arrive."""
    out = []
    for i in range(count):
        events = make_events(rng, world, size, event_days=event_days)
        if positive:
            events = [replace(e, count=abs(e.count)) for e in events]
        out.append(Batch(f"{prefix}-{i:02d}", events, ndjson(e.record() for e in events)))
    return out


def prepare(url: str, where: Path, world: World) -> tuple[Credentials, str]:
    """Migrate the database and load users and Posts with the CLI; create an app, an access token
    for the world's owner and an ingest key. Returns the credentials and the ingest key."""
    assert run_cli_json("migrate", database_url=url)["schema_version"] >= 1
    users = write_ndjson(where / "users.ndjson", world.users)
    tweets = write_ndjson(where / "tweets.ndjson", [p.record() for p in world.posts])
    assert run_cli_json("load", "users", str(users), database_url=url) == {
        "accepted": len(world.users)
    }
    assert run_cli_json("load", "tweets", str(tweets), database_url=url) == {
        "accepted": len(world.posts)
    }
    app = run_cli_json("apps", "create", "pg e2e app", database_url=url)
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
    return creds, str(ingest_key)


def ingest_headers(ingest_key: str, key: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {ingest_key}",
        "Content-Type": "application/x-ndjson",
        "Idempotency-Key": key,
    }


def send_plan(
    base_url: str, ingest_key: str, plan: list[tuple[str, bytes]], barrier: Any, acked: Any
) -> list[tuple[str, int, str]]:
    """Run in a child process: wait at ``barrier``, then POST each (key, body) of ``plan`` to
    /ingest/events in order. Every key answered 200 is appended to the shared list ``acked``
    (after the answer, so a key in it is committed). Returns (key, status, text) per request;
    status -1 is a transport error."""
    results: list[tuple[str, int, str]] = []
    with httpx.Client(timeout=60.0) as client:
        barrier.wait(timeout=60)
        for key, body in plan:
            try:
                response = client.post(
                    f"{base_url}/ingest/events",
                    content=body,
                    headers=ingest_headers(ingest_key, key),
                )
            except httpx.TransportError as exc:
                results.append((key, -1, repr(exc)))
                continue
            if response.status_code == 200:
                acked.append(key)
            results.append((key, response.status_code, response.text))
    return results


def assert_counts_exact(client: Client, world: World, events: list[Event]) -> None:
    """/totals (bearer, every Post; user context, the owner's Posts) and /historical (the
    owner's Posts, three groupings) answer exactly the sums of ``events``."""
    counts = Counts(events)
    every = [p.id for p in world.posts]
    data = client.ok(
        "totals",
        {"tweet_ids": [str(i) for i in every], "engagement_types": PUBLIC, "groupings": PER_TWEET},
        auth="bearer",
    )
    assert data["perTweet"] == expected_totals(world, counts, every, PUBLIC)
    owned = world.owned(world.owner)
    assert 0 < len(owned) <= 25
    data = client.ok(
        "totals",
        {
            "tweet_ids": [str(i) for i in owned],
            "engagement_types": list(TOTALS_METRICS),
            "groupings": PER_TWEET,
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
