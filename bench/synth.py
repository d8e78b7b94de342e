"""Synthetic users, Posts and engagement events (NDJSON), fast and reproducible.

Events are built by concatenating precomputed pieces: one ``{"tweet_id":..,"type":..,"at":"``
prefix per (Post, metric), one ``YYYY-MM-DDTHH`` string per hour and one ``:MM:SSZ"}`` tail per
second of the hour, so each line costs a few list look-ups and two string concatenations.
"""

from __future__ import annotations

import multiprocessing
import random
from array import array
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from engagement_api.domain import MediaItem, PostRecord, User

#: The fixed "now" of every benchmark run (the server and the loader use a ManualClock).
NOW = datetime(2026, 11, 26, 12, 34, 56, tzinfo=UTC)

USERS = 200
POSTS = 5_000
#: Posts of the one user whose Posts the read benchmarks ask for (user context, owner).
OWNER_POSTS = 1_000
EVENT_DAYS = 28
POST_AGE_DAYS = (10, 80)
#: Zipf exponent of the Posts' share of events (rank r gets 1 / r**s).
ZIPF = 1.0

#: Event type mix (relative weights). ``video_views`` lands on Posts without a video as
#: ``impressions`` (a video view of such a Post would be a bad line).
METRIC_MIX: tuple[tuple[str, float], ...] = (
    ("impressions", 55.0),
    ("video_views", 9.0),
    ("media_views", 5.0),
    ("favorites", 8.0),
    ("retweets", 3.0),
    ("quote_tweets", 1.0),
    ("replies", 2.0),
    ("url_clicks", 4.0),
    ("detail_expands", 4.0),
    ("media_engagements", 2.0),
    ("user_profile_clicks", 2.0),
    ("hashtag_clicks", 1.0),
    ("permalink_clicks", 1.0),
    ("user_follows", 0.5),
    ("email_tweet", 0.2),
    ("app_opens", 0.3),
    ("other_engagements", 2.0),
)

OWNER_ID = 1_000
POST_ID_BASE = 1_860_000_000_000_000_000


@dataclass
class World:
    """The catalog and what the event synthesiser needs about each Post."""

    now: datetime
    users: list[User]
    posts: list[PostRecord]
    owner_id: int
    #: per Post index: earliest event second and the span of allowed seconds
    lo: list[int] = field(default_factory=list)
    span: list[int] = field(default_factory=list)
    #: Post indexes, each repeated in proportion to its weight (uniform draws from it)
    post_table: array[int] = field(default_factory=lambda: array("i"))
    #: per Post index * len(METRIC_MIX) + metric index: the line up to the timestamp
    prefixes: list[str] = field(default_factory=list)
    metric_table: array[int] = field(default_factory=lambda: array("i"))
    #: events per Post id, over every file written so far
    events_per_post: Counter[int] = field(default_factory=Counter)

    @property
    def owner_posts(self) -> list[int]:
        return [p.id for p in self.posts if p.author_id == self.owner_id]


def build_world(seed: int, now: datetime = NOW) -> World:
    """200 users, 5,000 Posts (1,000 by the owner), about a third with a video, some videos
    shared by several Posts, a few photos and GIFs."""
    rng = random.Random(seed)
    users = [User(OWNER_ID, "bench_owner")] + [
        User(OWNER_ID + i, f"bench_user_{i:03d}") for i in range(1, USERS)
    ]
    others = [u.id for u in users[1:]]
    now_s = int(now.timestamp())
    posts: list[PostRecord] = []
    video_keys: list[str] = []
    for i in range(POSTS):
        pid = POST_ID_BASE + i * 1_000_003
        author = OWNER_ID if i % (POSTS // OWNER_POSTS) == 0 else rng.choice(others)
        age = rng.uniform(POST_AGE_DAYS[0] * 86_400, POST_AGE_DAYS[1] * 86_400)
        created = datetime.fromtimestamp(now_s - int(age), UTC)
        roll = rng.random()
        media: tuple[MediaItem, ...] = ()
        if roll < 0.35:
            if video_keys and rng.random() < 0.15:
                key = rng.choice(video_keys)  # the same video posted again
            else:
                key = f"7_{pid}"
                video_keys.append(key)
            media = (MediaItem(key, "video"),)
        elif roll < 0.45:
            media = (MediaItem(f"3_{pid}", "photo"),)
        elif roll < 0.48:
            media = (MediaItem(f"16_{pid}", "animated_gif"),)
        posts.append(PostRecord(pid, author, created, media, protected=False, deleted=False))
    world = World(now, users, posts, OWNER_ID)
    _prepare_events(world, rng)
    return world


def _prepare_events(world: World, rng: random.Random) -> None:
    now_s = int(world.now.timestamp())
    first = now_s - EVENT_DAYS * 86_400
    weights = [1.0 / (rank**ZIPF) for rank in range(1, len(world.posts) + 1)]
    rng.shuffle(weights)
    world.post_table = _table(weights, 1 << 22)
    names = [name for name, _ in METRIC_MIX]
    world.metric_table = _table([w for _, w in METRIC_MIX], 10_000)
    for post in world.posts:
        created = int(post.created_at.timestamp())
        lo = max(created, first)
        world.lo.append(lo)
        world.span.append(now_s - lo)  # seconds lo .. now-1
        has_video = any(m.type == "video" for m in post.media or ())
        for name in names:
            kind = "impressions" if name == "video_views" and not has_video else name
            world.prefixes.append(f'{{"tweet_id":"{post.id}","type":"{kind}","at":"')


def _table(weights: list[float], size: int) -> array[int]:
    """Indexes repeated in proportion to their weight (at least once each): drawing uniformly
    from it is drawing by weight, and much faster than ``choices(cum_weights=...)``. An array,
    so that the garbage collector of the timed process never walks it."""
    total = sum(weights)
    table = array("i")
    for index, weight in enumerate(weights):
        table.extend([index] * max(1, round(weight / total * size)))
    return table


class Stamps:
    """``at`` strings as two look-ups: the hour prefix and the minute:second tail."""

    def __init__(self, now: datetime) -> None:
        now_s = int(now.timestamp())
        self.first_hour = (now_s - EVENT_DAYS * 86_400) // 3600
        last_hour = now_s // 3600
        self.hours = [
            datetime.fromtimestamp(h * 3600, UTC).strftime("%Y-%m-%dT%H")
            for h in range(self.first_hour, last_hour + 1)
        ]
        self.tails = [f':{s // 60:02d}:{s % 60:02d}Z"}}\n' for s in range(3600)]


def event_lines(world: World, count: int, seed: int) -> tuple[bytes, Counter[int]]:
    """``count`` NDJSON event lines (count 1 each: the worst case), heavy-tailed across Posts,
    and how many of them each Post got."""
    rng = random.Random(seed)
    stamps = Stamps(world.now)
    metrics = len(METRIC_MIX)
    post_ix = rng.choices(world.post_table, k=count)
    metric_ix = rng.choices(world.metric_table, k=count)
    prefixes, lo, span = world.prefixes, world.lo, world.span
    hours, tails, h0 = stamps.hours, stamps.tails, stamps.first_hour
    rnd = rng.random
    lines = [
        prefixes[p * metrics + m]
        + hours[(s := lo[p] + int(rnd() * span[p])) // 3600 - h0]
        + tails[s % 3600]
        for p, m in zip(post_ix, metric_ix, strict=True)
    ]
    ids = [p.id for p in world.posts]
    per_post = Counter({ids[p]: n for p, n in Counter(post_ix).items()})
    return "".join(lines).encode(), per_post


_WORLD: World | None = None  # the world of the forked synthesis workers


def _write_one(path: Path, count: int, seed: int) -> Counter[int]:
    assert _WORLD is not None
    data, per_post = event_lines(_WORLD, count, seed)
    path.write_bytes(data)
    return per_post


def write_event_files(
    world: World, directory: Path, total: int, per_file: int, seed: int, jobs: int = 2
) -> list[Path]:
    """NDJSON files of ``per_file`` events each (the last may hold fewer), written by ``jobs``
    forked processes; ``world.events_per_post`` counts what they hold."""
    global _WORLD
    tasks: list[tuple[Path, int, int]] = []
    written = 0
    while written < total:
        n = min(per_file, total - written)
        index = len(tasks)
        tasks.append((directory / f"events-{index:03d}.ndjson", n, seed * 1_000 + index))
        written += n
    _WORLD = world
    try:
        if jobs > 1 and len(tasks) > 1:
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(jobs, mp_context=context) as pool:
                counts = list(pool.map(_write_one, *zip(*tasks, strict=True)))
        else:
            counts = [_write_one(*task) for task in tasks]
    finally:
        _WORLD = None
    for per_post in counts:
        world.events_per_post.update(per_post)
    return [path for path, _, _ in tasks]


def hour_floor(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def hour_ceil(moment: datetime) -> datetime:
    floor = hour_floor(moment)
    return floor if floor == moment else floor + timedelta(hours=1)
