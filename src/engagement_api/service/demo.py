"""Seeding a demo database: synthetic data through the real load path, and credentials."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

import orjson

from engagement_api.clock import Clock
from engagement_api.contract.ids import parse_id
from engagement_api.contract.times import format_timestamp
from engagement_api.ingest import Format
from engagement_api.ingest.generator import Synthetic, generate
from engagement_api.service import credentials
from engagement_api.service.loading import Loader
from engagement_api.store.protocols import Store


@dataclass(frozen=True)
class DemoCredentials:
    consumer_key: str
    consumer_secret: str
    bearer_token: str
    access_token: str
    access_token_secret: str
    user_id: int
    handle: str
    ingest_key: str
    #: Posts of the demo user, most engaged in the last 28 hours first.
    own_posts: list[int]
    #: The most engaged available Posts overall (for app-only /totals examples).
    top_posts: list[int]
    #: Signs an operator in to the dashboard.
    admin_key: str
    #: A one-time link that signs the demo user in to the dashboard (their own Posts).
    dashboard_link: str


def _ndjson(records: list[dict[str, object]]) -> bytes:
    return b"\n".join(orjson.dumps(r) for r in records) + b"\n"


def seed(store: Store, clock: Clock, users: int, tweets: int, days: int, seed: int) -> Synthetic:
    """Generate a data set as of ``clock.now()`` and load it as any producer would."""
    data = generate(users=users, tweets=tweets, days=days, now=clock.now(), seed=seed)
    loader = Loader(store, store, clock)
    loader.load_users(_ndjson(data.users), Format.NDJSON)
    loader.load_tweets(_ndjson(data.tweets), Format.NDJSON)
    events = "\n".join(data.event_lines()).encode() + b"\n"
    loader.load_events(events, Format.NDJSON)
    return data


def issue_credentials(
    store: Store,
    clock: Clock,
    data: Synthetic,
    base_url: str = "http://127.0.0.1:8000",
    link_ttl: int = 900,
) -> DemoCredentials:
    """An app, an access token for the busiest author, an ingest key, an admin key and a
    one-time dashboard link for that author (served at ``base_url``)."""
    volume: dict[int, int] = defaultdict(int)
    recent: dict[int, int] = defaultdict(int)  # in the last 28 hours: what /28hr shows
    since = format_timestamp(data.now - timedelta(hours=28))
    for event in data.events():
        count = event.get("count", 1)
        amount = count if isinstance(count, int) else 1
        post_id = parse_id(event["tweet_id"])
        volume[post_id] += amount
        if str(event["at"]) >= since:
            recent[post_id] += amount
    available = {
        parse_id(t["id"]): parse_id(t["author_id"])
        for t in data.tweets
        if not t.get("deleted") and not t.get("protected")
    }
    ranked = sorted((pid for pid in volume if pid in available), key=lambda p: -volume[p])
    by_author: dict[int, int] = defaultdict(int)
    for pid in ranked:
        by_author[available[pid]] += volume[pid]
    user_id = max(by_author, key=lambda u: by_author[u])
    own = sorted(
        (pid for pid in ranked if available[pid] == user_id), key=lambda p: -recent.get(p, 0)
    )
    handle = next(str(u["handle"]) for u in data.users if parse_id(u["id"]) == user_id)
    issued = credentials.create_app(store, clock, "demo", 600)
    token = credentials.create_token(store, clock, issued.consumer_key, user_id)
    return DemoCredentials(
        consumer_key=issued.consumer_key,
        consumer_secret=issued.consumer_secret,
        bearer_token=issued.bearer_token,
        access_token=token.token,
        access_token_secret=token.secret,
        user_id=user_id,
        handle=handle,
        ingest_key=credentials.create_ingest_key(store, clock),
        own_posts=own[:5],
        top_posts=ranked[:5],
        admin_key=credentials.create_admin_key(store, clock),
        dashboard_link=credentials.create_dashboard_link(
            store, clock, user_id, base_url, link_ttl
        ).url,
    )
