"""The store suite: every backend in conftest.BACKENDS, real databases, same expectations."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from engagement_api.contract.metrics import METRICS
from engagement_api.domain import MediaItem, PostRecord, User
from engagement_api.store import IdempotencyConflict, Store, open_store
from engagement_api.store.errors import SchemaError
from tests.support import NOW

FAV = METRICS["favorites"].code
IMP = METRICS["impressions"].code
VV = METRICS["video_views"].code
U64_MAX = 2**64 - 1


def _seed(store: Store) -> None:
    store.upsert_users([User(1, "alice"), User(2, "Bob_2"), User(U64_MAX, "edge")])
    store.upsert_posts(
        [
            PostRecord(10, 1, NOW - timedelta(days=1), (MediaItem("7_10", "video"),), False, False),
            PostRecord(11, 2, NOW - timedelta(days=2), (MediaItem("7_10", "video"),)),
            PostRecord(U64_MAX, U64_MAX, NOW, (), True, False),
        ]
    )


def test_migrate_is_idempotent_and_schema_is_current(store: Store) -> None:
    assert store.migrate() == []
    store.check_schema()
    assert store.schema_version() >= 1


def test_users_roundtrip_and_handles_case_insensitive(store: Store) -> None:
    _seed(store)
    assert store.get_users([1, U64_MAX, 99]) == {
        1: User(1, "alice"),
        U64_MAX: User(U64_MAX, "edge"),
    }
    assert store.users_by_handle(["BOB_2", "nobody"]) == {"bob_2": User(2, "Bob_2")}


def test_post_upsert_keeps_fields_left_out(store: Store) -> None:
    _seed(store)
    store.upsert_posts([PostRecord(10, 1, NOW - timedelta(days=1), deleted=True)])
    post = store.get_posts([10])[10]
    assert post.deleted and not post.protected
    assert post.media == (MediaItem("7_10", "video"),)
    assert not post.available
    edge = store.get_posts([U64_MAX])[U64_MAX]
    assert edge.author_id == U64_MAX and edge.protected and edge.media == ()
    assert store.posts_by_author(1) == [10]


def test_batch_applies_exactly_once(store: Store) -> None:
    _seed(store)
    deltas = {(10, FAV, 100): 3, (10, IMP, 100): 50, (U64_MAX, FAV, 101): -1}
    assert store.apply_batch("k1", "sum1", 3, 42, deltas, NOW) is True
    assert store.apply_batch("k1", "sum1", 3, 42, deltas, NOW) is False
    with pytest.raises(IdempotencyConflict):
        store.apply_batch("k1", "other", 3, 42, deltas, NOW)
    assert store.totals([10, U64_MAX], [FAV, IMP]) == {
        (10, FAV): 3,
        (10, IMP): 50,
        (U64_MAX, FAV): -1,
    }
    batch = store.get_batch("k1")
    assert batch is not None and (batch.checksum, batch.events, batch.size) == ("sum1", 3, 42)
    assert store.get_batch("nope") is None


def test_hourly_window_is_half_open(store: Store) -> None:
    _seed(store)
    store.apply_batch("k", "c", 4, 1, {(10, FAV, h): h for h in range(99, 103)}, NOW)
    rows = store.hourly([10, 11], [FAV], 100, 102)
    assert sorted(rows) == [(10, FAV, 100, 100), (10, FAV, 101, 101)]
    assert store.hourly([], [FAV], 0, 10**6) == []


def test_video_views_sum_over_every_carrier_and_follow_media_changes(store: Store) -> None:
    _seed(store)
    store.apply_batch("k", "c", 2, 1, {(10, VV, 100): 5, (11, VV, 100): 7}, NOW)
    assert store.video_totals([10, 11, U64_MAX]) == {10: 12, 11: 12}
    # Post 11 now carries another video: its own views move with it.
    store.upsert_posts([PostRecord(11, 2, NOW, (MediaItem("7_99", "video"),))])
    assert store.video_totals([10, 11]) == {10: 5, 11: 7}
    store.upsert_posts([PostRecord(11, 2, NOW, ())])
    assert store.video_totals([10, 11]) == {10: 5}


def test_lifetime_is_totals_with_video_views_from_the_video(store: Store) -> None:
    _seed(store)
    store.apply_batch("k", "c", 3, 1, {(10, VV, 100): 5, (11, VV, 100): 7, (10, FAV, 100): 2}, NOW)
    assert store.lifetime([10, 11, U64_MAX], [FAV, VV, IMP]) == {
        (10, FAV): 2,
        (10, VV): 12,
        (11, VV): 12,
    }
    assert store.lifetime([10, 11], [VV]) == {(10, VV): 12, (11, VV): 12}
    assert store.lifetime([10], [FAV]) == {(10, FAV): 2}
    assert store.lifetime([], [FAV]) == {} and store.lifetime([10], []) == {}
    assert store.totals([10, 11], [VV]) == {(10, VV): 5, (11, VV): 7}  # own views


def test_prune_drops_old_hours_but_keeps_lifetime_totals(store: Store) -> None:
    _seed(store)
    store.apply_batch("k", "c", 2, 1, {(10, FAV, 100): 1, (10, FAV, 200): 2}, NOW)
    assert store.prune_hourly(150) == 1
    assert store.hourly([10], [FAV], 0, 1000) == [(10, FAV, 200, 2)]
    assert store.totals([10], [FAV]) == {(10, FAV): 3}


def test_credentials(store: Store) -> None:
    _seed(store)
    app = store.create_app("ck1", "demo", "secret1", "hash1", 60, NOW)
    assert store.get_app("ck1") == app
    assert store.app_by_bearer("hash1") == app
    assert store.app_by_bearer("nope") is None
    assert store.set_app_enabled("ck1", False) and not store.set_app_enabled("zz", False)
    assert store.get_app("ck1").enabled is False  # type: ignore[union-attr]  # None fails too
    assert store.set_rate_limit("ck1", 5)
    assert [a.rate_limit for a in store.list_apps()] == [5]
    token = store.create_token("tok", "tsecret", "ck1", U64_MAX, NOW)
    assert store.get_token("tok") == token
    # (get_token's None would fail the assertion as well)
    assert store.revoke_token("tok") and store.get_token("tok").revoked  # type: ignore[union-attr]
    store.create_ingest_key("ihash", NOW)
    assert store.has_ingest_key("ihash") and not store.has_ingest_key("other")


def test_the_app_and_the_token_are_get_app_and_get_token(store: Store) -> None:
    """What an OAuth 1.0a signature is checked with, looked up together (one statement on
    PostgreSQL): each half is what its own lookup gives, found or not."""
    app = store.create_app("ck1", "demo", "secret1", "hash1", 60, NOW)
    other = store.create_app("ck2", "other", "secret2", "hash2", 60, NOW)
    token = store.create_token("tok", "tsecret", "ck1", U64_MAX, NOW)
    store.create_token("tok2", "tsecret2", "ck2", 7, NOW)
    assert store.revoke_token("tok2")
    revoked = store.get_token("tok2")
    assert revoked is not None and revoked.revoked and revoked.user_id == 7
    assert store.app_and_token("ck1", "tok") == (app, token)
    assert store.app_and_token("ck1", None) == (app, None)
    assert store.app_and_token("ck2", "tok2") == (other, revoked)
    assert store.app_and_token("ck2", "tok") == (other, token)  # (the verifier checks the app)
    assert store.app_and_token("nope", "tok") == (None, token)
    assert store.app_and_token("ck1", "nope") == (app, None)
    assert store.app_and_token("nope", "nope") == (None, None)


def test_nonce_is_single_use_per_consumer_key(store: Store) -> None:
    ts = int(NOW.timestamp())
    assert store.use_nonce("ck1", "n1", ts, NOW)
    assert not store.use_nonce("ck1", "n1", ts, NOW)
    assert store.use_nonce("ck2", "n1", ts, NOW)
    # Forgotten once far outside any timestamp window.
    assert store.use_nonce("ck1", "n1", ts, NOW + timedelta(hours=2))


def test_sqlite_refuses_a_newer_schema(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'n.db'}")
    store.migrate()
    store.close()
    with sqlite3.connect(tmp_path / "n.db") as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (999, 'future', 0)")
    store = open_store(f"sqlite:///{tmp_path / 'n.db'}")
    with pytest.raises(SchemaError, match="newer"):
        store.check_schema()
    with pytest.raises(SchemaError, match="newer"):
        store.migrate()
    store.close()


def test_committed_batches_survive_reopen(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    store = open_store(url)
    store.migrate()
    _seed(store)
    store.apply_batch("k", "c", 1, 1, {(10, FAV, 100): 1}, NOW)
    store.close()
    again = open_store(url)
    assert again.totals([10], [FAV]) == {(10, FAV): 1}
    assert again.get_batch("k") is not None
    again.close()
