"""PostgreSQL's one-statement admission (``admit_and_read``) does what its steps do one at a
time: the bearer token's app (``app_by_bearer``), the nonce (``use_nonce``), the count
(``count_request``, only for an enabled app and a new nonce), and the read within the limit
(``facts_and_lifetime`` / ``facts_and_hourly``). Each case runs on two databases seeded alike,
one through each road, and the answers and what is left in the tables are compared."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import psycopg
import pytest

from engagement_api.auth.secrets import hash_secret
from engagement_api.contract.metrics import METRICS
from engagement_api.domain import AccessToken, App
from engagement_api.store import open_store
from engagement_api.store.postgres import PostgresStore
from engagement_api.store.postgres import credentials as credentials_module
from engagement_api.store.protocols import NONCE_RETENTION, Admission, AdmittingStore, Wanted
from engagement_api.store.rows import ZERO_ROW
from tests.store.posts import U64_MAX, seed_posts
from tests.support import NOW
from tests.support.pg import SharedCluster

FAV = METRICS["favorites"].code
RT = METRICS["retweets"].code
VV = METRICS["video_views"].code
MINUTE = int(NOW.timestamp()) // 60
POSTS = [12, U64_MAX, 10, 11, 999]  # 999 was never loaded


def _seed(store: PostgresStore) -> None:
    seed_posts(store)
    deltas = {(10, VV, 100): 5, (11, VV, 100): 7, (10, FAV, 100): 2, (U64_MAX, FAV, 101): 9}
    store.apply_batch("k", "c", 4, 1, {**deltas, (12, RT, 100): -3, (12, FAV, 102): 1}, NOW)
    store.create_app("key1", "one", "secret1", hash_secret("bearer1"), 2, NOW)
    store.create_app("key2", "two", "secret2", hash_secret("bearer2"), 5, NOW)
    store.set_app_enabled("key2", False)


@pytest.fixture
def pair(pg_cluster: SharedCluster) -> Iterator[tuple[PostgresStore, PostgresStore]]:
    """Two databases seeded alike: (one statement, one step at a time)."""
    names = [pg_cluster.new_database(), pg_cluster.new_database()]
    stores = [open_store(pg_cluster.url(name)) for name in names]
    try:
        for store in stores:
            assert isinstance(store, PostgresStore)
            _seed(store)
        yield stores[0], stores[1]  # type: ignore[misc]  # (both checked above)
    finally:
        for store, name in zip(stores, names, strict=True):
            store.close()
            pg_cluster.drop_database(name)


def _tables(store: PostgresStore) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    with psycopg.connect(store.url) as conn:
        counts = conn.execute("SELECT * FROM rate_counts ORDER BY 1, 2, 3").fetchall()
        nonces = conn.execute("SELECT * FROM oauth_nonces ORDER BY 1, 2").fetchall()
    return counts, nonces


def _stepwise(
    store: PostgresStore, admission: Admission, wanted: Wanted | None
) -> tuple[object, ...]:
    """What the one-at-a-time road finds and reads (as the API would ask it)."""
    app = admission.app
    fresh = True
    if app is None:
        app = store.app_by_bearer(admission.bearer_hash or "")
    else:
        fresh = store.use_nonce(
            app.consumer_key, admission.nonce or "", admission.timestamp, admission.now
        )
    if app is None:
        return None, True, 0, {}, {}, []
    count = 0
    if app.enabled and fresh:
        count = store.count_request(app.consumer_key, admission.endpoint, admission.minute)
    if wanted is None or not count or count > app.rate_limit:
        return app, fresh, count, {}, {}, []
    if wanted.hours is None:
        facts, rows = store.facts_and_lifetime(wanted.post_ids, wanted.metric_codes)
        return app, fresh, count, facts, _dense(rows, wanted), []
    facts, hours = store.facts_and_hourly(wanted.post_ids, wanted.metric_codes, *wanted.hours)
    return app, fresh, count, facts, {}, sorted(hours)


def _dense(rows: object, wanted: Wanted) -> dict[tuple[int, int], int]:
    got = rows.get  # type: ignore[attr-defined]
    return {
        (p, c): n
        for p in wanted.post_ids
        for c in wanted.metric_codes
        if (n := got(p, ZERO_ROW)[c])
    }


def _admitted(
    store: PostgresStore, admission: Admission, wanted: Wanted | None
) -> tuple[object, ...]:
    got = store.admit_and_read(admission, wanted)
    lifetime = _dense(got.lifetime, wanted) if wanted is not None else {}
    return got.app, got.fresh, got.count, got.facts, lifetime, sorted(got.hourly)


LIFETIME = Wanted(POSTS, [VV, FAV, RT])
HOURLY = Wanted(POSTS, [FAV, RT], (100, 103))


@pytest.mark.parametrize("wanted", [LIFETIME, HOURLY, None, Wanted([], [FAV])], ids=repr)
def test_bearer_admission_is_its_steps(
    pair: tuple[PostgresStore, PostgresStore], wanted: Wanted | None
) -> None:
    one, steps = pair
    assert isinstance(one, AdmittingStore)
    cases = [
        Admission("totals", MINUTE, NOW, hash_secret("bearer1")),  # counted: 1
        Admission("totals", MINUTE, NOW, hash_secret("nobody")),  # no such app
        Admission("totals", MINUTE, NOW, hash_secret("bearer2")),  # not enabled
        Admission("totals", MINUTE, NOW, hash_secret("bearer1")),  # 2: the limit
        Admission("totals", MINUTE, NOW, hash_secret("bearer1")),  # 3: over it, not read
        Admission("28hr", MINUTE, NOW, hash_secret("bearer1")),  # another endpoint
        Admission("totals", MINUTE + 2, NOW, hash_secret("bearer1")),  # older minutes pruned
    ]
    for case in cases:
        assert _admitted(one, case, wanted) == _stepwise(steps, case, wanted)
    assert _tables(one) == _tables(steps)
    got = one.admit_and_read(cases[-1], LIFETIME)  # (the new minute's second request)
    assert got.app is not None and got.app.consumer_key == "key1" and got.count == 2
    assert set(got.facts) == {10, 11, 12, U64_MAX}
    assert got.lifetime[11][VV] == 12 and got.lifetime[12][RT] == -3


@pytest.mark.parametrize("wanted", [LIFETIME, HOURLY, None], ids=repr)
def test_oauth_admission_is_its_steps(
    pair: tuple[PostgresStore, PostgresStore],
    wanted: Wanted | None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    one, steps = pair
    monkeypatch.setattr(credentials_module, "FORGET_EVERY", 0.0)  # forget at every request
    enabled = one.get_app("key1")
    disabled = one.get_app("key2")
    assert isinstance(enabled, App) and isinstance(disabled, App)
    ts = int(NOW.timestamp())
    later = NOW + timedelta(seconds=NONCE_RETENTION + 10)
    cases = [
        Admission("28hr", MINUTE, NOW, None, enabled, "n1", ts),  # new: counted
        Admission("28hr", MINUTE, NOW, None, enabled, "n1", ts),  # used: not counted
        Admission("28hr", MINUTE, NOW, None, disabled, "n1", ts),  # another app's: new
        Admission("28hr", MINUTE, NOW, None, disabled, "n2", ts),  # not enabled: spent only
        Admission("28hr", MINUTE, NOW, None, enabled, "n2", ts),  # 2: the limit
        Admission("28hr", MINUTE, NOW, None, enabled, "n3", ts),  # 3: over it, not read
        Admission("28hr", MINUTE + 99, later, None, enabled, "n1", ts + 99),  # expired: new
        Admission("28hr", MINUTE + 99, later, None, enabled, "n1", ts + 99),  # and used now
    ]
    for case in cases:
        assert _admitted(one, case, wanted) == _stepwise(steps, case, wanted), case
    assert _tables(one) == _tables(steps)


def test_expired_nonces_are_forgotten_at_most_once_a_second(
    pair: tuple[PostgresStore, PostgresStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    one, _ = pair
    app = one.get_app("key1")
    assert app is not None
    ts = int(NOW.timestamp())
    later = NOW + timedelta(seconds=NONCE_RETENTION + 10)
    monkeypatch.setattr(credentials_module, "_forgotten_at", float("-inf"))
    one.admit_and_read(Admission("28hr", MINUTE, NOW, None, app, "old", ts), None)
    # within the second: the expired nonce is kept (this process forgot less than a second
    # ago), and counts as new all the same
    one.admit_and_read(Admission("28hr", MINUTE, later, None, app, "new", ts + 3700), None)
    assert [row[1:] for row in _tables(one)[1]] == [("new", ts + 3700), ("old", ts)]
    again = one.admit_and_read(Admission("28hr", MINUTE, later, None, app, "old", ts + 3701), None)
    assert again.fresh and again.count == 3
    replay = one.admit_and_read(Admission("28hr", MINUTE, later, None, app, "old", ts + 3701), None)
    assert not replay.fresh and replay.count == 0
    # once a second has passed, the expired ones are forgotten
    one.admit_and_read(Admission("28hr", MINUTE, NOW, None, app, "older", ts - 3700), None)
    monkeypatch.setattr(credentials_module, "FORGET_EVERY", 0.0)
    one.admit_and_read(Admission("28hr", MINUTE, later, None, app, "newer", ts + 3700), None)
    assert [row[1] for row in _tables(one)[1]] == ["new", "newer", "old"]


def test_oauth_admission_checks_the_app_and_token_again(
    pair: tuple[PostgresStore, PostgresStore],
) -> None:
    """An OAuth admission does nothing (``current`` False: no nonce spent, nothing counted)
    when the app or the token it was given is no longer as stored; the app and token that a
    process remembers are what it last found, until it looks them up anew."""
    one, _ = pair
    user = 77
    token = one.create_token("tok1", "tsecret", "key1", user, NOW)
    app, found = one.remembered_app_and_token("key1", "tok1")
    assert (app, found) == one.app_and_token("key1", "tok1") and found == token
    assert app is not None
    ts = int(NOW.timestamp())

    def admit(app: App, token: AccessToken | None, nonce: str) -> tuple[bool, bool, int]:
        got = one.admit_and_read(Admission("28hr", MINUTE, NOW, None, app, nonce, ts, token), None)
        return got.current, got.fresh, got.count

    assert admit(app, token, "n1") == (True, True, 1)
    assert admit(app, None, "n2") == (True, True, 2)  # (app-only: the app alone is checked)
    before = _tables(one)
    assert admit(replace(app, rate_limit=9), token, "n3") == (False, False, 0)
    assert admit(replace(app, consumer_secret="other"), None, "n3") == (False, False, 0)
    assert admit(replace(app, enabled=False), None, "n3") == (False, False, 0)
    assert admit(app, replace(token, secret="other"), "n3") == (False, False, 0)
    assert admit(app, replace(token, user_id=user + 1), "n3") == (False, False, 0)
    assert one.revoke_token("tok1")
    assert admit(app, token, "n3") == (False, False, 0)
    assert _tables(one) == before  # nothing spent, nothing counted
    # remembered until looked up anew; a revoked token is not remembered
    assert one.remembered_app_and_token("key1", "tok1") == (app, token)
    _, revoked = one.app_and_token("key1", "tok1")
    assert revoked is not None and revoked.revoked
    assert one.remembered_app_and_token("key1", "tok1") == (app, revoked)
    assert one.remembered_app_and_token("key1", None) == (app, None)
    assert one.set_rate_limit("key1", 3)
    assert one.remembered_app_and_token("key1", None) == (app, None)
    assert one.app_and_token("key1", None) == (replace(app, rate_limit=3), None)
    assert one.remembered_app_and_token("key1", None) == (replace(app, rate_limit=3), None)
    assert one.app_and_token("nobody", None) == (None, None)
    assert one.remembered_app_and_token("nobody", None) == (None, None)
