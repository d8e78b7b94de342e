"""Synthetic users, Posts and engagement events, deterministic for a seed.

``generate(users, tweets, days, now, seed)`` plans the catalog at once and streams the events;
``write_files(out_dir, ...)`` writes ``users.ndjson``, ``tweets.ndjson`` and ``events.ndjson``,
which load with the validators of this package (users, then tweets, then events).

What the data look like (decisions):

- **Users**: handles unique case-insensitively, some CamelCase; IDs a mix of short old ones and
  19-digit ones. A few users write most Posts (Pareto weights).
- **Posts**: IDs are snowflakes of their ``created_at`` (unique, ascending in time). Created over
  the last 3 years, more of them recently; a share inside the event window (some in the last
  28 hours); a handful older than 1800 days, mostly videos, so the video-views age rule shows.
  Media: none 45%, photos 28% (1 to 4), video 20%, GIF 7%; about 1 video in 12 reuses the
  ``media_key`` of an earlier video (re-posts). About 1.5% deleted and 1.5% protected.
- **Events** (:mod:`engagement_api.ingest.synth`): pre-aggregated, one line per
  Post/metric/hour (``count`` left out when 1), over the last ``days`` days up to ``now``.
  Volume is heavy-tailed across Posts (lognormal popularity, a few viral Posts) and decays as a
  power law from the later of ``created_at`` and the window start; Posts created before the
  window keep a residual share that shrinks with age. Impressions dominate; favorites >
  retweets > replies; media views only on media Posts, video views only on video Posts; a few
  undo lines (negative favorites) that never take a Post's favorites below zero. Every ``at``
  lies in ``[created_at, now]``. Lines come Post by Post, each Post's hours in order.
- ``scale`` multiplies popularity, for benchmark volumes (millions of lines).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import orjson

from engagement_api.contract.times import epoch_seconds, format_timestamp
from engagement_api.ingest.synth import PostPlan, event_lines, plan_traffic

#: The snowflake epoch (2010-11-04T01:42:54.657Z) in milliseconds.
TWEPOCH_MS: Final = 1288834974657
YEAR_DAYS: Final = 365

# fmt: off
_SYLLABLES = (
    "al", "ba", "co", "da", "el", "fi", "go", "ha", "in", "jo", "ka", "lu",
    "ma", "ne", "ol", "pa", "qu", "ri", "sa", "ti", "ul", "vi", "wo",
)
_WORDS = (
    "news", "daily", "sports", "tech", "music", "art", "film", "food", "travel", "data",
    "cloud", "photo", "video", "game", "bird", "river", "stone", "north", "south", "pixel",
    "rocket", "garden", "coffee",
)
# fmt: on


@dataclass(frozen=True)
class Synthetic:
    """A generated data set: users and Posts as JSON records, events as a stream."""

    users: list[dict[str, object]]
    tweets: list[dict[str, object]]
    plans: list[PostPlan] = field(repr=False)
    now: datetime
    days: int
    seed: int

    def event_lines(self) -> Iterator[str]:
        """The events as NDJSON lines (no newline), the same on every call."""
        window_start = epoch_seconds(self.now) - self.days * 86400
        for index, plan in enumerate(self.plans):
            rnd = random.Random(self.seed * 1_000_003 + index)
            yield from event_lines(plan, window_start, epoch_seconds(self.now), rnd)

    def events(self) -> Iterator[dict[str, object]]:
        """The events as JSON objects."""
        for line in self.event_lines():
            event: dict[str, object] = orjson.loads(line)
            yield event


def generate(
    users: int = 300,
    tweets: int = 5000,
    days: int = 30,
    now: datetime | None = None,
    seed: int = 0,
    scale: float = 1.0,
) -> Synthetic:
    """Plan a data set; ``now`` defaults to 2026-11-26T12:00:00Z (never the wall clock)."""
    if users < 1 or tweets < 0 or days < 1:
        raise ValueError("need at least one user, no negative tweets and at least one day")
    now = (now or datetime(2026, 11, 26, 12, tzinfo=UTC)).astimezone(UTC)
    rnd = random.Random(seed)
    user_records = _users(rnd, users)
    tweet_records, plans = _tweets(rnd, tweets, [u["id"] for u in user_records], days, now)
    for plan in plans:
        plan_traffic(plan, rnd, scale, epoch_seconds(now) - days * 86400)
    return Synthetic(user_records, tweet_records, plans, now, days, seed)


def write_files(
    out_dir: str | Path,
    users: int = 300,
    tweets: int = 5000,
    days: int = 30,
    now: datetime | None = None,
    seed: int = 0,
    scale: float = 1.0,
) -> dict[str, int]:
    """Write ``users.ndjson``, ``tweets.ndjson``, ``events.ndjson`` (created or replaced) in
    ``out_dir``; returns the number of lines of each."""
    data = generate(users, tweets, days, now, seed, scale)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, lines in (
        ("users.ndjson", (orjson.dumps(u).decode() for u in data.users)),
        ("tweets.ndjson", (orjson.dumps(t).decode() for t in data.tweets)),
        ("events.ndjson", data.event_lines()),
    ):
        count = 0
        with (out / name).open("w", encoding="utf-8") as handle:
            buffer = []
            for line in lines:
                buffer.append(line)
                count += 1
                if len(buffer) >= 10000:
                    handle.write("\n".join(buffer) + "\n")
                    buffer.clear()
            if buffer:
                handle.write("\n".join(buffer) + "\n")
        counts[name] = count
    return counts


def _users(rnd: random.Random, count: int) -> list[dict[str, object]]:
    records: list[dict[str, object]] = []
    handles: set[str] = set()
    ids: set[int] = set()
    while len(records) < count:
        user_id = (
            rnd.randrange(10**5, 10**9) if rnd.random() < 0.3 else rnd.randrange(10**17, 2**63)
        )
        handle = _handle(rnd)
        if user_id in ids or handle.lower() in handles:
            continue
        ids.add(user_id)
        handles.add(handle.lower())
        records.append({"id": str(user_id), "handle": handle})
    return records


def _handle(rnd: random.Random) -> str:
    shape = rnd.random()
    if shape < 0.4:
        name = "".join(rnd.choice(_SYLLABLES) for _ in range(rnd.randint(2, 4)))
    elif shape < 0.7:
        name = rnd.choice(_WORDS).capitalize() + rnd.choice(_WORDS).capitalize()
    else:
        name = rnd.choice(_WORDS) + "_" + rnd.choice(_SYLLABLES)
    if rnd.random() < 0.5:
        name += str(rnd.randrange(1000))
    return name[:15]


def _created(rnd: random.Random, index: int, count: int, days: int, now: datetime) -> datetime:
    """Creation times: some ancient (> 1800 days), some in the window, most over 3 years."""
    ancient = max(3, count // 1000)
    roll = rnd.random()
    if index < ancient:
        age = timedelta(days=1801 + rnd.random() * 700)
    elif roll < 0.03:
        age = timedelta(hours=0.1 + rnd.random() * 27)
    elif roll < 0.18:
        age = timedelta(days=rnd.random() * days)
    else:
        age = timedelta(days=3 * YEAR_DAYS * rnd.random() ** 1.6)
    return (now - max(age, timedelta(minutes=2))).replace(microsecond=0)


def _tweets(
    rnd: random.Random, count: int, user_ids: list[object], days: int, now: datetime
) -> tuple[list[dict[str, object]], list[PostPlan]]:
    weights = [rnd.paretovariate(1.2) for _ in user_ids]
    authors = rnd.choices(user_ids, weights=weights, k=count)
    moments = sorted((_created(rnd, i, count, days, now) for i in range(count)), key=epoch_seconds)
    records: list[dict[str, object]] = []
    plans: list[PostPlan] = []
    videos: list[str] = []
    used: set[int] = set()
    for index, (author, created) in enumerate(zip(authors, moments, strict=True)):
        post_id = _snowflake(rnd, created, used)
        old = epoch_seconds(now) - epoch_seconds(created) > 1800 * 86400
        media, kind = _media(rnd, post_id, videos, force_video=old and index % 2 == 0)
        record: dict[str, object] = {
            "id": str(post_id),
            "author_id": author,
            "created_at": format_timestamp(created),
            "media": media,
        }
        flag = rnd.random()
        record["deleted"] = flag < 0.015
        record["protected"] = 0.015 <= flag < 0.03
        records.append(record)
        plans.append(
            PostPlan(
                post_id=str(post_id),
                created=epoch_seconds(created),
                media=kind,
                url=rnd.random() < 0.25,
                hashtag=rnd.random() < 0.2,
                app=rnd.random() < 0.02,
            )
        )
    return records, plans


def _snowflake(rnd: random.Random, created: datetime, used: set[int]) -> int:
    millis = epoch_seconds(created) * 1000 + rnd.randrange(1000) - TWEPOCH_MS
    while True:
        post_id = (max(millis, 0) << 22) | (rnd.randrange(1024) << 12) | rnd.randrange(4096)
        if post_id > 0 and post_id not in used:
            used.add(post_id)
            return post_id


def _media(
    rnd: random.Random, post_id: int, videos: list[str], force_video: bool
) -> tuple[list[dict[str, str]], str]:
    roll = 0.8 if force_video else rnd.random()  # 0.73 <= 0.8 < 0.93: a video
    if roll < 0.45:
        return [], "none"
    if roll < 0.73:
        photos = [
            {"media_key": f"3_{post_id + k}", "type": "photo"} for k in range(rnd.randint(1, 4))
        ]
        return photos, "photo"
    if roll < 0.93:
        if videos and rnd.random() < 0.08:
            key = rnd.choice(videos)
        else:
            key = f"7_{post_id}"
            videos.append(key)
        return [{"media_key": key, "type": "video"}], "video"
    return [{"media_key": f"16_{post_id}", "type": "animated_gif"}], "animated_gif"
