"""Authentication of the read endpoints over real HTTP, through the test's ManualClock: nonces,
the timestamp window, tampered signatures, other Authorization headers, disabled apps."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.api.reads import (
    APP_NOT_AUTHORIZED,
    NOT_AUTHENTICATED,
)
from tests.support import NOW
from tests.support.harness import (
    PREFIX,
    Api,
    body,
)

# -- authentication through the clock ------------------------------------------------------


def test_nonce_replay_and_timestamp_window_follow_the_clock(api: Api) -> None:
    url = api.url(PREFIX + "/totals")
    content = json.dumps(body()).encode()
    _, token, secret = api.tokens["alice"]

    def send(header: str) -> tuple[int, Any]:
        response = api.read("totals", content, auth=None, headers={"Authorization": header})
        return response.status_code, response.json()

    header = api.oauth_header(url, token=(token, secret), nonce="fixednonce1")
    assert send(header)[0] == 200
    assert send(header) == (401, {"errors": [NOT_AUTHENTICATED + "Nonce already used"]})

    now = int(NOW.timestamp())
    for skew, status in ((300, 200), (-300, 200), (301, 401), (-301, 401)):
        header = api.oauth_header(url, token=(token, secret), timestamp=now + skew)
        code, data = send(header)
        assert code == status, (skew, data)
        if status == 401:
            assert data == {"errors": [NOT_AUTHENTICATED + "Timestamp out of bounds"]}

    # a request signed now is out of bounds once the server's clock has moved on
    header = api.oauth_header(url, token=(token, secret))
    api.clock.advance(timedelta(seconds=301))
    assert send(header) == (401, {"errors": [NOT_AUTHENTICATED + "Timestamp out of bounds"]})


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ("other path", "Invalid signature"),
        ("other port", "Invalid signature"),
        ("other secret", "Invalid signature"),
        ("unknown consumer key", "Consumer key not found"),
        ("revoked token", "Access token not found"),
        ("token of another app", "Access token not found"),
    ],
)
def test_oauth_failures_over_http(api: Api, tamper: str, reason: str) -> None:
    """The signature covers the URL the server received (scheme, host, port, path)."""
    url = api.url(PREFIX + "/totals")
    app, token, secret = api.tokens["alice"]
    if tamper == "other path":
        header = api.oauth_header(api.url(PREFIX + "/28hr"), token=(token, secret))
    elif tamper == "other port":
        port = httpx.URL(url).port or 80
        other = str(httpx.URL(url).copy_with(port=port + 1 if port < 65535 else port - 1))
        header = api.oauth_header(other, token=(token, secret))
    elif tamper == "other secret":
        wrong = secret[:-1] + ("y" if secret.endswith("x") else "x")  # never the same secret
        header = api.oauth_header(url, token=(token, wrong))
    elif tamper == "unknown consumer key":
        fake = type(app)("x", "abc" + app.consumer_key[3:], app.consumer_secret, "", 1)
        header = api.oauth_header(url, app=fake, token=(token, secret))
    elif tamper == "revoked token":
        assert api.store.revoke_token(token)
        header = api.oauth_header(url, token=(token, secret))
    else:
        _, other_token, other_secret = api.tokens["disabled"]
        header = api.oauth_header(url, token=(other_token, other_secret))
    response = api.read("totals", body(), auth=None, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json() == {"errors": [NOT_AUTHENTICATED + reason]}


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("Basic YWxpY2U6c2VjcmV0", "Unknown Authorization Type"),
        ("Bearer", "Bearer token not found"),
        ("Bearer AAAAAAAAAAAAAAAAAAAAAA", "Bearer token not found"),
    ],
)
def test_other_authorization_headers(api: Api, header: str, reason: str) -> None:
    response = api.read("totals", body(), auth=None, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json() == {"errors": [NOT_AUTHENTICATED + reason]}


def test_app_disabled_and_enabled_again(api: Api) -> None:
    assert api.read("totals", body(), auth="bearer").status_code == 200
    assert api.store.set_app_enabled(api.app.consumer_key, False)
    for auth in ("bearer", "alice", "app"):
        response = api.read("totals", body(), auth=auth)
        assert response.status_code == 403
        assert response.json() == {"errors": [APP_NOT_AUTHORIZED]}
    assert api.store.set_app_enabled(api.app.consumer_key, True)
    assert api.read("totals", body(), auth="alice").status_code == 200


def test_changes_after_an_oauth_request_apply_to_the_next_one(api: Api) -> None:
    """A server may remember the app and token it checked a signature with (PostgreSQL
    does, and checks them again as it counts the request): a revocation, a new limit or a
    disabled app after a request answered for them applies to the very next request."""
    assert api.read("totals", body(), auth="alice").status_code == 200
    assert api.store.set_rate_limit(api.app.consumer_key, 7)
    response = api.read("totals", body(), auth="alice")
    limit = (response.headers["x-per-minute-limit"], response.headers["x-per-minute-remaining"])
    assert (response.status_code, limit) == (200, ("7", "5"))
    assert api.store.set_app_enabled(api.app.consumer_key, False)
    response = api.read("totals", body(), auth="alice")
    assert response.status_code == 403
    assert response.json() == {"errors": [APP_NOT_AUTHORIZED]}
    assert api.store.set_app_enabled(api.app.consumer_key, True)
    assert api.read("totals", body(), auth="alice").status_code == 200
    _, token, _ = api.tokens["alice"]
    assert api.store.revoke_token(token)
    response = api.read("totals", body(), auth="alice")
    assert response.status_code == 401
    assert response.json() == {"errors": [NOT_AUTHENTICATED + "Access token not found"]}
    assert api.read("totals", body(), auth="app").status_code == 200  # (the app's own)
