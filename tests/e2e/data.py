"""Seeded synthetic data for the end-to-end tests, and the counts it should produce.

Everything is relative to the REAL current time (the server under test uses the system clock):
Posts are created in the last ``post_days`` days, events happen in the last ``event_days`` days,
never later than ``now - margin`` and never before their Post's ``created_at``. Expected answers
come from :mod:`tests.support.model`, an implementation independent of the package.
"""

from __future__ import annotations

import functools
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from requests_oauthlib import OAuth1

from tests.support.model import UNDOABLE, Counts, Event, iso

#: Event types a generator sends (video_views only on Posts with a video).
TYPES = (
    "impressions",
    "impressions",
    "impressions",
    "impressions",
    "favorites",
    "favorites",
    "retweets",
    "quote_tweets",
    "replies",
    "video_views",
    "video_views",
    "media_views",
    "media_engagements",
    "media_clicks",
    "url_clicks",
    "hashtag_clicks",
    "detail_expands",
    "permalink_clicks",
    "app_install_attempts",
    "app_opens",
    "email_tweet",
    "user_follows",
    "user_profile_clicks",
    "other_engagements",
)


@dataclass(frozen=True)
class PostInfo:
    id: int
    author: int
    created_at: datetime
    video: str | None
    deleted: bool = False
    protected: bool = False

    @property
    def available(self) -> bool:
        return not (self.deleted or self.protected)

    def record(self) -> dict[str, Any]:
        media = [{"media_key": self.video, "type": "video"}] if self.video else []
        if not self.video and self.id % 3 == 0:
            media = [{"media_key": f"3_{self.id}", "type": "photo"}]
        return {
            "id": str(self.id),
            "author_id": str(self.author),
            "created_at": iso(self.created_at),
            "media": media,
            "protected": self.protected,
            "deleted": self.deleted,
        }


@dataclass
class World:
    now: datetime
    users: list[dict[str, str]]
    posts: list[PostInfo]
    events: list[Event] = field(default_factory=list)

    @property
    def owner(self) -> int:
        """The user whose access token the tests use (user 0, author of the most Posts)."""
        return int(self.users[0]["id"])

    def owned(self, user: int, available: bool = True) -> list[int]:
        return sorted(
            p.id for p in self.posts if p.author == user and (p.available or not available)
        )

    def carriers(self, post: int) -> list[int]:
        """Every Post that carries the same video as ``post`` (itself included)."""
        video = self.by_id[post].video
        return [p.id for p in self.posts if video is not None and p.video == video]

    @functools.cached_property
    def by_id(self) -> dict[int, PostInfo]:
        return {p.id: p for p in self.posts}


def make_world(
    rng: random.Random,
    now: datetime,
    users: int = 30,
    posts: int = 200,
    post_days: int = 60,
    owner_posts: int = 40,
) -> World:
    """Users and Posts (no events yet). User 0 authors ``owner_posts`` Posts; some Posts share
    a video (re-posts), a few are deleted or protected."""
    people = [{"id": str(7_000 + i), "handle": f"user_{i}"} for i in range(users)]
    shared_videos = [f"7_shared_{i}" for i in range(8)]
    infos = []
    for i in range(posts):
        author = 7_000 if i < owner_posts else 7_000 + rng.randrange(1, users)
        created = now - timedelta(seconds=rng.randrange(3600, post_days * 86400))
        roll = rng.random()
        video = rng.choice(shared_videos) if roll < 0.2 else f"7_own_{i}" if roll < 0.35 else None
        state = rng.random()
        infos.append(
            PostInfo(
                id=1_600_000_000_000_000_000 + i * 7_919 + rng.randrange(7_919),
                author=author,
                created_at=created.replace(microsecond=0),
                video=video,
                deleted=state < 0.03,
                protected=0.03 <= state < 0.06,
            )
        )
    return World(now, people, infos)


def make_events(
    rng: random.Random,
    world: World,
    count: int,
    event_days: int = 27,
    margin: timedelta = timedelta(minutes=10),
) -> list[Event]:
    """``count`` events on random Posts, in the last ``event_days`` days, ``margin`` before now."""
    latest = world.now - margin
    earliest = world.now - timedelta(days=event_days)
    weights = [rng.random() ** 2 + 0.05 for _ in world.posts]
    out = []
    for post in rng.choices(world.posts, weights, k=count):
        start = max(post.created_at, earliest)
        moment = start + timedelta(seconds=rng.randrange(int((latest - start).total_seconds())))
        kind = rng.choice(TYPES)
        if kind == "video_views" and post.video is None:
            kind = "media_views"
        amount = 1 if rng.random() < 0.8 else rng.randrange(2, 40)
        if kind in UNDOABLE and rng.random() < 0.05:
            amount = -1
        out.append(Event(post.id, kind, moment, amount))
    return out


def ndjson(records: Iterable[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(r, separators=(",", ":")).encode() + b"\n" for r in records)


def write_ndjson(path: Path, records: Iterable[dict[str, Any]]) -> Path:
    path.write_bytes(ndjson(records))
    return path


def write_json(path: Path, records: Sequence[dict[str, Any]]) -> Path:
    path.write_text(json.dumps(list(records)))
    return path


# -- expectations --------------------------------------------------------------------------


def expected_totals(
    world: World, counts: Counts, posts: Sequence[int], metrics: Sequence[str]
) -> dict[str, dict[str, str]]:
    """/totals ``perTweet`` for the available ones among ``posts``."""
    by_id = world.by_id
    return {
        str(p): {
            m: str(counts.totals_value(p, m, world.carriers(p) if m == "video_views" else ()))
            for m in metrics
        }
        for p in sorted(posts)
        if by_id[p].available
    }


# -- a client: requests + requests-oauthlib, as an outside program would talk to the server --


@dataclass
class Credentials:
    consumer_key: str
    consumer_secret: str
    bearer_token: str
    access_token: str
    access_token_secret: str


class Client:
    """POSTs to the read endpoints, signed the three ways a real client can."""

    def __init__(self, base_url: str, creds: Credentials) -> None:
        self.base_url = base_url
        self.creds = creds
        self.session = requests.Session()

    def close(self) -> None:
        self.session.close()

    def post(self, endpoint: str, body: dict[str, Any], auth: str = "user") -> requests.Response:
        c = self.creds
        headers = {"Content-Type": "application/json"}
        signer: Any = None
        if auth == "user":
            signer = OAuth1(
                c.consumer_key, c.consumer_secret, c.access_token, c.access_token_secret
            )
        elif auth == "app":
            signer = OAuth1(c.consumer_key, c.consumer_secret)
        else:
            headers["Authorization"] = f"Bearer {c.bearer_token}"
        return self.session.post(
            f"{self.base_url}/insights/engagement/{endpoint}",
            data=json.dumps(body),
            headers=headers,
            auth=signer,
            timeout=60,
        )

    def ok(self, endpoint: str, body: dict[str, Any], auth: str = "user") -> dict[str, Any]:
        response = self.post(endpoint, body, auth)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data
