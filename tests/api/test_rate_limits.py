"""Rate limits and usage over HTTP (spec §8), on every backend, with the ManualClock.

The harness's app has a limit of 1000; tests lower it with ``set_rate_limit`` (in force for
the next request). NOW is 12:30:00 sharp, so the reset is 12:31:00 until the clock moves.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest

from engagement_api.service import credentials
from tests.support import NOW, SINGLE_DATABASE, backends
from tests.support.harness import (
    ALICE,
    BOB,
    BOB_POST,
    DELETED,
    ENDPOINTS,
    MAX_BODY_BYTES,
    PHOTO,
    RECENT,
    UNKNOWN,
    Api,
    body,
    gunzip_json,
    raw_response,
)

# What this module tests is the catalog's alone: the ClickHouse configuration runs the same code
# on its PostgreSQL catalog.
backend = backends(SINGLE_DATABASE)

RESET = str(int((NOW + timedelta(minutes=1)).timestamp()))
LIMITED = {"errors": ["Exceeded rate limit"]}
HEADERS = ("x-per-minute-limit", "x-per-minute-remaining", "x-per-minute-reset")


def _j(value: dict[str, Any]) -> bytes:
    return json.dumps(value).encode()


def oversized() -> bytes:
    raw = _j(body())
    return raw + b" " * (MAX_BODY_BYTES + 1 - len(raw))


def rate(response: httpx.Response) -> tuple[str, str, str]:
    limit, remaining, reset = (response.headers[name] for name in HEADERS)
    return limit, remaining, reset


def usage(api: Api, month: str | None = None, auth: str = "bearer") -> httpx.Response:
    path = "/usage" if month is None else f"/usage?month={month}"
    return api.request("GET", path, auth=auth)


# -- every answer after authentication is counted and carries the headers ----------------------

#: (what, endpoint, auth, body, status): each counts once, whatever its answer.
COUNTED = [
    ("200 user context", "totals", "alice", _j(body()), 200),
    ("200 app-only", "totals", "bearer", _j(body()), 200),
    ("200 OAuth app-only", "totals", "app", _j(body()), 200),
    ("413 size", "totals", "alice", oversized(), 413),
    ("400 body", "totals", "alice", b'{"tweet_ids": "nope"}', 400),
    ("400 malformed JSON", "totals", "alice", b"{", 400),
    ("403 user context required", "28hr", "bearer", _j(body()), 403),
    ("403 unowned Post", "historical", "alice", _j(body([BOB_POST])), 403),
    ("400 no Post available", "totals", "alice", _j(body([DELETED, UNKNOWN])), 400),
]


@pytest.mark.parametrize(
    ("endpoint", "auth", "content", "status"),
    [case[1:] for case in COUNTED],
    ids=[case[0] for case in COUNTED],
)
def test_every_answer_after_authentication_counts_and_carries_the_headers(
    api: Api, endpoint: str, auth: str, content: bytes, status: int
) -> None:
    assert api.store.set_rate_limit(api.app.consumer_key, 3)
    for remaining in ("2", "1", "0"):
        response = api.read(endpoint, content, auth=auth)
        assert response.status_code == status, response.text
        assert rate(response) == ("3", remaining, RESET)
    response = api.read(endpoint, content, auth=auth)
    assert (response.status_code, response.json()) == (429, LIMITED)
    assert rate(response) == ("3", "0", RESET)


@pytest.mark.parametrize(
    ("auth", "status"),
    [(None, 401), ("disabled", 403), ("disabled-bearer", 403)],
)
def test_refused_before_the_limit_is_neither_counted_nor_given_headers(
    api: Api, auth: str | None, status: int
) -> None:
    assert api.store.set_rate_limit(api.app.consumer_key, 1)
    assert api.store.set_rate_limit(api.disabled_app.consumer_key, 1)
    for _ in range(3):
        response = api.read("totals", body(), auth=auth)
        assert response.status_code == status
        assert not set(HEADERS) & set(response.headers)
    assert api.read("totals", body(), auth="bearer").status_code == 200  # nothing was counted


def test_401_comes_before_429(api: Api) -> None:
    assert api.store.set_rate_limit(api.app.consumer_key, 1)
    assert api.read("totals", body(), auth="bearer").status_code == 200
    assert api.read("totals", body(), auth="bearer").status_code == 429
    bad = {"Authorization": "Bearer notatoken"}
    assert api.read("totals", body(), auth=None, headers=bad).status_code == 401


def test_429_is_gzipped_with_its_headers(api: Api) -> None:
    assert api.store.set_rate_limit(api.app.consumer_key, 1)
    assert api.read("totals", body(), auth="bearer").status_code == 200
    url = api.url("/insights/engagement/totals")
    headers = {
        **api.auth_header("bearer", url),
        "Accept-Encoding": "gzip",
        "Content-Type": "application/json",
    }
    request = api.http.build_request("POST", url, content=_j(body()), headers=headers)
    with raw_response(api, request) as (response, raw):
        assert response.status_code == 429
        assert response.headers["content-encoding"] == "gzip"
        assert gunzip_json(raw) == LIMITED
        assert rate(response) == ("1", "0", RESET)


# -- per app, per endpoint, per minute ----------------------------------------------------------


def test_each_endpoint_and_each_app_has_its_own_count(api: Api) -> None:
    assert api.store.set_rate_limit(api.app.consumer_key, 2)
    other = credentials.create_app(api.store, api.clock, "other app", 1)
    other_auth = {"Authorization": f"Bearer {other.bearer_token}"}
    for endpoint in ENDPOINTS:
        statuses = [api.read(endpoint, body(), auth="alice").status_code for _ in range(3)]
        assert statuses == [200, 200, 429], endpoint
    first = api.read("totals", body(), auth=None, headers=other_auth)
    assert (first.status_code, rate(first)) == (200, ("1", "0", RESET))
    assert api.read("totals", body(), auth=None, headers=other_auth).status_code == 429


def test_the_count_starts_again_with_each_utc_minute(api: Api) -> None:
    assert api.store.set_rate_limit(api.app.consumer_key, 2)
    api.clock.set(NOW + timedelta(seconds=59))
    assert [api.read("totals", body(), auth="alice").status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
    api.clock.advance(timedelta(seconds=1))  # 12:31:00: a new minute
    response = api.read("totals", body(), auth="alice")
    next_reset = str(int((NOW + timedelta(minutes=2)).timestamp()))
    assert (response.status_code, rate(response)) == (200, ("2", "1", next_reset))


def test_a_new_limit_applies_to_the_next_request(api: Api) -> None:
    assert api.store.set_rate_limit(api.app.consumer_key, 1)
    assert api.read("totals", body(), auth="bearer").status_code == 200
    assert api.read("totals", body(), auth="bearer").status_code == 429
    assert api.store.set_rate_limit(api.app.consumer_key, 5)
    response = api.read("totals", body(), auth="bearer")  # the third of this minute
    assert (response.status_code, rate(response)) == (200, ("5", "2", RESET))


def test_usage_and_other_paths_are_not_rate_limited(api: Api) -> None:
    assert api.store.set_rate_limit(api.app.consumer_key, 1)
    for _ in range(3):
        response = usage(api)
        assert response.status_code == 200
        assert not set(HEADERS) & set(response.headers)
    assert api.read("totals", body(), auth="bearer").status_code == 200


# -- usage ---------------------------------------------------------------------------------------


def _users(api: Api, month: str = "2026-11") -> int:
    response = usage(api, month)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    assert data == {
        "app": api.app.consumer_key,
        "month": month,
        "users": len(data["counted"]),
        "counted": data["counted"],
    }
    users: int = data["users"]
    return users


def _counted(api: Api, month: str = "2026-11") -> list[dict[str, str]]:
    response = usage(api, month)
    assert response.status_code == 200, response.text
    counted: list[dict[str, str]] = response.json()["counted"]
    return counted


ALICE_COUNTED = {"id": str(ALICE), "handle": "alice"}
BOB_COUNTED = {"id": str(BOB), "handle": "bob"}


def test_usage_counts_distinct_users_asking_for_their_own_posts(api: Api) -> None:
    assert _users(api) == 0
    api.read_ok("totals", body([RECENT]), auth="alice")
    api.read_ok("historical", body([RECENT, PHOTO]), auth="alice")
    assert _users(api) == 1  # alice, once
    api.read_ok("totals", body([RECENT]), auth="bob")  # public metrics of alice's Post
    api.read_ok("totals", body([RECENT]), auth="bearer")  # app-only: nobody's usage
    api.read_ok("totals", body([RECENT]), auth="app")
    assert _users(api) == 1
    api.read_ok("totals", body([RECENT, BOB_POST]), auth="bob")  # one of his own
    assert _users(api) == 2
    assert _counted(api) == [ALICE_COUNTED, BOB_COUNTED]  # by ID, with their handles
    assert _users(api, "2026-10") == 0


@pytest.mark.parametrize(
    ("endpoint", "content", "status"),
    [
        ("totals", _j(body([RECENT], ["impressions"])), 403),  # bob may not see alice's private
        ("totals", b"{", 400),
        ("28hr", oversized(), 413),
        ("historical", _j(body([BOB_POST, RECENT])), 403),
    ],
)
def test_unsuccessful_requests_are_not_usage(
    api: Api, endpoint: str, content: bytes, status: int
) -> None:
    assert api.read(endpoint, content, auth="bob").status_code == status
    assert _users(api) == 0


def test_a_429_is_not_usage(api: Api) -> None:
    assert api.store.set_rate_limit(api.app.consumer_key, 1)
    assert api.read("totals", body(), auth="bearer").status_code == 200
    assert api.read("totals", body([BOB_POST]), auth="bob").status_code == 429
    assert _users(api) == 0


def test_usage_is_per_utc_month_and_defaults_to_the_current_one(api: Api) -> None:
    api.read_ok("totals", body([RECENT]), auth="alice")
    api.clock.set(NOW.replace(day=30, hour=23, minute=59, second=59))
    api.read_ok("totals", body([BOB_POST]), auth="bob")
    response = usage(api)
    assert response.json() == {
        "app": api.app.consumer_key,
        "month": "2026-11",
        "users": 2,
        "counted": [ALICE_COUNTED, BOB_COUNTED],
    }
    api.clock.advance(timedelta(seconds=1))  # December, UTC
    api.read_ok("totals", body([RECENT]), auth="alice")
    assert usage(api).json() == {
        "app": api.app.consumer_key,
        "month": "2026-12",
        "users": 1,
        "counted": [ALICE_COUNTED],
    }
    assert _users(api, "2026-11") == 2


def test_usage_is_per_app(api: Api) -> None:
    api.read_ok("totals", body([RECENT]), auth="alice")
    other = credentials.create_app(api.store, api.clock, "other app", 10)
    token = credentials.create_token(api.store, api.clock, other.consumer_key, ALICE)
    url = api.url("/usage")
    header = api.oauth_header(url, app=other, token=(token.token, token.secret), method="GET")
    response = api.request("GET", "/usage", auth=None, headers={"Authorization": header})
    assert response.json() == {
        "app": other.consumer_key,
        "month": "2026-11",
        "users": 0,
        "counted": [],
    }
    assert _counted(api) == [ALICE_COUNTED]


@pytest.mark.parametrize("auth", ["bearer", "app", "alice"])
def test_usage_accepts_every_way_of_signing(api: Api, auth: str) -> None:
    response = usage(api, "2026-11", auth=auth)
    assert response.status_code == 200
    assert response.json() == {
        "app": api.app.consumer_key,
        "month": "2026-11",
        "users": 0,
        "counted": [],
    }


@pytest.mark.parametrize(
    ("path", "auth", "status", "errors"),
    [
        (
            "/usage?month=2026-13",
            "bearer",
            400,
            ['Invalid month: "2026-13" (expected YYYY-MM, as in 2026-11)'],
        ),
        ("/usage?month=", "alice", 400, ['Invalid month: "" (expected YYYY-MM, as in 2026-11)']),
        (
            "/usage?month=2026-13",
            None,
            401,
            ["Your account could not be authenticated. Reason: Unknown Authorization Type"],
        ),
        ("/usage", "disabled-bearer", 403, ["Your application id is not authorized."]),
    ],
)
def test_usage_errors(
    api: Api, path: str, auth: str | None, status: int, errors: list[str]
) -> None:
    response = api.request("GET", path, auth=auth)
    assert (response.status_code, response.json()) == (status, {"errors": errors})


def test_usage_answers_get_only(api: Api) -> None:
    assert api.request("POST", "/usage", b"{}", auth="bearer").status_code == 405
