"""The read endpoints over real HTTP: 404 and 405 before anything else, and gzip on every
response that asks for it, errors included (spec engagement-api.md §1, §7)."""

from __future__ import annotations

import json

import pytest

from tests.api.reads import (
    oversized,
)
from tests.support import SINGLE_DATABASE, backends
from tests.support.harness import (
    PREFIX,
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
        ("GET", "/nothing-here", 404, "No such path: /nothing-here"),  # (/ is the dashboard's)
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
