"""The synthetic generator: deterministic, loadable, and shaped like real traffic."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

import orjson
import pytest

from engagement_api.contract.times import hour_index, parse_timestamp
from engagement_api.domain import Post
from engagement_api.ingest import (
    Batch,
    Kind,
    referenced_author_ids,
    referenced_handles,
    referenced_post_ids,
    validate_events,
    validate_posts,
    validate_users,
)
from engagement_api.ingest.generator import Synthetic, generate, write_files

from .builders import NOW


def load(out: Path) -> tuple[dict[int, Post], int]:
    """Validate the three files as the server would; the Posts and the number of events."""
    users_batch = Batch((out / "users.ndjson").read_bytes(), "ndjson", Kind.USERS)
    assert referenced_handles(users_batch)
    users = validate_users(users_batch, {})
    tweets_batch = Batch((out / "tweets.ndjson").read_bytes(), "ndjson", Kind.TWEETS)
    known = {u.id for u in users}
    assert referenced_author_ids(tweets_batch) <= known
    records = validate_posts(tweets_batch, known, {})
    posts = {
        r.id: Post(
            r.id, r.author_id, r.created_at, r.media or (), bool(r.protected), bool(r.deleted)
        )
        for r in records
    }
    events_batch = Batch((out / "events.ndjson").read_bytes(), "ndjson", Kind.EVENTS)
    assert referenced_post_ids(events_batch) <= set(posts)
    assert events_batch.event_rows is not None  # decodes on the fast path
    folded = validate_events(events_batch, posts, NOW)
    return posts, folded.events


@pytest.fixture(scope="module")
def small() -> Synthetic:
    return generate(users=80, tweets=1500, days=14, now=NOW, seed=3)


@pytest.fixture(scope="module")
def small_events(small: Synthetic) -> list[dict[str, object]]:
    return list(small.events())


def test_files_load_completely_and_are_deterministic(tmp_path: Path) -> None:
    counts = write_files(tmp_path / "a", users=50, tweets=800, days=10, now=NOW, seed=9)
    write_files(tmp_path / "b", users=50, tweets=800, days=10, now=NOW, seed=9)
    write_files(tmp_path / "c", users=50, tweets=800, days=10, now=NOW, seed=10)
    for name in ("users.ndjson", "tweets.ndjson", "events.ndjson"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a" / "events.ndjson").read_bytes() != (
        tmp_path / "c" / "events.ndjson"
    ).read_bytes()
    posts, events = load(tmp_path / "a")
    assert counts == {"users.ndjson": 50, "tweets.ndjson": 800, "events.ndjson": events}
    assert len(posts) == 800 and events > 1000


def test_default_size_generates_and_loads(tmp_path: Path) -> None:
    counts = write_files(tmp_path, now=NOW, seed=1)
    assert counts["users.ndjson"] == 300 and counts["tweets.ndjson"] == 5000
    assert load(tmp_path)[1] == counts["events.ndjson"] > 50_000


def test_event_stream_repeats(small: Synthetic) -> None:
    first = list(small.event_lines())
    assert first == list(small.event_lines())


def test_users(small: Synthetic) -> None:
    handles = [str(u["handle"]) for u in small.users]
    assert len({h.lower() for h in handles}) == len(handles) == 80
    assert any(h != h.lower() for h in handles)
    assert len({u["id"] for u in small.users}) == 80


def test_posts(small: Synthetic) -> None:
    ages = [NOW - parse_timestamp(t["created_at"]) for t in small.tweets]
    assert max(ages) > timedelta(days=1800)
    assert sum(age > timedelta(days=1800) for age in ages) >= 3
    assert any(timedelta(days=800) < age < timedelta(days=3 * 365) for age in ages)
    assert any(age < timedelta(hours=28) for age in ages)
    assert min(ages) > timedelta(0)
    kinds = Counter(
        # the generator's records are dict[str, object]: media is a list of dicts
        str(t["media"][0]["type"]) if t["media"] else "none"  # type: ignore[index]
        for t in small.tweets
    )
    assert set(kinds) == {"none", "photo", "video", "animated_gif"}
    videos = Counter(
        m["media_key"]
        for t in small.tweets
        for m in t["media"]  # type: ignore[attr-defined]  # an object: a list of dicts
        if m["type"] == "video"
    )
    assert max(videos.values()) >= 2  # re-posted videos
    assert any(t["deleted"] for t in small.tweets)
    assert any(t["protected"] for t in small.tweets)
    assert len({t["id"] for t in small.tweets}) == len(small.tweets)
    authors = Counter(t["author_id"] for t in small.tweets)
    assert authors.most_common(1)[0][1] > 3 * len(small.tweets) / len(small.users)


def test_event_mix(small: Synthetic, small_events: list[dict[str, object]]) -> None:
    totals: Counter[str] = Counter()
    for event in small_events:
        totals[str(event["type"])] += int(str(event.get("count", 1)))
        assert event.get("count") != 1
    assert totals["impressions"] > 10 * totals["favorites"]
    assert totals["favorites"] > totals["retweets"] > totals["replies"] > 0
    for name in (
        "url_clicks",
        "hashtag_clicks",
        "detail_expands",
        "user_profile_clicks",
        "media_views",
        "video_views",
        "media_engagements",
        "other_engagements",
    ):
        assert totals[name] > 0, name
    media = {str(t["id"]): t["media"] for t in small.tweets}
    for event in small_events:
        # media values are objects (records are dict[str, object]): lists of dicts
        kinds = {m["type"] for m in media[str(event["tweet_id"])]}  # type: ignore[attr-defined]
        if event["type"] == "video_views":
            assert "video" in kinds
        if event["type"] in ("media_views", "media_engagements"):
            assert kinds


def test_traffic_is_heavy_tailed(small_events: list[dict[str, object]]) -> None:
    per_post: Counter[str] = Counter()
    for event in small_events:
        if event["type"] == "impressions":
            per_post[str(event["tweet_id"])] += int(str(event.get("count", 1)))
    top = sum(count for _, count in per_post.most_common(len(per_post) // 100 or 1))
    assert top > 0.2 * sum(per_post.values())


def test_traffic_decays_after_posting(
    small: Synthetic, small_events: list[dict[str, object]]
) -> None:
    created = {str(t["id"]): parse_timestamp(t["created_at"]) for t in small.tweets}
    window_start = NOW - timedelta(days=14)
    by_age: Counter[int] = Counter()
    for event in small_events:
        if event["type"] == "impressions":
            post_id = str(event["tweet_id"])
            anchor = max(created[post_id], window_start)
            age = (parse_timestamp(event["at"]) - anchor) // timedelta(days=1)
            by_age[age] += int(str(event.get("count", 1)))
    assert by_age[0] > by_age[1] > by_age[5] > by_age[12]


def test_undo_never_takes_favorites_below_zero(small_events: list[dict[str, object]]) -> None:
    hourly: defaultdict[str, Counter[int]] = defaultdict(Counter)
    undos = 0
    for event in small_events:
        if event["type"] == "favorites":
            count = int(str(event.get("count", 1)))
            undos += count < 0
            hourly[str(event["tweet_id"])][hour_index(parse_timestamp(event["at"]))] += count
    assert undos > 0
    for hours in hourly.values():
        running = 0
        for hour in sorted(hours):
            running += hours[hour]
            assert running >= 0


def test_events_lie_between_creation_and_now(
    small: Synthetic, small_events: list[dict[str, object]]
) -> None:
    created = {str(t["id"]): parse_timestamp(t["created_at"]) for t in small.tweets}
    window_start = NOW - timedelta(days=14)
    for event in small_events:
        moment = parse_timestamp(event["at"])
        assert max(created[str(event["tweet_id"])], window_start) <= moment <= NOW


def test_events_as_objects_match_lines(small: Synthetic) -> None:
    lines = small.event_lines()
    for event, line in zip(small.events(), lines, strict=False):
        assert event == orjson.loads(line)
        break


def test_scale_multiplies_volume() -> None:
    base = sum(1 for _ in generate(20, 300, 5, NOW, seed=2).event_lines())
    scaled = sum(1 for _ in generate(20, 300, 5, NOW, seed=2, scale=10).event_lines())
    assert scaled > 3 * base


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="at least one user"):
        generate(users=0)
