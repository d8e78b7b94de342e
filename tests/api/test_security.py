"""Hostile input over real HTTP: each attack gets its documented status and message, and changes
nothing (counts, records, credentials and usage are compared before and after)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from engagement_api.contract.metrics import METRICS
from engagement_api.service import credentials
from tests.support import SINGLE_DATABASE, backends
from tests.support.harness import (
    ALICE,
    BIG,
    BOB,
    BOB_POST,
    CAROL,
    PHOTO,
    POSTS,
    PREFIX,
    RECENT,
    Api,
    at,
    body,
)
from tests.support.model import Event

# What this module tests is the catalog's alone: the ClickHouse configuration runs the same code
# on its PostgreSQL catalog.
backend = backends(SINGLE_DATABASE)

NOT_AUTHENTICATED = "Your account could not be authenticated. Reason: "
WORLD_POSTS = [int(p["id"]) for p in POSTS]
CODES = [m.code for m in METRICS.values()]


def state(api: Api) -> Any:
    """Everything an attack could change: records, counts, credentials, usage."""
    store = api.store
    _, token, _ = api.tokens["alice"]
    return (
        store.get_users([ALICE, BOB, CAROL, 42, 0, 1]),
        store.get_posts([*WORLD_POSTS, 1]),
        sorted(store.totals(WORLD_POSTS, CODES).items()),
        sorted(store.hourly(WORLD_POSTS, CODES, 0, 10**7)),
        sorted((a.consumer_key, a.enabled, a.rate_limit) for a in store.list_apps()),
        store.get_token(token),
        store.usage(api.app.consumer_key, "2026-11"),
    )


@pytest.fixture
def world(api: Api) -> Iterator[Api]:
    """The harness world with some counts, and a check after the test that nothing moved."""
    api.send_events(
        [Event(RECENT, "favorites", at(26, 10), 3), Event(PHOTO, "impressions", at(25, 9), 7)]
    )
    api.read_ok("28hr", body([RECENT]))  # alice is counted in this month's usage already
    before = state(api)
    yield api
    assert state(api) == before
    # and the real credentials still work
    ok = api.read("totals", body([RECENT], ["favorites", "impressions"]))
    assert ok.status_code == 200, ok.text
    assert ok.json()["perTweet"][str(RECENT)] == {"favorites": "3", "impressions": "0"}


def expect(response: Any, status: int, *messages: str) -> None:
    assert response.status_code == status, response.text
    assert response.json() == {"errors": list(messages)}, response.text


def signed(api: Api, endpoint: str = "totals", who: str = "alice", **kwargs: Any) -> str:
    app, token, secret = api.tokens[who]
    return api.oauth_header(
        api.url(f"{PREFIX}/{endpoint}"), app=app, token=(token, secret), **kwargs
    )


def with_param(header: str, name: str, value: str) -> str:
    return re.sub(rf'{name}="[^"]*"', f'{name}="{value}"', header)


def send(api: Api, header: str, endpoint: str = "totals", payload: Any = None) -> Any:
    return api.read(
        endpoint,
        body() if payload is None else payload,
        auth=None,
        headers={"Authorization": header},
    )


# -- signatures, tokens, nonces, timestamps ----------------------------------------------------


def test_forged_signature(world: Api) -> None:
    header = signed(world)
    signature = re.search(r'oauth_signature="([^"]*)"', header)
    assert signature
    original = signature.group(1)
    first = "B" if original.startswith("A") else "A"  # always a different signature
    forged = with_param(header, "oauth_signature", first + original[1:])
    expect(send(world, forged), 401, NOT_AUTHENTICATED + "Invalid signature")


def test_truncated_signature(world: Api) -> None:
    header = signed(world)
    signature = re.search(r'oauth_signature="([^"]*)"', header)
    assert signature
    expect(
        send(world, with_param(header, "oauth_signature", signature.group(1)[:10])),
        401,
        NOT_AUTHENTICATED + "Invalid signature",
    )
    # no signature at all: a required parameter is missing
    expect(
        send(world, with_param(header, "oauth_signature", "")),
        401,
        NOT_AUTHENTICATED + "Malformed Authorization header",
    )


def test_signature_made_with_another_apps_secret(world: Api) -> None:
    _, token, secret = world.tokens["alice"]
    # the enabled app's consumer key, signed with the other (disabled) app's secret
    impostor = replace(world.app, consumer_secret=world.disabled_app.consumer_secret)
    header = world.oauth_header(world.url(f"{PREFIX}/totals"), app=impostor, token=(token, secret))
    expect(send(world, header), 401, NOT_AUTHENTICATED + "Invalid signature")
    app_only = world.oauth_header(world.url(f"{PREFIX}/totals"), app=impostor)
    expect(send(world, app_only), 401, NOT_AUTHENTICATED + "Invalid signature")


def test_token_of_another_app(world: Api) -> None:
    # the disabled app's token for alice, presented by the enabled app
    _, token, secret = world.tokens["disabled"]
    header = world.oauth_header(world.url(f"{PREFIX}/28hr"), app=world.app, token=(token, secret))
    expect(send(world, header, "28hr"), 401, NOT_AUTHENTICATED + "Access token not found")


def test_revoked_token(world: Api) -> None:
    token = credentials.create_token(world.store, world.clock, world.app.consumer_key, ALICE)
    assert world.store.revoke_token(token.token)
    header = world.oauth_header(world.url(f"{PREFIX}/totals"), token=(token.token, token.secret))
    expect(send(world, header), 401, NOT_AUTHENTICATED + "Access token not found")


def test_replayed_nonce(world: Api) -> None:
    header = signed(world, nonce="only-once")
    assert send(world, header).status_code == 200
    before = state(world)
    expect(send(world, header), 401, NOT_AUTHENTICATED + "Nonce already used")
    assert state(world) == before


@pytest.mark.parametrize("offset", [-301, 301, -(10**6), 10**6])
def test_timestamp_outside_the_window(world: Api, offset: int) -> None:
    when = int(world.clock.now().timestamp()) + offset
    header = signed(world, timestamp=when)
    expect(send(world, header), 401, NOT_AUTHENTICATED + "Timestamp out of bounds")


@pytest.mark.parametrize("endpoint", ["28hr", "historical"])
@pytest.mark.parametrize("auth", ["bearer", "app"])
def test_app_only_on_user_context_endpoints(world: Api, endpoint: str, auth: str) -> None:
    expect(
        world.read(endpoint, body(), auth=auth),
        403,
        "Forbidden to access endpoint: user context required",
    )


def test_bearer_of_another_kind_is_refused(world: Api) -> None:
    expect(
        world.read("totals", body(), auth="ingest"),
        401,
        NOT_AUTHENTICATED + "Bearer token not found",
    )
    response = world.ingest("users", [{"id": "5", "handle": "eve"}], auth="bearer")
    expect(response, 401, NOT_AUTHENTICATED + "Ingest key not found")


# -- hostile values ----------------------------------------------------------------------------

SQL = ["1; DROP TABLE posts; --", "1' OR '1'='1", "' UNION SELECT * FROM apps --"]


@pytest.mark.parametrize("value", SQL)
def test_sql_looking_ids_types_and_grouping_names(world: Api, value: str) -> None:
    expect(world.read("totals", body([value])), 400, f"Invalid Tweet ID: {json.dumps(value)}")
    expect(
        world.read("totals", body(engagement_types=[value])),
        400,
        "One or more of the engagement types you have specified are not supported: "
        f"({json.dumps(value)})."
        " Please adjust your request and try again.",
    )
    # a grouping name is only echoed back
    answer = world.read_ok("totals", body(groupings={value: {"group_by": ["engagement.type"]}}))
    assert answer == {value: {"favorites": "3"}}
    response = world.ingest(
        "events",
        [{"tweet_id": value, "type": "favorites", "at": "2026-11-26T10:00:00Z"}],
        key=value,
    )
    assert response.status_code == 400
    assert response.json()["errors"][0].startswith("line 1: tweet_id ")


def test_sql_looking_credentials(world: Api) -> None:
    expect(
        send(world, with_param(signed(world), "oauth_consumer_key", "x' OR '1'='1")),
        401,
        NOT_AUTHENTICATED + "Consumer key not found",
    )
    expect(
        world.read("totals", body(), auth=None, headers={"Authorization": "Bearer ' OR 1=1 --"}),
        401,
        NOT_AUTHENTICATED + "Bearer token not found",
    )


def test_non_utf8_bodies(world: Api) -> None:
    response = world.read("totals", b'{"tweet_ids": ["\xff\xfe"], "engagement_types": []}')
    assert response.status_code == 400
    assert response.json()["errors"][0].startswith("Request body is not valid JSON")
    raw = (
        b'{"tweet_id": "%d", "type": "favorites", "at": "2026-11-26T10:00:00Z"}\n' % RECENT
        + b'{"tweet_id": "\xc3\x28", "type": "favorites", "at": "2026-11-26T10:00:00Z"}\n'
    )
    response = world.ingest("events", raw, key="bad-utf8")
    assert response.status_code == 400
    (message,) = response.json()["errors"]
    assert message.startswith("line 2: ")
    response = world.ingest(
        "users", b"id,handle\n7,\xff\xfe\n", fmt="csv", headers={"Content-Type": "text/csv"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0].startswith("line 2")


def test_non_utf8_and_control_characters_in_grouping_names(world: Api) -> None:
    name = "\u0000\ud800-\u202e"
    raw = json.dumps(body(groupings={name: {"group_by": ["engagement.type"]}})).encode()
    answer = world.read("totals", raw)
    assert answer.status_code in (200, 400), answer.text
    if answer.status_code == 400:
        assert answer.json()["errors"][0].startswith("Request body is not valid JSON")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (str(2**64), f'Invalid Tweet ID: "{2**64}"'),
        ("-1", 'Invalid Tweet ID: "-1"'),
    ],
)
def test_huge_and_negative_ids(world: Api, value: str, message: str) -> None:
    expect(world.read("totals", body([value])), 400, message)


def test_a_very_long_id_is_echoed_shortened(world: Api) -> None:
    response = world.read("totals", body(["9" * 5000]))
    assert response.status_code == 400
    (message,) = response.json()["errors"]
    assert message.startswith('Invalid Tweet ID: "999') and len(message) < 200
    as_number = (
        b'{"tweet_ids": [%s], "engagement_types": ["favorites"], '
        b'"groupings": {"g": {"group_by": ["engagement.type"]}}}' % (b"9" * 5000)
    )
    response = world.read("totals", as_number)
    assert response.status_code == 400, response.text
    for value in ("9" * 5000, int("9" * 4000)):
        line = {"tweet_id": value, "type": "favorites", "at": "2026-11-26T10:00:00Z"}
        response = world.ingest("events", [line], key=f"long-{type(value).__name__}")
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0].startswith("line 1: tweet_id ")
    users = [{"id": "9" * 5000, "handle": "long"}]
    assert world.ingest("users", users).status_code == 400


def test_huge_and_negative_json_numbers(world: Api) -> None:
    raw = (
        b'{"tweet_ids": [%d, -5], "engagement_types": ["favorites"], '
        b'"groupings": {"g": {"group_by": ["engagement.type"]}}}' % (2**64)
    )
    response = world.read("totals", raw)
    assert response.status_code == 400
    assert f"Invalid Tweet ID: {2**64}" in response.json()["errors"]
    assert "Invalid Tweet ID: -5" in response.json()["errors"]
    infinite = raw.replace(b"-5", b"1e400")
    response = world.read("totals", infinite)
    assert response.status_code == 400
    assert response.json()["errors"][0].startswith("Request body is not valid JSON: ")
    # the largest ID there is works
    assert world.read_ok("totals", body([BIG]))["perTweet"] == {str(BIG): {"favorites": "0"}}


@pytest.mark.parametrize(
    ("count", "reason"),
    [
        (10**12 + 1, "count"),
        (-(10**12) - 1, "count"),
        (2**70, "count"),
        (-3, "count"),  # negative impressions: not an undo metric
    ],
)
def test_huge_and_negative_event_counts(world: Api, count: int, reason: str) -> None:
    line = {
        "tweet_id": str(PHOTO),
        "type": "impressions",
        "at": "2026-11-26T10:00:00Z",
        "count": count,
    }
    response = world.ingest("events", [line], key=f"count-{count}")
    assert response.status_code == 400, response.text
    (message,) = response.json()["errors"]
    assert message.startswith(f"line 1: {reason} ")


def test_huge_and_negative_rate_of_usage_month(world: Api) -> None:
    for month in ("99999-01", "2026-13", "-2026-01", "2026-00"):
        response = world.http.get(
            world.url(f"/usage?month={month}"),
            headers={"Authorization": f"Bearer {world.app.bearer_token}"},
        )
        assert response.status_code == 400, (month, response.text)


# -- nesting and size --------------------------------------------------------------------------


def nested(depth: int) -> bytes:
    return (
        b'{"tweet_ids": ["%d"], "engagement_types": ["favorites"], "groupings": '
        b'{"g": {"group_by": ["engagement.type"]}}, "x": '
        % RECENT
        + b"[" * (depth - 1)
        + b"]" * (depth - 1)
        + b"}"
    )


def test_json_nested_32_levels_is_read_and_33_refused(world: Api) -> None:
    assert world.read("totals", nested(32)).status_code == 200
    expect(world.read("totals", nested(33)), 400, "Request body is nested deeper than 32 levels")


def test_json_nested_100k_levels_does_not_crash(world: Api) -> None:
    limit = world.settings.max_body_bytes
    depth = min(100_000, limit // 2 - 200)
    expect(world.read("totals", nested(depth)), 400, "Request body is nested deeper than 32 levels")
    # 100k levels in a body that fits: the server with a larger limit
    deep = b"[" * 100_000 + b"]" * 100_000
    response = world.read("totals", deep)
    assert response.status_code in (400, 413)


def test_deeply_nested_ingest_lines(world: Api) -> None:
    deep = b'{"tweet_id": ' + b"[" * 50_000 + b"]" * 50_000 + b', "type": "favorites"}\n'
    response = world.ingest("events", deep, key="deep")
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0].startswith("line 1: ")
    array = b"[" * 100_000 + b"]" * 100_000
    response = world.ingest("users", array, fmt="json")
    assert response.status_code == 400, response.text


def test_oversized_bodies(world: Api) -> None:
    limit = world.settings.max_body_bytes
    expect(
        world.read("totals", b" " * (limit + 1)),
        413,
        f"Request body is larger than the limit of {limit} bytes",
    )
    ingest_limit = world.settings.max_ingest_bytes
    response = world.ingest("users", b"\n" * (ingest_limit + 1))
    expect(response, 413, f"Request body is larger than the limit of {ingest_limit} bytes")


def test_batch_line_limit(make_api: Any) -> None:
    limit = len(POSTS)  # the harness loads its Posts in one batch of this many lines
    api = make_api(max_ingest_lines=limit)
    lines = [{"id": str(9000 + i), "handle": f"u{i}"} for i in range(limit + 1)]
    message = f"Batch has {limit + 1} lines, more than the limit of {limit} lines"
    for fmt in ("ndjson", "json"):
        expect(api.ingest("users", lines, fmt=fmt), 413, message)
        assert api.store.get_users([9000]) == {}
    csv = b"id,handle\n" + b"".join(b"%d,c%d\n" % (9100 + i, i) for i in range(limit))
    expect(api.ingest("users", csv, headers={"Content-Type": "text/csv"}), 413, message)
    assert api.store.get_users([9100]) == {}
    api.load("users", lines[:limit])


def test_bob_cannot_read_alices_private_metrics(world: Api) -> None:
    expect(
        world.read("28hr", body([RECENT, BOB_POST], ["impressions"]), auth="bob"),
        403,
        f"Forbidden to access tweets: {RECENT}",
    )
