"""Error precedence on the read endpoints over real HTTP: 401, 403, 413, 400 in the contract's
order, whole-body problems, body limits and hashes, the per-minute rate limit (spec §7, §8)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from tests.api.reads import (
    APP_NOT_AUTHORIZED,
    NONE_AVAILABLE,
    NOT_AUTHENTICATED,
    TOO_LARGE,
    USER_CONTEXT_REQUIRED,
    errors_of,
    oversized,
)
from tests.support import NOW, SINGLE_DATABASE, backends
from tests.support.harness import (
    BOB_DELETED,
    BOB_POST,
    BOB_PROTECTED,
    DELETED,
    MAX_BODY_BYTES,
    PHOTO,
    PREFIX,
    PROTECTED,
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

# -- error precedence (spec §7) --------------------------------------------------------------

BAD_BODY = b'{"tweet_ids": "nope", "engagement_types": []}'
BAD_BODY_ERRORS = [
    'tweet_ids: must be an array of Tweet ID strings, not "nope"',
    "engagement_types: [] must contain at least one engagement type",
    "groupings: required, an object of named groupings such as "
    '{"perTweet": {"group_by": ["tweet.id", "engagement.type"]}}',
]


def _j(value: dict[str, Any]) -> bytes:
    return json.dumps(value).encode()


PRECEDENCE = [
    # (case, endpoint, auth, body, status, errors)
    (
        "no auth, bad body: 401",
        "totals",
        None,
        BAD_BODY,
        401,
        [NOT_AUTHENTICATED + "Unknown Authorization Type"],
    ),
    (
        "no auth, oversized: 401",
        "totals",
        None,
        oversized(),
        401,
        [NOT_AUTHENTICATED + "Unknown Authorization Type"],
    ),
    (
        "ingest key on a read endpoint: 401",
        "totals",
        "ingest",
        _j(body()),
        401,
        [NOT_AUTHENTICATED + "Bearer token not found"],
    ),
    ("disabled app, bad body: 403", "totals", "disabled", BAD_BODY, 403, [APP_NOT_AUTHORIZED]),
    (
        "disabled app bearer, oversized: 403",
        "historical",
        "disabled-bearer",
        oversized(),
        403,
        [APP_NOT_AUTHORIZED],
    ),
    (
        "disabled app, app-only on /28hr: 403 app",
        "28hr",
        "disabled-bearer",
        _j(body()),
        403,
        [APP_NOT_AUTHORIZED],
    ),
    (
        "valid auth, oversized bad JSON: 413",
        "totals",
        "alice",
        b"{" + b" " * MAX_BODY_BYTES,
        413,
        [TOO_LARGE],
    ),
    ("bearer, oversized: 413", "totals", "bearer", oversized(), 413, [TOO_LARGE]),
    ("app-only /28hr, oversized: 413", "28hr", "app", oversized(), 413, [TOO_LARGE]),
    (
        "valid auth, bad body: 400 lists every problem",
        "totals",
        "alice",
        BAD_BODY,
        400,
        BAD_BODY_ERRORS,
    ),
    ("app-only on /28hr, bad body: 400", "28hr", "bearer", BAD_BODY, 400, BAD_BODY_ERRORS),
    (
        "too many IDs before policy: 400",
        "historical",
        "bearer",
        _j(body(range(1, 27))),
        400,
        ["Too many Tweet IDs: 26 given, at most 25 allowed on /historical"],
    ),
    (
        "unowned Post, bad body: 400",
        "28hr",
        "alice",
        _j(body([BOB_POST], ["quote_tweets"])),
        400,
        [
            "One or more of the engagement types you have specified are not supported: "
            "(quote_tweets). Please adjust your request and try again."
        ],
    ),
    ("bearer on /28hr: 403", "28hr", "bearer", _j(body()), 403, [USER_CONTEXT_REQUIRED]),
    (
        "OAuth app-only on /historical: 403",
        "historical",
        "app",
        _j(body()),
        403,
        [USER_CONTEXT_REQUIRED],
    ),
    (
        "app-only on /28hr, nothing available: 403 before 400",
        "28hr",
        "bearer",
        _j(body([UNKNOWN])),
        403,
        [USER_CONTEXT_REQUIRED],
    ),
    (
        "bearer asks private metrics: 403",
        "totals",
        "bearer",
        _j(body([RECENT], ["impressions", "favorites", "engagements"])),
        403,
        ["Forbidden to access metrics: engagements, impressions"],
    ),
    (
        "OAuth app-only asks private metrics: 403",
        "totals",
        "app",
        _j(body([RECENT], ["impressions"])),
        403,
        ["Forbidden to access metrics: impressions"],
    ),
    (
        "private metric of an unowned Post: 403",
        "totals",
        "alice",
        _j(body([RECENT, BOB_POST, UNKNOWN], ["impressions", "favorites"])),
        403,
        [f"Forbidden to access tweets: {BOB_POST}"],
    ),
    (
        "Post of another user on /28hr: 403",
        "28hr",
        "alice",
        _j(body([BOB_POST, RECENT])),
        403,
        [f"Forbidden to access tweets: {BOB_POST}"],
    ),
    (
        "Posts of another user on /historical: 403",
        "historical",
        "carol",
        _j(body([PHOTO, RECENT, BOB_POST])),
        403,
        [f"Forbidden to access tweets: {RECENT}, {PHOTO}, {BOB_POST}"],
    ),
    (
        "nothing available: 400",
        "totals",
        "alice",
        _j(body([UNKNOWN, DELETED, PROTECTED])),
        400,
        [NONE_AVAILABLE],
    ),
    (
        "unowned but unavailable never 403: 400",
        "28hr",
        "alice",
        _j(body([BOB_DELETED, BOB_PROTECTED])),
        400,
        [NONE_AVAILABLE],
    ),
    (
        "bearer, nothing available: 400",
        "totals",
        "bearer",
        _j(body([BOB_DELETED], ["favorites"])),
        400,
        [NONE_AVAILABLE],
    ),
]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "Request body is empty: expected a JSON object"),
        (b" \n\t ", "Request body is empty: expected a JSON object"),
        (b"[]", "Request body must be a JSON object, not an array"),
        (b'"tweet_ids"', "Request body must be a JSON object, not a string"),
        (
            b'{"tweet_ids": ' + b"[" * 32 + b"]" * 32 + b"}",
            "Request body is nested deeper than 32 levels",
        ),
        (b"[" * 2000 + b"]" * 2000, "Request body is nested deeper than 32 levels"),
    ],
    ids=["empty", "blank", "array", "string", "33 levels", "2000 levels"],
)
def test_whole_body_problems(api: Api, content: bytes, message: str) -> None:
    for endpoint in ("totals", "28hr", "historical"):
        response = api.read(endpoint, content, auth="alice")
        assert response.status_code == 400
        assert response.json() == {"errors": [message]}


def test_32_levels_of_nesting_are_read(api: Api) -> None:
    nested = json.dumps(body()).encode()[:-1] + b', "x": ' + b"[" * 31 + b"]" * 31 + b"}"
    assert api.read("totals", nested).status_code == 200


def test_invalid_json_is_a_400_naming_the_problem(api: Api) -> None:
    response = api.read("totals", b'{"tweet_ids": [1,}')
    assert response.status_code == 400
    [message] = errors_of(response)
    assert message.startswith("Request body is not valid JSON: ")


@pytest.mark.parametrize("path", ["/insights/engagement/totals", "/ingest/users"])
def test_a_store_failure_answers_an_error_body_without_a_traceback(api: Api, path: str) -> None:
    api.store.close()  # every query now fails inside the store
    auth = "ingest" if path.startswith("/ingest") else "bearer"
    request = api.http.build_request(
        "POST",
        api.url(path),
        content=json.dumps(body()).encode(),
        headers={
            **api.auth_header(auth, api.url(path)),
            "Accept-Encoding": "gzip",
            "Content-Type": "application/json",
        },
    )
    with raw_response(api, request) as (response, raw):
        assert response.status_code == 503
        assert response.headers["content-encoding"] == "gzip"
        data = gunzip_json(raw)
    assert list(data) == ["errors"]
    assert not any(word in json.dumps(data) for word in ("Traceback", "sqlite", 'File "'))


@pytest.mark.parametrize(
    ("endpoint", "auth", "content", "status", "errors"),
    [case[1:] for case in PRECEDENCE],
    ids=[case[0] for case in PRECEDENCE],
)
def test_error_precedence(
    api: Api, endpoint: str, auth: str | None, content: bytes, status: int, errors: list[str]
) -> None:
    response = api.read(endpoint, content, auth=auth)
    assert response.status_code == status
    assert response.json() == {"errors": errors}
    assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize("endpoint", ["totals", "28hr", "historical"])
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_body_size_limit_boundary(api: Api, endpoint: str, chunked: bool) -> None:
    """A body of exactly the limit is read; one byte more is 413 (declared or streamed)."""
    raw = json.dumps(body()).encode()
    exact = raw + b" " * (MAX_BODY_BYTES - len(raw))
    assert len(exact) == MAX_BODY_BYTES
    for content, status in ((exact, 200), (exact + b" ", 413)):
        sent: bytes | Iterator[bytes] = (
            iter([content[:1000], content[1000:]]) if chunked else content
        )
        response = api.request("POST", f"{PREFIX}/{endpoint}", sent, auth="alice")
        assert response.status_code == status, response.text
        if status == 413:
            assert response.json() == {"errors": [TOO_LARGE]}


def test_oversized_body_with_valid_body_hash_is_413(api: Api) -> None:
    content = oversized()
    url = api.url(PREFIX + "/totals")
    _, token, secret = api.tokens["alice"]
    header = api.oauth_header(url, token=(token, secret), body=content)
    assert "oauth_body_hash" in header
    response = api.read("totals", content, auth=None, headers={"Authorization": header})
    assert response.status_code == 413
    assert response.json() == {"errors": [TOO_LARGE]}


def test_body_hash_is_checked_over_http(api: Api) -> None:
    content = json.dumps(body()).encode()
    url = api.url(PREFIX + "/totals")
    _, token, secret = api.tokens["alice"]
    good = api.oauth_header(url, token=(token, secret), body=content)
    response = api.read("totals", content, auth=None, headers={"Authorization": good})
    assert response.status_code == 200
    bad = api.oauth_header(url, token=(token, secret), body=content)
    response = api.read(
        "totals",
        content.replace(b"favorites", b"retweets"),
        auth=None,
        headers={"Authorization": bad},
    )
    assert response.status_code == 401
    assert response.json() == {"errors": [NOT_AUTHENTICATED + "Invalid signature"]}


def test_rate_limit_per_app_endpoint_and_minute(api: Api) -> None:
    assert api.store.set_rate_limit(api.app.consumer_key, 2)
    reset = str(int((NOW + timedelta(minutes=1)).timestamp()))  # NOW is 12:30:00 sharp
    for remaining in ("1", "0"):
        response = api.read("totals", body(), auth="bearer")
        assert response.status_code == 200
        assert response.headers["x-per-minute-limit"] == "2"
        assert response.headers["x-per-minute-remaining"] == remaining
        assert response.headers["x-per-minute-reset"] == reset
    for content in (json.dumps(body()).encode(), oversized(), BAD_BODY):  # 429 before 413/400
        response = api.read("totals", content, auth="alice")
        assert response.status_code == 429
        assert response.json() == {"errors": ["Exceeded rate limit"]}
        assert response.headers["x-per-minute-remaining"] == "0"
    assert api.read("historical", body(), auth="alice").status_code == 200  # per endpoint
    api.clock.advance(timedelta(minutes=1))
    assert api.read("totals", body(), auth="bearer").status_code == 200
