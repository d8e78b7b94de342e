"""The stand-in's data set: synthetic users, Posts and counts, and credentials, all fixed by a
seed and a "now", loaded through the real load path into a store of its own.

Same seed and ``now``, same everything: the generator is deterministic for its seed, the Posts
each group needs are picked (or, when the draw has none, made) in a fixed order, and the
credentials are derived from the seed instead of drawn at random. They are therefore no secret:
a stand-in serves tests on the loopback interface, never real data.

The data set is seeded once into a template database; :meth:`SeededStandin.fresh` copies it for
each start and each reset, so a reset costs a file copy, not a new load.
"""

from __future__ import annotations

import random
import shutil
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

import orjson

from engagement_api.auth.secrets import KEY_ALPHABET, hash_secret
from engagement_api.clock import ManualClock
from engagement_api.contract.ids import parse_id
from engagement_api.contract.metrics import AGE_LIMIT_DAYS_90, AGE_LIMIT_DAYS_1800
from engagement_api.contract.times import format_timestamp, parse_timestamp
from engagement_api.ingest import Format
from engagement_api.ingest.generator import Synthetic, generate
from engagement_api.service.loading import Loader
from engagement_api.store.backends import open_store
from engagement_api.store.protocols import Store
from engagement_api.store.sqlite.metering import metering_path

#: The size of the data set: small enough to seed in about a second.
USERS: Final = 30
TWEETS: Final = 400
DAYS: Final = 30
#: The seeded app's per-minute limit. The data clock stands still, so every request of a test
#: run falls in one minute: high enough that no test suite reaches it (provoke 429 with faults).
RATE_LIMIT: Final = 100_000
#: At most this many IDs per group.
GROUP_SIZE: Final = 10

#: The groups of ``post_ids``, each non-empty; all but ``unowned`` belong to ``user_id``.
GROUPS: Final = (
    "owned",
    "unowned",
    "older_than_90_days",
    "older_than_1800_days",
    "deleted",
    "protected",
    "shared_video",
)

Tweet = dict[str, object]


@dataclass(frozen=True)
class StandinData:
    """What a client's test suite needs to know of a seeded stand-in."""

    seed: int
    now: datetime
    consumer_key: str
    consumer_secret: str
    bearer_token: str
    access_token: str
    access_token_secret: str
    user_id: int
    handle: str
    ingest_key: str
    post_ids: dict[str, list[int]]

    def info(self, base_url: str) -> dict[str, object]:
        """The object ``engagement-api standin --json`` prints (IDs as strings)."""
        return {
            "base_url": base_url,
            "consumer_key": self.consumer_key,
            "consumer_secret": self.consumer_secret,
            "bearer_token": self.bearer_token,
            "access_token": self.access_token,
            "access_token_secret": self.access_token_secret,
            "user_id": str(self.user_id),
            "handle": self.handle,
            "ingest_key": self.ingest_key,
            "seed": self.seed,
            "now": format_timestamp(self.now),
            "post_ids": {g: [str(i) for i in ids] for g, ids in self.post_ids.items()},
        }


def derived_key(seed: int, name: str, length: int) -> str:
    """A key of ``length`` letters and digits, the same for the same seed and name."""
    rnd = random.Random(f"engagement-api stand-in {seed} {name}")  # a str seeds by its SHA-512
    return "".join(rnd.choice(KEY_ALPHABET) for _ in range(length))


def _age(tweet: Tweet, now: datetime) -> timedelta:
    return now - parse_timestamp(str(tweet["created_at"]))


def _available(tweet: Tweet) -> bool:
    return not tweet["deleted"] and not tweet["protected"]


def video_key(tweet: Tweet) -> str | None:
    """The ``media_key`` of a Post record's first video, if it has one."""
    media = tweet["media"]
    assert isinstance(media, list)
    keys = [str(m["media_key"]) for m in media if m["type"] == "video"]
    return keys[0] if keys else None


def _shared(tweets: list[Tweet], tweet: Tweet) -> bool:
    """Whether another Post carries this Post's video."""
    key = video_key(tweet)
    return key is not None and any(video_key(t) == key for t in tweets if t is not tweet)


@dataclass
class _Volumes:
    """Events per Post, in all and in the last 28 hours (what /28hr shows); video views per
    video (``media_key``), summed over the Posts that carry it."""

    total: dict[int, int]
    recent: dict[int, int]
    video_views: dict[str, int]


def _volumes(data: Synthetic) -> _Volumes:
    found = _Volumes(defaultdict(int), defaultdict(int), defaultdict(int))
    since = format_timestamp(data.now - timedelta(hours=28))
    video_of = {str(t["id"]): video_key(t) for t in data.tweets}
    for event in data.events():
        count = event.get("count", 1)
        amount = count if isinstance(count, int) else 1
        post_id = parse_id(event["tweet_id"])
        found.total[post_id] += amount
        if str(event["at"]) >= since:
            found.recent[post_id] += amount
        key = video_of.get(str(event["tweet_id"]))
        if event["type"] == "video_views" and key is not None:
            found.video_views[key] += amount
    return found


class _Shaper:
    """Gives the chosen user a Post of every group: takes one of another author's when the
    user has none, and makes one (sets a flag) when the whole data set has none."""

    def __init__(self, data: Synthetic, user_id: int, video_views: dict[str, int]) -> None:
        self.video_views = video_views
        self.tweets = data.tweets
        self.now = data.now
        self.user = str(user_id)

    def mine(self, test: Callable[[Tweet], bool]) -> list[Tweet]:
        return [t for t in self.tweets if t["author_id"] == self.user and test(t)]

    def ensure(self, test: Callable[[Tweet], bool], make: Callable[[Tweet], None]) -> None:
        if self.mine(test):
            return
        # the Post whose video was watched most first (for shared_video; 0 for the others)
        found = sorted(
            (t for t in self.tweets if test(t)),
            key=lambda t: -self.video_views.get(video_key(t) or "", 0),
        )
        if not found:  # nobody has one: make one of another author's available recent Post
            found = [
                t
                for t in self.tweets
                if t["author_id"] != self.user and _available(t) and self.recent(t)
            ]
            make(found[0])
            if not test(found[0]):  # pragma: no cover - make_available moved another one
                return
        found[0]["author_id"] = self.user

    def recent(self, tweet: Tweet) -> bool:
        return _age(tweet, self.now) <= timedelta(days=AGE_LIMIT_DAYS_90)

    def shape(self) -> None:
        days_90, days_1800 = timedelta(days=AGE_LIMIT_DAYS_90), timedelta(days=AGE_LIMIT_DAYS_1800)

        def set_flag(name: str) -> Callable[[Tweet], None]:
            def make(tweet: Tweet) -> None:
                tweet[name] = True

            return make

        def never(tweet: Tweet) -> None:  # pragma: no cover - the generator always makes some
            raise AssertionError(f"no Post fits beside {tweet['id']}")

        def make_available(tweet: Tweet) -> None:  # pragma: no cover - rare draws
            ancient = [t for t in self.tweets if _age(t, self.now) > days_1800]
            ancient[0]["deleted"] = ancient[0]["protected"] = False
            ancient[0]["author_id"] = self.user

        def share_a_video(tweet: Tweet) -> None:  # pragma: no cover - rare draws
            other = next(t for t in self.tweets if video_key(t) is not None and t is not tweet)
            tweet["media"] = [{"media_key": video_key(other), "type": "video"}]

        self.ensure(lambda t: _available(t) and self.recent(t), never)
        self.ensure(lambda t: _available(t) and days_90 < _age(t, self.now) <= days_1800, never)
        self.ensure(lambda t: _available(t) and _age(t, self.now) > days_1800, make_available)
        self.ensure(lambda t: bool(t["deleted"]), set_flag("deleted"))
        self.ensure(lambda t: bool(t["protected"]), set_flag("protected"))
        self.ensure(
            lambda t: _available(t) and _age(t, self.now) <= days_1800 and _shared(self.tweets, t),
            share_a_video,
        )


def _groups(data: Synthetic, user_id: int, volumes: _Volumes) -> dict[str, list[int]]:
    days_90, days_1800 = timedelta(days=AGE_LIMIT_DAYS_90), timedelta(days=AGE_LIMIT_DAYS_1800)
    user = str(user_id)

    def age(t: Tweet) -> timedelta:
        return _age(t, data.now)

    tests: dict[str, Callable[[Tweet], bool]] = {
        "owned": lambda t: _available(t) and age(t) <= days_90,
        "unowned": lambda t: _available(t) and age(t) <= days_90,
        "older_than_90_days": lambda t: _available(t) and days_90 < age(t) <= days_1800,
        "older_than_1800_days": lambda t: _available(t) and age(t) > days_1800,
        "deleted": lambda t: bool(t["deleted"]),
        "protected": lambda t: bool(t["protected"]),
        "shared_video": lambda t: _available(t) and age(t) <= days_1800 and _shared(data.tweets, t),
    }
    video_of = {parse_id(t["id"]): video_key(t) for t in data.tweets}
    groups: dict[str, list[int]] = {}
    for name in GROUPS:
        mine = name != "unowned"
        ids = [
            parse_id(t["id"])
            for t in data.tweets
            if (t["author_id"] == user) is mine and tests[name](t)
        ]
        # shared videos watched most first; then the busiest in the last 28 hours (what /28hr
        # shows); then by ID
        watched = name == "shared_video"
        ids.sort(
            key=lambda i: (
                -volumes.video_views.get(video_of[i] or "", 0) if watched else 0,
                -volumes.recent.get(i, 0),
                i,
            )
        )
        groups[name] = ids[:GROUP_SIZE]
    return groups


def _ndjson(records: list[dict[str, object]]) -> bytes:
    return b"\n".join(orjson.dumps(r) for r in records) + b"\n"


def seed_standin(store: Store, seed: int, now: datetime) -> StandinData:
    """Generate, shape and load the data set as of ``now``, and issue its credentials."""
    data = generate(users=USERS, tweets=TWEETS, days=DAYS, now=now, seed=seed)
    volumes = _volumes(data)
    volume = volumes.total
    by_author: dict[str, int] = defaultdict(int)
    for tweet in data.tweets:
        if _available(tweet):
            by_author[str(tweet["author_id"])] += volume.get(parse_id(tweet["id"]), 0)
    user_id = parse_id(min(by_author, key=lambda u: (-by_author[u], parse_id(u))))
    _Shaper(data, user_id, volumes.video_views).shape()
    clock = ManualClock(data.now)
    loader = Loader(store, store, clock)
    loader.load_users(_ndjson(data.users), Format.NDJSON)
    loader.load_tweets(_ndjson(data.tweets), Format.NDJSON)
    loader.load_events("\n".join(data.event_lines()).encode() + b"\n", Format.NDJSON)

    key, secret = derived_key(seed, "consumer key", 25), derived_key(seed, "consumer secret", 50)
    bearer = derived_key(seed, "bearer token", 80)
    token, token_secret = derived_key(seed, "token", 50), derived_key(seed, "token secret", 45)
    ingest_key = derived_key(seed, "ingest key", 48)
    store.create_app(key, "stand-in", secret, hash_secret(bearer), RATE_LIMIT, data.now)
    store.create_token(token, token_secret, key, user_id, data.now)
    store.create_ingest_key(hash_secret(ingest_key), data.now)
    handle = next(str(u["handle"]) for u in data.users if parse_id(u["id"]) == user_id)
    return StandinData(
        seed=seed,
        now=data.now,
        consumer_key=key,
        consumer_secret=secret,
        bearer_token=bearer,
        access_token=token,
        access_token_secret=token_secret,
        user_id=user_id,
        handle=handle,
        ingest_key=ingest_key,
        post_ids=_groups(data, user_id, volumes),
    )


class SeededStandin:
    """The data set seeded once into ``folder/template.db``; fresh copies on demand."""

    def __init__(self, folder: Path, seed: int, now: datetime) -> None:
        self.folder = folder
        self._template = folder / "template.db"
        store = open_store(f"sqlite:///{self._template}")
        try:
            store.migrate()
            self.data = seed_standin(store, seed, now)
        finally:
            store.close()  # the last connection closed: the WAL is checkpointed into the file
        self._copies = 0

    def fresh(self) -> Store:
        """A new store holding the seeded state (a copy of the template's files)."""
        self._copies += 1
        path = self.folder / f"standin-{self._copies}.db"
        for source, target in (
            (self._template, path),
            (Path(metering_path(str(self._template))), Path(metering_path(str(path)))),
        ):
            shutil.copyfile(source, target)
        return open_store(f"sqlite:///{path}")

    def discard(self, store: Store) -> None:
        """Close a store made by :meth:`fresh` and remove its files."""
        url = store.url
        store.close()
        path = Path(url.removeprefix("sqlite:///"))
        for file in (path, Path(metering_path(str(path)))):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{file}{suffix}").unlink(missing_ok=True)
