"""OAuth 1.0a: real signatures from independent clients, verified against a real store."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import timedelta

import pytest

from engagement_api.auth import Authenticator, Identity
from engagement_api.clock import ManualClock
from engagement_api.contract.errors import Forbidden, Unauthorized
from engagement_api.store import Store
from tests.auth.signing import BODY, JSON, TS, URL, World, sign, sign_with_requests


def _reason(auth: Authenticator, headers: dict[str, str], **kw: object) -> str:
    url = str(kw.get("url", URL))
    method = str(kw.get("method", "POST"))
    body = kw.get("body", BODY)
    assert isinstance(body, bytes)
    with pytest.raises(Unauthorized) as info:
        auth.authenticate(method, url, headers, body)
    assert info.value.status == 401
    assert info.value.messages == [
        f"Your account could not be authenticated. Reason: {info.value.reason}"
    ]
    return info.value.reason


def _set_param(headers: dict[str, str], name: str, value: str) -> dict[str, str]:
    new, count = re.subn(rf'{name}="[^"]*"', f'{name}="{value}"', headers["Authorization"])
    assert count == 1
    return {**headers, "Authorization": new}


def _get_param(headers: dict[str, str], name: str) -> str:
    found = re.search(rf'{name}="([^"]*)"', headers["Authorization"])
    assert found is not None
    return found.group(1)


def _truncate_signature(headers: dict[str, str]) -> dict[str, str]:
    return _set_param(headers, "oauth_signature", _get_param(headers, "oauth_signature")[:-6])


# -- success -------------------------------------------------------------------------------


def test_user_context_signed_by_oauthlib_client(auth: Authenticator, world: World) -> None:
    identity = auth.authenticate("POST", URL, sign(world.a, world.token_a), BODY)
    assert identity.app.consumer_key == world.a.key
    assert identity.user_id == 1001
    assert identity.scheme == "oauth1_user"
    assert identity.is_user_context


def test_app_only_signed_by_oauthlib_client(auth: Authenticator, world: World) -> None:
    identity = auth.authenticate("POST", URL, sign(world.b), BODY)
    assert (identity.app.consumer_key, identity.user_id, identity.scheme) == (
        world.b.key,
        None,
        "oauth1_app",
    )
    assert not identity.is_user_context


@pytest.mark.parametrize("user", [True, False], ids=["user", "app-only"])
def test_requests_oauthlib_json_post_with_query(
    auth: Authenticator, world: World, user: bool
) -> None:
    url, headers = sign_with_requests(
        world.a, world.token_a if user else None, url=URL + "?trace=1&x=a%20b"
    )
    identity = auth.authenticate("POST", url, headers, BODY)
    assert identity.user_id == (1001 if user else None)


def test_json_body_is_not_in_the_base_string(auth: Authenticator, world: World) -> None:
    # requests-oauthlib does not sign JSON bodies; any body goes with the signature.
    url, headers = sign_with_requests(world.a, world.token_a)
    assert "oauth_body_hash" not in headers["Authorization"]
    assert auth.authenticate("POST", url, headers, b'{"other": "body"}').user_id == 1001


def test_form_body_is_in_the_base_string(auth: Authenticator, world: World) -> None:
    form = "application/x-www-form-urlencoded"
    headers = sign(world.a, world.token_a, body=b"a=1&b=2", content_type=form)
    assert auth.authenticate("POST", URL, headers, b"a=1&b=2").user_id == 1001
    headers = sign(world.a, world.token_a, body=b"a=1&b=2", content_type=form)
    assert _reason(auth, headers, body=b"a=1&b=3") == "Invalid signature"


@pytest.mark.parametrize(
    "nonce",
    [
        "a" * 32,
        "Zx9" * 14,  # 42 alphanumerics
        "1733915400123456789012",  # oauthlib's generate_nonce style: digits
        "n",
        "x" * 128,
        "a b+c/d=e~f!g%h",  # printable, percent-encoded on the wire
    ],
)
def test_real_world_nonces(auth: Authenticator, world: World, nonce: str) -> None:
    assert auth.authenticate("POST", URL, sign(world.a, world.token_a, nonce=nonce), BODY)


def test_long_keys_and_tokens(auth: Authenticator, store: Store, clock: ManualClock) -> None:
    key, secret, token, token_secret = "K" * 128, "s" * 200, "T" * 128, "t" * 200
    store.create_app(key, "long", secret, "0" * 64, 10, clock.now())
    store.create_token(token, token_secret, key, 7, clock.now())
    headers = sign((key, secret), (token, token_secret))
    assert auth.authenticate("POST", URL, headers, BODY).user_id == 7


# -- failures, by reason ---------------------------------------------------------------------

SignCase = Callable[[World], dict[str, str]]

FAILURES: list[tuple[str, SignCase, str]] = [
    (
        "forged signature",
        lambda w: _set_param(
            sign(w.a, w.token_a), "oauth_signature", "AAAAAAAAAAAAAAAAAAAAAAAAAAA%3D"
        ),
        "Invalid signature",
    ),
    (
        "truncated signature",
        lambda w: _truncate_signature(sign(w.a, w.token_a)),
        "Invalid signature",
    ),
    (
        "another app's consumer secret",
        lambda w: sign((w.a.key, w.b.secret), w.token_a),
        "Invalid signature",
    ),
    (
        "wrong token secret",
        lambda w: sign(w.a, (w.token_a.token, w.token_b.secret)),
        "Invalid signature",
    ),
    ("app-only, wrong secret", lambda w: sign((w.a.key, w.a.secret + "x")), "Invalid signature"),
    ("another app's token", lambda w: sign(w.a, w.token_b), "Access token not found"),
    ("revoked token", lambda w: sign(w.a, w.revoked_a), "Access token not found"),
    ("unknown token", lambda w: sign(w.a, ("Unknown0token", "whatever")), "Access token not found"),
    (
        "unknown consumer key",
        lambda w: sign(("NoSuchKey123", "secret"), w.token_a),
        "Consumer key not found",
    ),
    (
        "unknown consumer key, app-only",
        lambda w: sign(("NoSuchKey123", "s")),
        "Consumer key not found",
    ),
    (
        "unknown key beats unknown token",
        lambda w: sign(("NoSuchKey123", "s"), ("NoSuchToken", "t")),
        "Consumer key not found",
    ),
    (
        "unknown key beats timestamp",
        lambda w: sign(("NoSuchKey123", "s"), w.token_a, timestamp=TS - 3600),
        "Consumer key not found",
    ),
    (
        "unknown token beats timestamp",
        lambda w: sign(w.a, ("NoSuchToken", "t"), timestamp=TS + 3600),
        "Access token not found",
    ),
    (
        "timestamp beats signature",
        lambda w: sign((w.a.key, "wrong"), w.token_a, timestamp=TS - 3600),
        "Timestamp out of bounds",
    ),
    ("signed for another path", lambda w: sign(w.a, w.token_a, url=URL + "x"), "Invalid signature"),
    (
        "signed for another query",
        lambda w: sign(w.a, w.token_a, url=URL + "?a=2"),
        "Invalid signature",
    ),
    (
        "signed for another host",
        lambda w: sign(w.a, w.token_a, url="http://other/insights/engagement/totals"),
        "Invalid signature",
    ),
    (
        "signed for https",
        lambda w: sign(w.a, w.token_a, url=URL.replace("http:", "https:")),
        "Invalid signature",
    ),
    (
        "signed for another method",
        lambda w: sign(w.a, w.token_a, method="GET"),
        "Invalid signature",
    ),
]


@pytest.mark.parametrize(
    ("make", "reason"), [c[1:] for c in FAILURES], ids=[c[0] for c in FAILURES]
)
def test_failures(auth: Authenticator, world: World, make: SignCase, reason: str) -> None:
    assert _reason(auth, make(world)) == reason


def test_query_is_part_of_the_signature(auth: Authenticator, world: World) -> None:
    headers = sign(world.a, world.token_a, url=URL + "?a=1")
    assert _reason(auth, headers, url=URL + "?a=2") == "Invalid signature"


# -- timestamps ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "ok"),
    [(0, True), (300, True), (-300, True), (301, False), (-301, False), (86400, False)],
)
def test_timestamp_window(auth: Authenticator, world: World, offset: int, ok: bool) -> None:
    headers = sign(world.a, world.token_a, timestamp=TS + offset)
    if ok:
        assert auth.authenticate("POST", URL, headers, BODY).user_id == 1001
    else:
        assert _reason(auth, headers) == "Timestamp out of bounds"


def test_timestamp_follows_the_injected_clock(
    auth: Authenticator, world: World, clock: ManualClock
) -> None:
    headers = sign(world.a, world.token_a)
    clock.advance(timedelta(seconds=301))
    assert _reason(auth, headers) == "Timestamp out of bounds"
    clock.advance(timedelta(seconds=-1))
    assert auth.authenticate("POST", URL, headers, BODY).user_id == 1001


def test_timestamp_window_is_configurable(store: Store, clock: ManualClock, world: World) -> None:
    auth = Authenticator(store, clock, timestamp_window=60)
    assert auth.authenticate("POST", URL, sign(world.a, timestamp=TS - 60), BODY)
    assert _reason(auth, sign(world.a, timestamp=TS - 61)) == "Timestamp out of bounds"
    with pytest.raises(ValueError, match="timestamp_window"):
        Authenticator(store, clock, timestamp_window=0)


# -- nonces ----------------------------------------------------------------------------------


def test_replayed_request_fails_the_second_time(auth: Authenticator, world: World) -> None:
    headers = sign(world.a, world.token_a)
    assert auth.authenticate("POST", URL, headers, BODY).user_id == 1001
    assert _reason(auth, headers) == "Nonce already used"


def test_same_nonce_other_timestamp_is_a_replay(auth: Authenticator, world: World) -> None:
    assert auth.authenticate("POST", URL, sign(world.a, nonce="N0nce", timestamp=TS), BODY)
    assert _reason(auth, sign(world.a, nonce="N0nce", timestamp=TS + 5)) == "Nonce already used"


def test_nonces_are_per_consumer_key(auth: Authenticator, world: World) -> None:
    assert auth.authenticate("POST", URL, sign(world.a, nonce="shared"), BODY)
    assert auth.authenticate("POST", URL, sign(world.b, nonce="shared"), BODY)


@pytest.mark.parametrize(
    "spoil",
    [
        lambda w: sign((w.a.key, "not-the-secret"), w.token_a, nonce="fresh"),
        lambda w: sign(w.a, w.token_a, nonce="fresh", timestamp=TS - 1000),
        lambda w: sign(w.a, w.revoked_a, nonce="fresh"),
        lambda w: sign(w.a, w.token_a, nonce="fresh", url=URL + "?forged=1"),
    ],
    ids=["bad signature", "stale timestamp", "revoked token", "other url"],
)
def test_rejected_request_does_not_burn_its_nonce(
    auth: Authenticator, world: World, spoil: SignCase
) -> None:
    _reason(auth, spoil(world))
    assert auth.authenticate("POST", URL, sign(world.a, world.token_a, nonce="fresh"), BODY)


def test_concurrent_replays_succeed_exactly_once(auth: Authenticator, world: World) -> None:
    headers = sign(world.a, world.token_a)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt() -> None:
        try:
            auth.authenticate("POST", URL, headers, BODY)
            result = "ok"
        except Unauthorized as exc:
            result = exc.reason
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["Nonce already used"] * 7 + ["ok"]


# -- body hash -------------------------------------------------------------------------------


def test_body_hash_matching(auth: Authenticator, world: World) -> None:
    headers = sign(world.a, world.token_a, body=BODY)
    assert "oauth_body_hash" in headers["Authorization"]
    assert auth.authenticate("POST", URL, headers, BODY).user_id == 1001


@pytest.mark.parametrize("body", [b"", BODY + b" ", b'{"tweet_ids": ["1"]}'])
def test_body_hash_mismatch(auth: Authenticator, world: World, body: bytes) -> None:
    headers = sign(world.a, world.token_a, body=BODY)
    assert _reason(auth, headers, body=body) == "Invalid signature"


def test_body_hash_mismatch_does_not_burn_the_nonce(auth: Authenticator, world: World) -> None:
    _reason(auth, sign(world.a, body=BODY, nonce="kept"), body=b"{}")
    assert auth.authenticate("POST", URL, sign(world.a, body=BODY, nonce="kept"), BODY)


# -- app enabled -----------------------------------------------------------------------------


@pytest.mark.parametrize("user", [True, False], ids=["user", "app-only"])
def test_disabled_app_is_forbidden_after_authentication(
    auth: Authenticator, store: Store, world: World, user: bool
) -> None:
    store.set_app_enabled(world.a.key, False)
    with pytest.raises(Forbidden) as info:
        auth.authenticate("POST", URL, sign(world.a, world.token_a if user else None), BODY)
    assert info.value.status == 403
    assert info.value.messages == ["Your application id is not authorized."]
    # ... but a bad signature of a disabled app is still a 401.
    assert _reason(auth, sign((world.a.key, "nope"))) == "Invalid signature"
    store.set_app_enabled(world.a.key, True)
    assert isinstance(auth.authenticate("POST", URL, sign(world.a), BODY), Identity)


def test_header_name_is_case_insensitive(auth: Authenticator, world: World) -> None:
    headers = sign(world.a, world.token_a)
    lowered = {"authorization": headers["Authorization"], "CONTENT-TYPE": JSON}
    assert auth.authenticate("post", URL, lowered, BODY).user_id == 1001
