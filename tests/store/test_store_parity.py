"""Corners where the backends could drift apart; every backend in conftest.BACKENDS."""

from __future__ import annotations

from datetime import timedelta

from engagement_api.contract.metrics import METRICS
from engagement_api.domain import MediaItem, PostRecord, User
from engagement_api.store import Store
from tests.support import NOW

FAV = METRICS["favorites"].code
VV = METRICS["video_views"].code


def _video(key: str) -> tuple[MediaItem, ...]:
    return (MediaItem(key, "video"),)


def test_records_of_one_post_in_one_call_apply_in_order(store: Store) -> None:
    store.upsert_users([User(1, "a")])
    store.upsert_posts([PostRecord(5, 1, NOW, _video("v1")), PostRecord(6, 1, NOW, ())])
    store.apply_batch("k", "c", 1, 1, {(5, VV, 100): 4}, NOW)
    store.upsert_posts(
        [
            PostRecord(5, 1, NOW, _video("v2"), protected=True),
            PostRecord(5, 99, NOW - timedelta(days=9), deleted=True),  # author/time kept
            PostRecord(5, 1, NOW, (MediaItem("p", "photo"), *_video("v3"))),
            PostRecord(6, 1, NOW, _video("v2")),
        ]
    )
    post = store.get_posts([5])[5]
    assert post.protected and post.deleted
    assert (post.author_id, post.created_at) == (1, NOW)
    assert post.media == (MediaItem("p", "photo"), MediaItem("v3", "video"))
    # Post 5's views went v1 -> v2 -> v3, leaving v2 (now Post 6's video) at zero.
    assert store.video_totals([5, 6]) == {5: 4, 6: 0}


def test_zero_sums_are_kept_as_totals_but_not_as_hours(store: Store) -> None:
    store.apply_batch("a", "c", 2, 1, {(7, FAV, 100): 2, (7, FAV, 101): -2}, NOW)
    store.apply_batch("b", "c", 1, 1, {(7, FAV, 102): 0}, NOW)
    assert store.totals([7], [FAV]) == {(7, FAV): 0}
    assert sorted(store.hourly([7], [FAV], 0, 1000)) == [(7, FAV, 100, 2), (7, FAV, 101, -2)]
    store.apply_batch("c", "c", 1, 1, {(7, FAV, 100): -2}, NOW)
    assert store.hourly([7], [FAV], 0, 1000) == [(7, FAV, 101, -2)]
    assert store.prune_hourly(1000) == 2  # the zeroed hour is a row too


def test_apps_are_listed_in_byte_order(store: Store) -> None:
    for key, bearer in (("b", "1"), ("B", "2"), ("a", "3"), ("_", "4")):
        store.create_app(key, key, "secret", bearer, 10, NOW)
    assert [a.consumer_key for a in store.list_apps()] == ["B", "_", "a", "b"]


def test_empty_inputs(store: Store) -> None:
    assert store.upsert_users([]) == 0
    assert store.upsert_posts([]) == 0
    assert store.get_users([]) == {}
    assert store.users_by_handle([]) == {}
    assert store.get_posts([]) == {}
    assert store.totals([], [FAV]) == {}
    assert store.totals([1], []) == {}
    assert store.video_totals([]) == {}
    assert store.apply_batch("empty", "c", 0, 0, {}, NOW)
    assert store.get_batch("empty") is not None
    assert store.prune_hourly(10**6) == 0
