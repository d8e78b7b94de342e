"""``lifetime_columns`` (what ``/totals`` renders) is ``lifetime`` as columns on every backend,
and the SQLite store's read cache never serves a count or a Post's facts that a commit changed:
its own writes, another store's on the same file (another process does the same), video media
moving between Posts, a Post hidden or loaded after it was read, hours of another window."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from engagement_api.contract.metrics import METRICS
from engagement_api.domain import MediaItem, PostRecord, User
from engagement_api.store import Store, open_store
from engagement_api.store.sqlite import SqliteStore
from tests.support import NOW

FAV = METRICS["favorites"].code
IMP = METRICS["impressions"].code
RT = METRICS["retweets"].code
VV = METRICS["video_views"].code
U64_MAX = 2**64 - 1


def _seed(store: Store) -> None:
    store.upsert_users([User(1, "alice"), User(U64_MAX, "edge")])
    store.upsert_posts(
        [
            PostRecord(10, 1, NOW - timedelta(days=1), (MediaItem("7_10", "video"),)),
            PostRecord(11, 1, NOW - timedelta(days=2), (MediaItem("7_10", "video"),)),
            PostRecord(12, 1, NOW - timedelta(days=3)),
            PostRecord(U64_MAX, U64_MAX, NOW),
        ]
    )


def test_lifetime_columns_are_lifetime_per_code_and_post(store: Store) -> None:
    _seed(store)
    deltas = {(10, VV, 100): 5, (11, VV, 100): 7, (10, FAV, 100): 2, (U64_MAX, FAV, 101): 9}
    store.apply_batch("k", "c", 4, 1, {**deltas, (12, RT, 100): -3, (12, FAV, 100): 1}, NOW)
    posts = [12, U64_MAX, 10, 11, 999]  # any order; 999 was never loaded
    codes = [VV, FAV, IMP, RT]
    lifetime = store.lifetime(posts, codes)
    columns = store.lifetime_columns(posts, codes)
    assert columns == [[lifetime.get((p, c), 0) for p in posts] for c in codes]
    assert columns == [[0, 0, 12, 12, 0], [1, 9, 2, 0, 0], [0, 0, 0, 0, 0], [-3, 0, 0, 0, 0]]
    assert store.lifetime_columns([], [FAV]) == [[]]
    assert store.lifetime_columns([10], []) == []


def test_every_commit_is_seen_by_the_next_read(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'engagement.db'}"
    store = open_store(url)
    other = open_store(url)  # another connection to the file: what another process has
    try:
        assert isinstance(store, SqliteStore)
        store.migrate()
        _seed(store)
        posts, codes = [10, 11, 12], [FAV, VV]
        assert store.lifetime_columns(posts, codes) == [[0, 0, 0], [0, 0, 0]]
        assert set(store.post_facts([*posts, 13])) == {10, 11, 12}
        assert store.hourly(posts, codes, 90, 110) == []
        # the same store's writer commits
        store.apply_batch("a", "c", 2, 1, {(10, FAV, 100): 2, (11, VV, 100): 7}, NOW)
        assert store.lifetime_columns(posts, codes) == [[2, 0, 0], [7, 7, 0]]
        assert store.hourly(posts, codes, 90, 110) == [(10, FAV, 100, 2), (11, VV, 100, 7)]
        # another connection commits: a batch, a Post hidden, a new Post, a video moved
        other.apply_batch("b", "c", 1, 1, {(12, FAV, 100): 4}, NOW)
        assert store.lifetime_columns(posts, codes) == [[2, 0, 4], [7, 7, 0]]
        assert store.hourly(posts, codes, 90, 110) == [
            (10, FAV, 100, 2),
            (11, VV, 100, 7),
            (12, FAV, 100, 4),
        ]
        assert store.hourly([12], [FAV], 100, 101) == [(12, FAV, 100, 4)]
        assert store.hourly([12], [FAV], 101, 110) == []  # another window: read on its own
        other.upsert_posts(
            [
                PostRecord(10, 1, NOW - timedelta(days=1), protected=True),
                PostRecord(13, 1, NOW),
                PostRecord(11, 1, NOW - timedelta(days=2), ()),
            ]
        )
        facts = store.post_facts([*posts, 13])
        assert set(facts) == {10, 11, 12, 13} and not facts[10].available
        assert store.lifetime_columns(posts, codes) == [[2, 0, 4], [0, 0, 0]]
        # and with nothing committed in between, the same answers again
        assert store.lifetime_columns(posts, codes) == [[2, 0, 4], [0, 0, 0]]
        assert store.post_facts([*posts, 13]) == facts
        assert store.hourly(posts, [FAV], 90, 110) == [(10, FAV, 100, 2), (12, FAV, 100, 4)]
    finally:
        other.close()
        store.close()
