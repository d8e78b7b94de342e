"""``lifetime_columns`` (what ``/totals`` renders) is ``lifetime`` as columns on every backend,
and the SQLite store's read cache never serves a count or a Post's facts that a commit changed:
its own writes, another store's on the same file (another process does the same), video media
moving between Posts, a Post hidden or loaded after it was read, hours of another window."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from engagement_api.contract.metrics import METRICS
from engagement_api.domain import PostRecord
from engagement_api.store import Store, open_store
from engagement_api.store.protocols import OneDatabaseReads
from engagement_api.store.rows import ZERO_ROW
from engagement_api.store.sqlite import SqliteStore
from tests.store.posts import U64_MAX, seed_posts
from tests.support import NOW

FAV = METRICS["favorites"].code
IMP = METRICS["impressions"].code
RT = METRICS["retweets"].code
VV = METRICS["video_views"].code


def test_lifetime_columns_are_lifetime_per_code_and_post(store: Store) -> None:
    seed_posts(store)
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


def test_posts_read_with_their_counts_are_post_facts_and_the_counts(
    store: Store, backend: str
) -> None:
    """One database (SQLite, PostgreSQL): the Posts' facts and their counts in one read equal
    ``post_facts`` with ``lifetime`` or ``hourly``; the split store has no such read."""
    if backend == "clickhouse":
        assert not isinstance(store, OneDatabaseReads)  # the reader makes two calls there
        return
    assert isinstance(store, OneDatabaseReads)
    seed_posts(store)
    deltas = {(10, VV, 100): 5, (11, VV, 100): 7, (10, FAV, 100): 2, (U64_MAX, FAV, 101): 9}
    store.apply_batch("k", "c", 4, 1, {**deltas, (12, RT, 100): -3, (12, FAV, 102): 1}, NOW)
    posts = [12, U64_MAX, 10, 11, 999]
    codes = [VV, FAV, IMP, RT]
    facts, rows = store.facts_and_lifetime(posts, codes)
    assert facts == store.post_facts(posts) and set(facts) == {10, 11, 12, U64_MAX}
    lifetime = store.lifetime(posts, codes)
    assert {(p, c): count for p in posts for c in codes if (count := rows.get(p, ZERO_ROW)[c])} == {
        key: count for key, count in lifetime.items() if count
    }
    assert rows.get(12, ZERO_ROW)[RT] == -3 and rows.get(11, ZERO_ROW)[VV] == 12
    facts, hours = store.facts_and_hourly(posts, [FAV, RT], 100, 102)
    assert facts == store.post_facts(posts)
    assert sorted(hours) == sorted(store.hourly(posts, [FAV, RT], 100, 102))
    assert sorted(hours) == [(10, FAV, 100, 2), (12, RT, 100, -3), (U64_MAX, FAV, 101, 9)]
    assert store.facts_and_lifetime([], codes)[0] == {}  # (rows of other Posts may come)
    assert store.facts_and_hourly([], codes, 100, 102) == ({}, [])
    assert store.facts_and_hourly(posts, [], 100, 102) == (facts, [])


def test_every_commit_is_seen_by_the_next_read(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'engagement.db'}"
    store = open_store(url)
    other = open_store(url)  # another connection to the file: what another process has
    try:
        assert isinstance(store, SqliteStore)
        store.migrate()
        seed_posts(store)
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
        # the Posts with their counts (one check of the cache for both) see a commit too
        facts, rows = store.facts_and_lifetime([*posts, 13], codes)
        assert facts == store.post_facts([*posts, 13])
        assert [rows[p][FAV] for p in posts] == [2, 0, 4]
        other.apply_batch("c", "c", 1, 1, {(12, FAV, 101): 1}, NOW)
        _, rows = store.facts_and_lifetime(posts, codes)
        assert [rows[p][FAV] for p in posts] == [2, 0, 5]
        _, hours = store.facts_and_hourly([12], [FAV], 100, 102)
        assert hours == [(12, FAV, 100, 4), (12, FAV, 101, 1)]
        other.upsert_posts([PostRecord(12, 1, NOW - timedelta(days=3), deleted=True)])
        facts, _ = store.facts_and_hourly([12], [FAV], 100, 102)
        assert not facts[12].available
    finally:
        other.close()
        store.close()


def test_credentials_changed_elsewhere_are_seen_by_the_next_lookup(tmp_path: Path) -> None:
    """Apps and access tokens go through the read cache too: a change another connection
    commits (the CLI disabling an app, revoking a token, creating one) is seen at once."""
    url = f"sqlite:///{tmp_path / 'engagement.db'}"
    store = open_store(url)
    other = open_store(url)  # the CLI's connection
    try:
        store.migrate()
        assert store.get_app("Key1") is None and store.app_by_bearer("hash1") is None
        assert store.get_token("Tok1") is None  # the misses are kept, then dropped at a commit
        other.create_app("Key1", "one", "secret", "hash1", 100, NOW)
        other.create_token("Tok1", "tsecret", "Key1", 7, NOW)
        app = store.get_app("Key1")
        assert app is not None and app.enabled and app.rate_limit == 100
        assert store.app_by_bearer("hash1") == app
        token = store.get_token("Tok1")
        assert token is not None and not token.revoked and token.user_id == 7
        assert store.get_app("Key1") is app  # nothing committed: the same objects
        other.set_app_enabled("Key1", False)
        other.set_rate_limit("Key1", 5)
        changed = store.app_by_bearer("hash1")
        assert changed is not None and not changed.enabled and changed.rate_limit == 5
        other.revoke_token("Tok1")
        revoked = store.get_token("Tok1")
        assert revoked is not None and revoked.revoked
    finally:
        other.close()
        store.close()
