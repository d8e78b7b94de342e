"""The three read endpoints over real HTTP: statuses, exact bodies, gzip, error precedence,
and counts that match what was ingested (spec engagement-api.md §1-§7).

Expected counts are computed in the test from the events it sent (tests.api.model), never
read back from the store.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import MAX_BODY_BYTES
from tests.api.harness import (
    ALICE,
    ANCIENT,
    BIG,
    BOB_DELETED,
    BOB_POST,
    BOB_PROTECTED,
    DELETED,
    GIF,
    OLD,
    PHOTO,
    PREFIX,
    PROTECTED,
    RECENT,
    UNKNOWN,
    VIDEO_CARRIERS,
    Api,
    at,
    body,
    gunzip_json,
    raw_response,
)
from tests.api.model import (
    INTERACTIONS,
    TOTALS_METRICS,
    UNDOABLE,
    WINDOWED_METRICS,
    Counts,
    Event,
    floor_hour,
    hours_between,
    iso,
    key_order,
    parse_z,
    tree,
)
from tests.conftest import NOW

NOT_AUTHENTICATED = "Your account could not be authenticated. Reason: "
APP_NOT_AUTHORIZED = "Your application id is not authorized."
USER_CONTEXT_REQUIRED = "Forbidden to access endpoint: user context required"
NONE_AVAILABLE = "Tweet ID(s) are unavailable"
IMPRESSIONS_TOO_OLD = "Impressions & engagements for tweets older than 90 days are not supported"
VIDEO_TOO_OLD = "Video views for tweets older than 1800 days are not supported"
TOO_LARGE = f"Request body is larger than the limit of {MAX_BODY_BYTES} bytes"


def oversized(limit: int = MAX_BODY_BYTES) -> bytes:
    """A valid request body padded with spaces to one byte over the limit."""
    raw = json.dumps(body()).encode()
    return raw + b" " * (limit + 1 - len(raw))


def errors_of(response: Any) -> list[str]:
    data = response.json()
    assert list(data) == ["errors"], data
    errors: list[str] = data["errors"]
    return errors


# -- 404 and 405 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status", "message"),
    [
        (
            "GET",
            "/insights/engagement/totals",
            405,
            "Method GET is not allowed on /insights/engagement/totals",
        ),
        (
            "PUT",
            "/insights/engagement/28hr",
            405,
            "Method PUT is not allowed on /insights/engagement/28hr",
        ),
        (
            "DELETE",
            "/insights/engagement/historical",
            405,
            "Method DELETE is not allowed on /insights/engagement/historical",
        ),
        (
            "PATCH",
            "/insights/engagement/totals",
            405,
            "Method PATCH is not allowed on /insights/engagement/totals",
        ),
        ("GET", "/ingest/events", 405, "Method GET is not allowed on /ingest/events"),
        (
            "POST",
            "/insights/engagement/lifetime",
            404,
            "No such path: /insights/engagement/lifetime",
        ),
        ("POST", "/insights/engagement/TOTALS", 404, "No such path: /insights/engagement/TOTALS"),
        ("POST", "/insights/engagement", 404, "No such path: /insights/engagement"),
        (
            "POST",
            "/insights/engagement/totals/extra",
            404,
            "No such path: /insights/engagement/totals/extra",
        ),
        ("GET", "/", 404, "No such path: /"),
    ],
)
def test_unknown_path_or_method(
    api: Api, method: str, path: str, status: int, message: str
) -> None:
    """404/405 come first, whatever the credentials, with the contract's error body."""
    content = json.dumps(body()).encode() if method != "GET" else None
    for auth in ("alice", None, "disabled"):
        response = api.request(method, path, content, auth=auth)
        assert response.status_code == status, auth
        assert response.json() == {"errors": [message]}
        assert response.headers["content-type"] == "application/json"
        if status == 405:
            assert response.headers["allow"] == "POST"


def test_trailing_slash_is_an_unknown_path(api: Api) -> None:
    response = api.read("totals/", body())
    assert response.status_code == 404
    assert response.json() == {"errors": ["No such path: /insights/engagement/totals/"]}


# -- gzip ---------------------------------------------------------------------------------------


def _gzip_cases() -> list[tuple[str, str, str, bytes | None, str | None, int]]:
    ok = json.dumps(body()).encode()
    return [
        # (case, method, path, body, auth, status)
        ("200", "POST", "/totals", ok, "alice", 200),
        ("200 bearer", "POST", "/totals", ok, "bearer", 200),
        ("400 body", "POST", "/totals", b"{", "alice", 400),
        ("400 unavailable", "POST", "/totals", json.dumps(body([UNKNOWN])).encode(), "alice", 400),
        ("401", "POST", "/28hr", ok, None, 401),
        ("403 app", "POST", "/historical", ok, "disabled", 403),
        ("403 policy", "POST", "/28hr", ok, "bearer", 403),
        ("404", "POST", "/nothing", ok, "alice", 404),
        ("405", "GET", "/totals", None, "alice", 405),
        ("413", "POST", "/totals", oversized(), "alice", 413),
    ]


GZIP_CASES = _gzip_cases()


@pytest.mark.parametrize(
    ("method", "path", "content", "auth", "status"),
    [case[1:] for case in GZIP_CASES],
    ids=[case[0] for case in GZIP_CASES],
)
def test_every_response_is_gzipped_when_asked(
    api: Api, method: str, path: str, content: bytes | None, auth: str | None, status: int
) -> None:
    """However small, errors included; the body gunzips to the JSON answer."""
    url = api.url(PREFIX + path)
    for accept in ("gzip", "gzip, deflate, br", "deflate;q=0.5, gzip;q=1.0"):
        headers = {**api.auth_header(auth, url, method), "Accept-Encoding": accept}
        if content is not None:
            headers["Content-Type"] = "application/json"
        request = api.http.build_request(method, url, content=content, headers=headers)
        with raw_response(api, request) as (response, raw):
            assert response.status_code == status
            assert response.headers["content-encoding"] == "gzip"
            assert raw[:2] == b"\x1f\x8b"
            data = gunzip_json(raw)
        if status == 200:
            assert data == {"perTweet": {str(RECENT): {"favorites": "0"}}}
        else:
            assert list(data) == ["errors"]
            assert data["errors"] and all(isinstance(m, str) for m in data["errors"])


@pytest.mark.parametrize(
    ("method", "path", "content", "auth", "status"),
    [case[1:] for case in GZIP_CASES],
    ids=[case[0] for case in GZIP_CASES],
)
def test_no_gzip_unless_asked(
    api: Api, method: str, path: str, content: bytes | None, auth: str | None, status: int
) -> None:
    url = api.url(PREFIX + path)
    headers = {**api.auth_header(auth, url, method), "Accept-Encoding": "identity"}
    if content is not None:
        headers["Content-Type"] = "application/json"
    request = api.http.build_request(method, url, content=content, headers=headers)
    with raw_response(api, request) as (response, raw):
        assert response.status_code == status
        assert "content-encoding" not in response.headers
        assert isinstance(json.loads(raw), dict)


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


# -- /totals counts ------------------------------------------------------------------------

TOTALS_EVENTS = [
    Event(RECENT, "impressions", at(20, 10), 40),
    Event(RECENT, "impressions", at(26, 12, 10), 2),
    Event(RECENT, "favorites", at(20, 11)),
    Event(RECENT, "favorites", at(21, 11)),
    Event(RECENT, "favorites", at(26, 12, 29)),
    Event(RECENT, "favorites", at(25, 1), -1),
    Event(RECENT, "retweets", at(22, 5), 2),
    Event(RECENT, "quote_tweets", at(22, 6)),
    Event(RECENT, "replies", at(22, 7)),
    Event(RECENT, "replies", at(23, 7), -1),
    Event(RECENT, "url_clicks", at(22, 8), 4),
    Event(RECENT, "other_engagements", at(22, 9), 3),
    Event(RECENT, "media_clicks", at(22, 10), 2),
    Event(RECENT, "video_views", at(22, 11), 10),
    Event(RECENT, "media_views", at(22, 12), 9),
    Event(BOB_POST, "video_views", at(23, 1), 7),
    Event(BOB_POST, "favorites", at(23, 2), 5),
    Event(BOB_DELETED, "video_views", at(24, 3), 11),
    Event(PHOTO, "favorites", at(24, 4), -2),
    Event(PHOTO, "impressions", at(24, 5), 3),
    Event(BIG, "impressions", at(26, 1), 5),
    Event(BIG, "favorites", at(26, 2)),
]


def test_totals_counts_what_was_ingested(api: Api) -> None:
    api.send_events(TOTALS_EVENTS)
    data = api.read_ok(
        "totals",
        body(
            [BIG, RECENT, PHOTO, RECENT],
            list(TOTALS_METRICS),
            {
                "perTweet": {"group_by": ["tweet.id", "engagement.type"]},
                "Grand Totals": {"group_by": ["engagement.type"]},
                "byType": {"group_by": ["engagement.type", "tweet.id"]},
            },
        ),
    )
    recent = {
        # favorites 3 + retweets 2 + quote 1 + replies 1 + url 4 + other 3 + media 2;
        # undo events (-1 favorite, -1 reply) never lower engagements
        "engagements": "16",
        "favorites": "2",
        "impressions": "42",
        "quote_tweets": "1",
        "replies": "0",
        "retweets": "2",
        "video_views": "28",  # its own 10 + bob's 7 + bob's deleted Post's 11
    }
    photo = {  # -2 favorites clamp at 0 on /totals; undo is not an engagement
        "engagements": "0",
        "favorites": "0",
        "impressions": "3",
        "quote_tweets": "0",
        "replies": "0",
        "retweets": "0",
        "video_views": "0",
    }
    big = {
        "engagements": "1",
        "favorites": "1",
        "impressions": "5",
        "quote_tweets": "0",
        "replies": "0",
        "retweets": "0",
        "video_views": "0",
    }
    assert data == {
        "perTweet": {str(RECENT): recent, str(PHOTO): photo, str(BIG): big},
        "Grand Totals": {
            "engagements": "17",
            "favorites": "3",
            "impressions": "50",
            "quote_tweets": "1",
            "replies": "0",
            "retweets": "2",
            "video_views": "28",
        },
        "byType": {
            m: {str(RECENT): recent[m], str(PHOTO): photo[m], str(BIG): big[m]}
            for m in TOTALS_METRICS
        },
    }
    assert list(data) == ["perTweet", "Grand Totals", "byType"]
    assert list(data["perTweet"]) == [str(RECENT), str(PHOTO), str(BIG)]  # numeric order
    assert list(data["perTweet"][str(RECENT)]) == sorted(TOTALS_METRICS)

    # the independent model agrees with the hand-computed values
    counts = Counts(TOTALS_EVENTS)

    def lifetime(post: int, metric: str) -> list[int]:
        carriers = VIDEO_CARRIERS if post in VIDEO_CARRIERS else ()
        return [counts.totals_value(post, metric, carriers)]

    for name in ("perTweet", "Grand Totals", "byType"):
        group_by = {
            "perTweet": ["tweet.id", "engagement.type"],
            "Grand Totals": ["engagement.type"],
            "byType": ["engagement.type", "tweet.id"],
        }[name]
        expected = tree(group_by, [RECENT, PHOTO, BIG], TOTALS_METRICS, None, lifetime)
        assert data[name] == expected
        assert key_order(data[name]) == key_order(expected)


@pytest.mark.parametrize("auth", ["bearer", "app", "bob", "carol"])
def test_totals_public_metrics_of_any_post(api: Api, auth: str) -> None:
    """Public metrics of any available Post, under app-only and under another user's context;
    video views are those of the video, summed over every Post carrying it."""
    api.send_events(TOTALS_EVENTS)
    data = api.read_ok(
        "totals",
        body([RECENT, BOB_POST], ["video_views", "favorites", "retweets"]),
        auth=auth,
    )
    assert data == {
        "perTweet": {
            str(RECENT): {"favorites": "2", "retweets": "2", "video_views": "28"},
            str(BOB_POST): {"favorites": "5", "retweets": "0", "video_views": "28"},
        }
    }


def test_totals_are_visible_at_once_and_up_to_the_request(api: Api) -> None:
    """Events a few minutes ahead of the server clock are accepted and counted at once."""
    ask = body([RECENT], ["favorites"])
    assert api.read_ok("totals", ask)["perTweet"][str(RECENT)] == {"favorites": "0"}
    api.send_events([Event(RECENT, "favorites", NOW + timedelta(minutes=4), 3)])
    assert api.read_ok("totals", ask)["perTweet"][str(RECENT)] == {"favorites": "3"}


# -- /28hr ----------------------------------------------------------------------------------

HR28_EVENTS = [
    Event(RECENT, "favorites", at(25, 7, 59, 59)),  # just before the window
    Event(RECENT, "favorites", at(25, 8)),  # the first bucket
    Event(RECENT, "favorites", at(25, 23, 59, 59), 3),
    Event(RECENT, "favorites", at(26, 3), -1),
    Event(RECENT, "impressions", at(26, 12, 29, 59), 100),  # the current, partial hour
    Event(RECENT, "impressions", at(24, 12), 1000),
    Event(RECENT, "video_views", at(25, 9, 10), 5),
    Event(BOB_POST, "video_views", at(25, 9, 20), 7),  # same video, another Post
    Event(BOB_DELETED, "video_views", at(25, 10), 70),
    Event(RECENT, "media_clicks", at(26, 5), 2),
    Event(RECENT, "other_engagements", at(26, 6)),
    Event(PHOTO, "url_clicks", at(26, 0), 4),
    Event(PHOTO, "impressions", at(24, 12), 1),  # outside
    Event(PHOTO, "user_follows", at(25, 20)),
]
HR28_METRICS = [
    "video_views",
    "impressions",
    "favorites",
    "engagements",
    "media_clicks",
    "url_clicks",
    "user_follows",
]


def test_28hr_has_29_hourly_buckets_matching_the_events(api: Api) -> None:
    api.send_events(HR28_EVENTS)
    data = api.read_ok(
        "28hr",
        body(
            [PHOTO, RECENT],
            HR28_METRICS,
            {
                "hourly": {
                    "group_by": ["tweet.id", "engagement.type", "engagement.day", "engagement.hour"]
                },
                "totals": {"group_by": ["engagement.type"]},
            },
        ),
    )
    assert list(data) == ["start", "end", "hourly", "totals"]
    assert data["start"] == "2026-11-25T08:00:00Z"
    assert data["end"] == "2026-11-26T13:00:00Z"
    hours = hours_between(parse_z(data["start"]), parse_z(data["end"]))
    assert len(hours) == 29

    recent = data["hourly"][str(RECENT)]
    assert list(recent) == sorted(HR28_METRICS)
    assert list(recent["favorites"]) == ["2026-11-25", "2026-11-26"]
    assert list(recent["favorites"]["2026-11-25"]) == [f"{h:02d}" for h in range(8, 24)]
    assert list(recent["favorites"]["2026-11-26"]) == [f"{h:02d}" for h in range(13)]
    assert recent["favorites"]["2026-11-25"]["08"] == "1"
    assert recent["favorites"]["2026-11-25"]["23"] == "3"
    assert recent["favorites"]["2026-11-26"]["03"] == "-1"
    assert recent["engagements"]["2026-11-26"]["03"] == "0"
    assert recent["impressions"]["2026-11-26"]["12"] == "100"
    assert recent["video_views"]["2026-11-25"]["09"] == "5"  # not bob's 7 nor the deleted 70
    assert recent["media_clicks"]["2026-11-26"]["05"] == "2"
    assert recent["engagements"]["2026-11-26"]["06"] == "1"
    assert data["totals"] == {
        "engagements": "12",  # 1 + 3 favorites, 2 media clicks, 1 other, 4 url clicks, 1 follow
        "favorites": "3",
        "impressions": "100",
        "media_clicks": "2",
        "url_clicks": "4",
        "user_follows": "1",
        "video_views": "5",
    }

    counts = Counts(HR28_EVENTS)
    expected = tree(
        ["tweet.id", "engagement.type", "engagement.day", "engagement.hour"],
        [PHOTO, RECENT],
        HR28_METRICS,
        hours,
        counts.over(hours),
    )
    assert data["hourly"] == expected
    assert key_order(data["hourly"]) == key_order(expected)


def test_28hr_window_moves_with_the_clock(api: Api) -> None:
    api.send_events([Event(RECENT, "favorites", at(26, 12, 5), 2)])
    ask = body([RECENT], ["favorites"], {"g": {"group_by": ["engagement.type", "engagement.hour"]}})
    first = api.read_ok("28hr", ask)
    assert (first["start"], first["end"]) == ("2026-11-25T08:00:00Z", "2026-11-26T13:00:00Z")
    assert first["g"]["favorites"]["12"] == "2"
    api.clock.advance(timedelta(hours=28, minutes=30))  # 2026-11-27T17:00
    later = api.read_ok("28hr", ask)
    assert (later["start"], later["end"]) == ("2026-11-26T13:00:00Z", "2026-11-27T18:00:00Z")
    assert later["g"]["favorites"] == {f"{h:02d}": "0" for h in range(24)}


def test_28hr_partial_results(api: Api) -> None:
    """Unavailable Posts (even another user's) are listed, never a 403; video views of a Post
    over 1800 days are "0" and listed."""
    api.send_events(
        [
            Event(RECENT, "video_views", at(26, 1), 4),
            Event(ANCIENT, "video_views", at(26, 2), 6),
            Event(ANCIENT, "impressions", at(26, 2), 8),
        ]
    )
    data = api.read_ok(
        "28hr",
        body(
            [UNKNOWN, BOB_DELETED, ANCIENT, RECENT, DELETED],
            ["video_views", "impressions"],
            {"sum": {"group_by": ["tweet.id", "engagement.type"]}},
        ),
    )
    assert data == {
        "start": "2026-11-25T08:00:00Z",
        "end": "2026-11-26T13:00:00Z",
        "sum": {
            str(RECENT): {"impressions": "0", "video_views": "4"},
            str(ANCIENT): {"impressions": "8", "video_views": "0"},
        },
        "errors": ["3 Tweet ID(s) are unavailable", VIDEO_TOO_OLD],
        "unavailable_tweet_ids": [str(DELETED), str(BOB_DELETED), str(UNKNOWN)],
        "unsupported_for_video_views_tweet_ids": [str(ANCIENT)],
    }


# -- /historical ---------------------------------------------------------------------------

HISTORICAL_EVENTS = [
    Event(RECENT, "impressions", at(20, 2, 59, 59), 1000),  # before the window
    Event(RECENT, "impressions", at(20, 3), 10),
    Event(RECENT, "impressions", at(21, 3, 30), 20),
    Event(RECENT, "impressions", at(22, 3, 45), 40),
    Event(RECENT, "impressions", at(22, 10, 59, 59), 7),  # last hour of the window
    Event(RECENT, "impressions", at(22, 11), 2000),  # after the window
    Event(RECENT, "favorites", at(21, 0), 2),
    Event(RECENT, "favorites", at(21, 23, 10), -1),
    Event(RECENT, "detail_expands", at(21, 14), 6),
    Event(RECENT, "video_views", at(20, 18), 9),
    Event(BOB_POST, "video_views", at(20, 18), 90),
    Event(OLD, "impressions", at(21, 3), 5),
    Event(OLD, "hashtag_clicks", at(22, 0)),
    Event(OLD, "favorites", at(20, 22), -3),  # a window sum may be negative
    Event(OLD, "media_views", at(22, 1), 4),
]
HISTORICAL_METRICS = [
    "impressions",
    "engagements",
    "favorites",
    "detail_expands",
    "hashtag_clicks",
    "video_views",
    "media_views",
]


def test_historical_with_start_and_end(api: Api) -> None:
    api.send_events(HISTORICAL_EVENTS)
    groupings = {
        "daily": {"group_by": ["tweet.id", "engagement.type", "engagement.day"]},
        "hour of day": {"group_by": ["engagement.type", "engagement.hour"]},
        "total": {"group_by": ["Engagement.Type", "Tweet.id"]},
    }
    data = api.read_ok(
        "historical",
        body(
            [RECENT, OLD],
            HISTORICAL_METRICS,
            groupings,
            start="2026-11-20T03:15:00Z",
            end="2026-11-22T10:05:00+00:00",
        ),
    )
    assert data["start"] == "2026-11-20T03:00:00Z"
    assert data["end"] == "2026-11-22T11:00:00Z"
    hours = hours_between(parse_z(data["start"]), parse_z(data["end"]))
    counts = Counts(HISTORICAL_EVENTS)
    posts = [RECENT, OLD]
    for name, spec in groupings.items():
        expected = tree(spec["group_by"], posts, HISTORICAL_METRICS, hours, counts.over(hours))
        assert data[name] == expected, name
        assert key_order(data[name]) == key_order(expected), name

    # spot checks of the model's reading
    assert data["total"]["impressions"] == {str(RECENT): "77", str(OLD): "5"}
    assert data["total"]["favorites"] == {str(RECENT): "1", str(OLD): "-3"}
    assert data["total"]["engagements"] == {str(RECENT): "8", str(OLD): "1"}
    assert data["total"]["video_views"] == {str(RECENT): "9", str(OLD): "0"}
    assert data["hour of day"]["impressions"]["03"] == "75"  # 10 + 20 + 40 + OLD's 5
    assert data["hour of day"]["impressions"]["10"] == "7"
    assert list(data["hour of day"]["impressions"]) == [f"{h:02d}" for h in range(24)]
    assert data["daily"][str(RECENT)]["impressions"] == {
        "2026-11-20": "10",
        "2026-11-21": "20",
        "2026-11-22": "47",
    }


def test_historical_hour_of_day_in_a_short_window(api: Api) -> None:
    """Hour-of-day keys are only the hours that lie in the window, ascending as numbers."""
    events = [
        Event(RECENT, "favorites", at(21, 19, 59)),
        Event(RECENT, "favorites", at(21, 20), 2),
        Event(RECENT, "favorites", at(21, 23, 30), 3),
        Event(RECENT, "favorites", at(22, 1, 59), 4),
        Event(RECENT, "favorites", at(22, 2), 5),
    ]
    api.send_events(events)
    data = api.read_ok(
        "historical",
        body(
            [RECENT],
            ["favorites"],
            {
                "h": {"group_by": ["engagement.type", "engagement.hour"]},
                "hd": {"group_by": ["engagement.type", "engagement.hour", "engagement.day"]},
                "dh": {"group_by": ["engagement.type", "engagement.day", "engagement.hour"]},
            },
            start="2026-11-21T20:00:00Z",
            end="2026-11-22T02:00:00Z",
        ),
    )
    assert data["h"] == {
        "favorites": {"00": "0", "01": "4", "20": "2", "21": "0", "22": "0", "23": "3"}
    }
    assert list(data["h"]["favorites"]) == ["00", "01", "20", "21", "22", "23"]
    assert data["hd"]["favorites"]["01"] == {"2026-11-22": "4"}
    assert data["hd"]["favorites"]["23"] == {"2026-11-21": "3"}
    assert data["dh"] == {
        "favorites": {
            "2026-11-21": {"20": "2", "21": "0", "22": "0", "23": "3"},
            "2026-11-22": {"00": "0", "01": "4"},
        }
    }


@pytest.mark.parametrize(
    ("start", "end", "echo_start", "echo_end"),
    [
        (None, None, "2026-10-29T13:00:00Z", "2026-11-26T13:00:00Z"),
        ("2026-11-20", "2026-11-21", "2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z"),
        (
            "2026-11-20T05:15:00+02:00",
            "2026-11-20T12:00:01",
            "2026-11-20T03:00:00Z",
            "2026-11-20T13:00:00Z",
        ),
        ("2026-11-20T10:30", None, "2026-11-20T10:00:00Z", "2026-11-26T13:00:00Z"),
        ("2026-10-01", None, "2026-10-01T00:00:00Z", "2026-10-29T00:00:00Z"),
        (None, "2026-11-10T00:00:00Z", "2026-10-13T00:00:00Z", "2026-11-10T00:00:00Z"),
        ("2026-11-26T12:59:59.999Z", None, "2026-11-26T12:00:00Z", "2026-11-26T13:00:00Z"),
    ],
)
def test_historical_window_echo(
    api: Api, start: str | None, end: str | None, echo_start: str, echo_end: str
) -> None:
    extra: dict[str, Any] = {k: v for k, v in (("start", start), ("end", end)) if v}
    data = api.read_ok("historical", body([RECENT], ["favorites"], **extra))
    assert (data["start"], data["end"]) == (echo_start, echo_end)


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-11-20", "2026-11-20", 'start: "2026-11-20" must be before end: "2026-11-20"'),
        (
            "2026-10-01",
            "2026-11-10",
            'start: "2026-10-01" to end: "2026-11-10" is 960 hours; '
            "at most 672 hours (28 days) allowed",
        ),
        (
            None,
            "2026-11-26T13:00:01Z",
            'end: "2026-11-26T13:00:01Z" is in the future; the latest end allowed is '
            "2026-11-26T13:00:00Z",
        ),
        (
            "2025-11-01",
            "2025-11-02",
            'start: "2025-11-01" is more than 365 days ago; the earliest start allowed is '
            "2025-11-26T13:00:00Z",
        ),
        (
            "2014-08-31",
            "2014-09-02",
            'start: "2014-08-31" is before 2014-09-01T00:00:00Z, the earliest start allowed',
        ),
        (
            "tomorrow",
            None,
            'start: "tomorrow" must be a date or date-time such as 2026-10-01T12:00:00Z',
        ),
    ],
)
def test_historical_bad_windows(api: Api, start: str | None, end: str | None, message: str) -> None:
    extra: dict[str, Any] = {k: v for k, v in (("start", start), ("end", end)) if v}
    response = api.read("historical", body([RECENT], ["favorites"], **extra))
    assert response.status_code == 400
    assert errors_of(response) == [message]


def test_historical_lookback_is_an_operator_setting(make_api: Callable[..., Api]) -> None:
    api = make_api(historical_lookback_days=30)
    ok = api.read("historical", body(start="2026-10-28T00:00:00Z"))
    assert ok.status_code == 200
    response = api.read("historical", body(start="2026-10-26T00:00:00Z"))
    assert response.status_code == 400
    assert errors_of(response) == [
        'start: "2026-10-26T00:00:00Z" is more than 30 days ago; the earliest start allowed '
        "is 2026-10-27T13:00:00Z"
    ]


def test_historical_counts_by_when_it_happened_and_without_the_90_day_rule(api: Api) -> None:
    api.send_events(
        [
            Event(OLD, "impressions", at(25, 10), 10),
            Event(OLD, "favorites", at(25, 10), 2),
            Event(ANCIENT, "impressions", at(25, 11), 4),
            Event(ANCIENT, "video_views", at(25, 11), 6),
        ]
    )
    data = api.read_ok(
        "historical",
        body([OLD, ANCIENT, DELETED], ["impressions", "engagements", "video_views"]),
    )
    assert data == {
        "start": "2026-10-29T13:00:00Z",
        "end": "2026-11-26T13:00:00Z",
        "perTweet": {
            str(OLD): {"engagements": "2", "impressions": "10", "video_views": "0"},
            str(ANCIENT): {"engagements": "0", "impressions": "4", "video_views": "0"},
        },
        "errors": ["1 Tweet ID(s) are unavailable", VIDEO_TOO_OLD],
        "unavailable_tweet_ids": [str(DELETED)],
        "unsupported_for_video_views_tweet_ids": [str(ANCIENT)],
    }


# -- partial results on /totals -----------------------------------------------------------


def test_totals_partial_results(api: Api) -> None:
    api.send_events(
        [
            Event(OLD, "impressions", at(26, 10), 10),
            Event(OLD, "favorites", at(26, 10), 2),
            Event(ANCIENT, "video_views", at(26, 11), 6),
            Event(ANCIENT, "impressions", at(26, 11), 4),
            Event(ANCIENT, "favorites", at(26, 11)),
            Event(RECENT, "impressions", at(26, 11), 3),
            Event(DELETED, "favorites", at(26, 11), 50),
        ]
    )
    data = api.read_ok(
        "totals",
        body(
            [UNKNOWN, PROTECTED, DELETED, OLD, ANCIENT, RECENT],
            ["impressions", "engagements", "favorites", "video_views"],
        ),
    )
    zero = {"engagements": "0", "favorites": "0", "impressions": "0", "video_views": "0"}
    assert data == {
        "perTweet": {
            str(RECENT): {**zero, "impressions": "3"},
            str(OLD): {**zero, "favorites": "2"},
            str(ANCIENT): {**zero, "favorites": "1"},
        },
        "errors": ["3 Tweet ID(s) are unavailable", IMPRESSIONS_TOO_OLD, VIDEO_TOO_OLD],
        "unavailable_tweet_ids": [str(DELETED), str(PROTECTED), str(UNKNOWN)],
        "unsupported_for_impressions_engagements_tweet_ids": [str(OLD), str(ANCIENT)],
        "unsupported_for_video_views_tweet_ids": [str(ANCIENT)],
    }
    assert list(data) == [
        "perTweet",
        "errors",
        "unavailable_tweet_ids",
        "unsupported_for_impressions_engagements_tweet_ids",
        "unsupported_for_video_views_tweet_ids",
    ]


def test_totals_age_limits_are_listed_only_when_the_metric_is_asked(api: Api) -> None:
    data = api.read_ok("totals", body([OLD, ANCIENT], ["favorites"]), auth="bearer")
    assert data == {"perTweet": {str(OLD): {"favorites": "0"}, str(ANCIENT): {"favorites": "0"}}}


def test_totals_90_day_limit_follows_the_clock(api: Api) -> None:
    """At most 90 days old counts; the same Post a second later does not."""
    post = 1_200_000_000_000_000_001
    api.load(
        "tweets",
        [{"id": str(post), "author_id": str(ALICE), "created_at": iso(NOW - timedelta(days=89))}],
    )
    api.send_events([Event(post, "impressions", NOW - timedelta(days=1), 5)])
    ask = body([post], ["impressions"])
    assert api.read_ok("totals", ask) == {"perTweet": {str(post): {"impressions": "5"}}}
    api.clock.advance(timedelta(days=1))  # exactly 90 days old
    assert api.read_ok("totals", ask) == {"perTweet": {str(post): {"impressions": "5"}}}
    api.clock.advance(timedelta(seconds=1))
    assert api.read_ok("totals", ask) == {
        "perTweet": {str(post): {"impressions": "0"}},
        "errors": [IMPRESSIONS_TOO_OLD],
        "unsupported_for_impressions_engagements_tweet_ids": [str(post)],
    }


def test_request_leniency_over_http(api: Api) -> None:
    """Integer IDs, whitespace, leading zeros and duplicates; the alias is echoed as asked."""
    api.send_events([Event(BIG, "favorites", at(26, 1), 2), Event(RECENT, "favorites", at(26, 1))])
    raw = (
        b'{"tweet_ids": [18446744073709551615, " 0'
        + str(RECENT).encode()
        + b'\\n", "'
        + str(RECENT).encode()
        + b'"], "engagement_types": ["favorites", "favorites"], '
        b'"groupings": {"g": {"group_by": ["Tweet.id", "engagement.type"]}}, "ignored": 1}'
    )
    response = api.read("totals", raw)
    assert response.status_code == 200, response.text
    assert response.json() == {"g": {str(RECENT): {"favorites": "1"}, str(BIG): {"favorites": "2"}}}


# -- a property: exactly once, and every grouping shape sums to the same totals -----------

SHAPES = (
    [["engagement.type"]]
    + [
        list(p)
        for other in ("tweet.id", "engagement.day", "engagement.hour")
        for p in itertools.permutations(["engagement.type", other])
    ]
    + [
        list(p)
        for pair in itertools.combinations(["tweet.id", "engagement.day", "engagement.hour"], 2)
        for p in itertools.permutations(["engagement.type", *pair])
    ]
)
FOUR_LEVELS = [
    ["tweet.id", "engagement.type", "engagement.day", "engagement.hour"],
    ["engagement.type", "tweet.id", "engagement.day", "engagement.hour"],
]


def _requests_for_every_shape() -> list[dict[str, dict[str, list[str]]]]:
    """Every valid grouping shape, at most three per request, each 4-level one alone."""
    chunks = [SHAPES[i : i + 3] for i in range(0, len(SHAPES), 3)] + [[s] for s in FOUR_LEVELS]
    return [{"/".join(s): {"group_by": s} for s in chunk} for chunk in chunks]


GROUPING_REQUESTS = _requests_for_every_shape()


def _leaf_sums(
    node: object, group_by: list[str], depth: int = 0, metric: str | None = None
) -> dict[str, int]:
    """Per-metric sums of a grouping tree's leaves."""
    if depth == len(group_by):
        assert isinstance(node, str) and metric is not None
        return {metric: int(node)}
    assert isinstance(node, dict)
    sums: dict[str, int] = {}
    for key, child in node.items():
        here = key if group_by[depth] == "engagement.type" else metric
        for m, v in _leaf_sums(child, group_by, depth + 1, here).items():
            sums[m] = sums.get(m, 0) + v
    return sums


_post_ids = itertools.count(1_300_000_000_000_000_000)

EVENT_TYPES = sorted(
    {*WINDOWED_METRICS, *INTERACTIONS, "quote_tweets", "media_clicks"} - {"engagements"}
)


@st.composite
def event_batches(draw: st.DrawFn) -> tuple[list[tuple[int, str, int, int]], int, int]:
    """(post index, type, seconds before NOW, count) rows, and a window (hours back, length)."""
    row = st.tuples(
        st.integers(0, 1),
        st.sampled_from(EVENT_TYPES),
        st.integers(-240, 28 * 24 * 3600 + 7200),
        st.integers(1, 5),
        st.booleans(),
    )
    rows = []
    for post, kind, back, count, undo in draw(st.lists(row, min_size=1, max_size=40)):
        rows.append((post, kind, back, -count if undo and kind in UNDOABLE else count))
    span = draw(st.integers(1, 240))  # up to 10 days: several days and every hour of day
    back = draw(st.integers(span - 1, 671))
    return rows, back, span


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(drawn=event_batches())
def test_exactly_once_and_every_grouping_sums_to_the_totals(
    api: Api, drawn: tuple[list[tuple[int, str, int, int]], int, int]
) -> None:
    rows, back, span = drawn
    posts = [next(_post_ids), next(_post_ids)]
    api.load(
        "tweets",
        [
            {
                "id": str(p),
                "author_id": str(ALICE),
                "created_at": iso(NOW - timedelta(days=40)),
                "media": [{"media_key": f"7_{p}", "type": "video"}],
            }
            for p in posts
        ],
    )
    events = [
        Event(posts[i], kind, NOW - timedelta(seconds=s), count) for i, kind, s, count in rows
    ]
    key = f"prop-{uuid.uuid4().hex}"
    first = api.send_events(events, key)
    assert first == {"accepted": len(events), "duplicate": False}
    again = api.send_events(events, key)
    assert again == {"accepted": len(events), "duplicate": True}

    counts = Counts(events)
    totals = api.read_ok("totals", body(posts, TOTALS_METRICS))
    assert totals["perTweet"] == {
        str(p): {m: str(counts.totals_value(p, m)) for m in TOTALS_METRICS} for p in posts
    }

    end = floor_hour(NOW) + timedelta(hours=1) - timedelta(hours=back - span + 1)
    start = end - timedelta(hours=span)
    hours = hours_between(start, end)
    series = {(p, m): counts.series(p, m, hours) for p in posts for m in WINDOWED_METRICS}
    expected_sums = {m: sum(sum(series[(p, m)]) for p in posts) for m in WINDOWED_METRICS}
    for groupings in GROUPING_REQUESTS:
        data = api.read_ok(
            "historical",
            body(posts, WINDOWED_METRICS, groupings, start=iso(start), end=iso(end)),
        )
        assert (data["start"], data["end"]) == (iso(start), iso(end))
        for name, spec in groupings.items():
            assert _leaf_sums(data[name], spec["group_by"]) == expected_sums, name
            assert data[name] == tree(
                spec["group_by"], posts, WINDOWED_METRICS, hours, lambda p, m: series[(p, m)]
            ), name


def test_grouping_requests_cover_every_shape() -> None:
    seen = [spec["group_by"] for r in GROUPING_REQUESTS for spec in r.values()]
    assert sorted(map(tuple, seen)) == sorted(map(tuple, SHAPES + FOUR_LEVELS))
    assert all(1 <= len(r) <= 3 for r in GROUPING_REQUESTS)
    assert all(sum(len(s["group_by"]) == 4 for s in r.values()) <= 1 for r in GROUPING_REQUESTS)


# -- misc ------------------------------------------------------------------------------------


def test_video_views_only_on_posts_with_video_at_ingest(api: Api) -> None:
    response = api.ingest(
        "events", [Event(GIF, "video_views", at(26, 1)).record()], key="gif-views"
    )
    assert response.status_code == 400
    assert response.json() == {
        "errors": ['line 1: type "video_views": the Post has no video media']
    }
    api.send_events([Event(GIF, "media_views", at(26, 1), 3)])
    data = api.read_ok(
        "historical", body([GIF], ["media_views", "video_views"], start="2026-11-26T00:00Z")
    )
    assert data["perTweet"] == {str(GIF): {"media_views": "3", "video_views": "0"}}


def test_deleted_after_ingest_becomes_unavailable_but_keeps_its_counts(api: Api) -> None:
    api.send_events(
        [Event(PHOTO, "favorites", at(26, 1), 2), Event(RECENT, "favorites", at(26, 1))]
    )
    ask = body([PHOTO, RECENT], ["favorites"])
    assert api.read_ok("totals", ask)["perTweet"] == {
        str(RECENT): {"favorites": "1"},
        str(PHOTO): {"favorites": "2"},
    }
    api.load(
        "tweets",
        [
            {
                "id": str(PHOTO),
                "author_id": str(ALICE),
                "created_at": iso(NOW - timedelta(days=3)),
                "deleted": True,
            }
        ],
    )
    assert api.read_ok("totals", ask) == {
        "perTweet": {str(RECENT): {"favorites": "1"}},
        "errors": ["1 Tweet ID(s) are unavailable"],
        "unavailable_tweet_ids": [str(PHOTO)],
    }
    api.load(
        "tweets",
        [
            {
                "id": str(PHOTO),
                "author_id": str(ALICE),
                "created_at": iso(NOW - timedelta(days=3)),
                "deleted": False,
            }
        ],
    )
    assert api.read_ok("totals", ask)["perTweet"][str(PHOTO)] == {"favorites": "2"}
