"""The real app for end-to-end client tests: tests.support.harness's server and world, plus a user
with 60 Posts and 60 days of events, and client helpers signed at the ManualClock's time."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from engagement_api.client import EngagementClient, OAuth1App, OAuth1User
from engagement_api.clock import ManualClock
from engagement_api.service import credentials
from engagement_api.store import Store
from tests.support.harness import PREFIX, Api, ThreadServer, build_api
from tests.support.model import Event, iso

DAVE = 1004
DAVE_POSTS = [2_200_000_000_000_000_000 + i for i in range(60)]
TYPES = ("impressions", "favorites", "url_clicks", "retweets", "other_engagements")


@dataclass
class World:
    api: Api
    events: list[Event]
    dave: tuple[str, str]  # access token and secret

    def wall(self) -> float:
        return self.api.clock.now().timestamp()

    def client(self, who: str = "dave", **kwargs: Any) -> EngagementClient:
        app = self.api.app
        if who == "dave":
            auth: Any = OAuth1User(
                app.consumer_key, app.consumer_secret, *self.dave, clock=self.wall
            )
        elif who == "app":
            auth = OAuth1App(app.consumer_key, app.consumer_secret, clock=self.wall)
        else:
            _, token, secret = self.api.tokens[who]
            auth = OAuth1User(app.consumer_key, app.consumer_secret, token, secret, clock=self.wall)
        return EngagementClient(
            self.api.base_url + PREFIX, auth=auth, wall_clock=self.wall, **kwargs
        )


def dave_events(now: datetime, days: int = 60, count: int = 4000, seed: int = 7) -> list[Event]:
    """Events on Dave's Posts over the last ``days`` days (and some just before), undo included."""
    rng = random.Random(seed)
    events = []
    for _ in range(count):
        post = rng.choice(DAVE_POSTS)
        kind = rng.choice(TYPES)
        at = now - timedelta(seconds=rng.randrange(0, (days + 2) * 86400))
        amount = rng.randint(1, 50) if kind == "impressions" else rng.choice([1, 1, 2, -1])
        if kind not in ("favorites", "retweets") and amount < 0:
            amount = 1
        events.append(Event(post, kind, at, amount))
    return events


@contextmanager
def world(
    server: ThreadServer, store: Store, clock: ManualClock, **settings: Any
) -> Iterator[World]:
    with build_api(server, store, clock, **settings) as api:
        api.load("users", [{"id": str(DAVE), "handle": "dave"}])
        created = iso(clock.now() - timedelta(days=120))
        api.load(
            "tweets",
            [{"id": str(p), "author_id": str(DAVE), "created_at": created} for p in DAVE_POSTS],
        )
        events = dave_events(clock.now())
        api.send_events(events)
        token = credentials.create_token(store, clock, api.app.consumer_key, DAVE)
        yield World(api, events, (token.token, token.secret))
