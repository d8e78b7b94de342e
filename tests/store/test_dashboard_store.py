"""The dashboard's store calls on every backend (real databases): admin keys, sessions,
one-time links, the cookie secret, the ingest log and the users' list."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from engagement_api.domain import DashboardSession, IngestMinute, User
from engagement_api.store import Store, open_store
from tests.support import NOW

HOUR = timedelta(hours=1)


def _operator(key_hash: str, hours: int = 12) -> DashboardSession:
    return DashboardSession("operator", None, key_hash, NOW, NOW + hours * HOUR)


def _owner(user_id: int, hours: int = 12) -> DashboardSession:
    return DashboardSession("owner", user_id, None, NOW, NOW + hours * HOUR)


def test_admin_keys_are_active_until_revoked(store: Store) -> None:
    assert not store.has_admin_key("k1")
    store.create_admin_key("k1", NOW)
    assert store.has_admin_key("k1")
    assert store.revoke_admin_key("k1") is True
    assert not store.has_admin_key("k1")
    assert store.revoke_admin_key("k1") is False  # already revoked
    assert store.revoke_admin_key("unknown") is False


def test_a_session_is_found_until_it_expires_or_ends(store: Store) -> None:
    store.create_admin_key("k1", NOW)
    store.create_session("s1", _operator("k1"))
    store.create_session("s2", _owner(2**64 - 1))
    assert store.get_session("s1", NOW) == _operator("k1")
    assert store.get_session("s2", NOW) == _owner(2**64 - 1)  # the largest ID there is
    assert store.get_session("s2", NOW + 12 * HOUR - timedelta(seconds=1)) is not None
    assert store.get_session("s2", NOW + 12 * HOUR) is None  # expired
    assert store.end_session("s2") is True
    assert store.end_session("s2") is False
    assert store.get_session("s2", NOW) is None
    assert store.get_session("unknown", NOW) is None


def test_revoking_an_admin_key_ends_its_sessions_only(store: Store) -> None:
    store.create_admin_key("k1", NOW)
    store.create_admin_key("k2", NOW)
    store.create_session("a", _operator("k1"))
    store.create_session("b", _operator("k1"))
    store.create_session("c", _operator("k2"))
    store.create_session("d", _owner(7))
    assert store.revoke_admin_key("k1")
    assert [store.get_session(s, NOW) is not None for s in "abcd"] == [False, False, True, True]
    assert store.end_session("a") is False  # the rows are gone, not only hidden


def test_a_session_of_an_operator_whose_key_was_never_issued_is_not_found(store: Store) -> None:
    store.create_session("s", _operator("never-issued"))
    assert store.get_session("s", NOW) is None


def test_sessions_and_links_that_expired_are_forgotten_when_a_session_begins(
    store: Store,
) -> None:
    store.create_session("old", DashboardSession("owner", 1, None, NOW - 13 * HOUR, NOW - HOUR))
    store.create_link("old-link", 1, NOW - 2 * HOUR, NOW - HOUR)
    store.create_session("new", _owner(1))
    assert store.end_session("old") is False  # deleted
    assert store.spend_link("old-link", NOW - 2 * HOUR) is None  # deleted, not only expired


def test_a_link_is_spent_once_before_it_expires(store: Store) -> None:
    store.create_link("t1", 2**63, NOW, NOW + timedelta(seconds=900))
    store.create_link("t2", 5, NOW, NOW + timedelta(seconds=900))
    assert store.spend_link("t1", NOW + timedelta(seconds=60)) == 2**63
    assert store.spend_link("t1", NOW + timedelta(seconds=61)) is None  # used
    assert store.spend_link("t2", NOW + timedelta(seconds=900)) is None  # expired
    assert store.spend_link("unknown", NOW) is None


def test_of_concurrent_uses_of_a_link_exactly_one_gets_the_user(store: Store) -> None:
    store.create_link("t", 9, NOW, NOW + HOUR)
    others = [open_store(store.url) for _ in range(2)]
    start = threading.Barrier(6)

    def use(i: int) -> int | None:
        start.wait(timeout=30)
        return others[i % 2].spend_link("t", NOW)

    try:
        with ThreadPoolExecutor(6) as pool:
            got = list(pool.map(use, range(6)))
    finally:
        for other in others:
            other.close()
    assert sorted(got, key=lambda v: v is None) == [9, None, None, None, None, None]


def test_the_session_secret_is_the_first_one_stored(store: Store) -> None:
    assert store.session_secret("first") == "first"
    assert store.session_secret("second") == "first"
    other = open_store(store.url)
    try:
        assert other.session_secret("third") == "first"
    finally:
        other.close()


def test_recent_batches_newest_first(store: Store) -> None:
    for i, key in enumerate(["b1", "b2", "b3"]):
        store.apply_batch(key, f"c{i}", 10 + i, 100 * (i + 1), {(1, 3, 5): 1}, NOW + i * HOUR)
    recent = store.recent_batches(2)
    assert [(b.key, b.events, b.size, b.applied_at) for b in recent] == [
        ("b3", 12, 300, NOW + 2 * HOUR),
        ("b2", 11, 200, NOW + HOUR),
    ]
    assert store.recent_batches(10)[-1].key == "b1"


def test_ingest_minutes_merge_applied_and_refused_batches(store: Store) -> None:
    minute = int(NOW.timestamp()) // 60
    second = timedelta(seconds=1)
    store.apply_batch("a", "c", 5, 50, {(1, 3, 5): 1}, NOW)
    store.apply_batch("b", "c", 7, 70, {(1, 3, 5): 1}, NOW + 30 * second)
    store.apply_batch("c", "c", 1, 10, {(1, 3, 5): 1}, NOW + 120 * second)
    store.record_rejection("events", 3, 99, NOW + 59 * second)
    store.record_rejection("users", 2, 10, NOW + 61 * second)
    store.record_rejection("events", 1, 10, NOW + 3 * HOUR)  # outside
    got = store.ingest_minutes(NOW, NOW + HOUR)
    assert got == [
        IngestMinute(minute, 2, 12, 1, 3),
        IngestMinute(minute + 1, 0, 0, 1, 2),
        IngestMinute(minute + 2, 1, 1, 0, 0),
    ]
    assert store.ingest_minutes(NOW + HOUR, NOW + 2 * HOUR) == []


@pytest.mark.parametrize(
    ("after", "limit", "handles"),
    [("", 10, ["al", "Bob", "zed"]), ("al", 1, ["Bob"]), ("bob", 5, ["zed"])],
)
def test_users_are_listed_by_lower_cased_handle(
    store: Store, after: str, limit: int, handles: list[str]
) -> None:
    store.upsert_users([User(3, "zed"), User(2**64 - 1, "Bob"), User(1, "al")])
    assert [u.handle for u in store.list_users(after, limit)] == handles
    assert store.list_users("", 1) == [User(1, "al")]
