"""The dashboard over real HTTP, on every backend: sessions and their cookies, CSRF, one-time
links, who may see what, the errors of pages and of CSV exports, the operator's pages.
(What a browser shows is tested in tests/dashboard/.)"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Callable, Iterator
from datetime import timedelta

import httpx
import pytest

from engagement_api.api.logging import ACCESS_LOGGER
from engagement_api.service import credentials
from engagement_api.service.dashboard import TOTALS_METRICS
from tests.api.test_observability import access_lines_when
from tests.support.harness import (
    ALICE,
    BOB,
    BOB_POST,
    DELETED,
    OLD,
    PHOTO,
    RECENT,
    Api,
)
from tests.support.model import Event

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    return make_api(session_lifetime=3600, dashboard_link_ttl=600)


@pytest.fixture
def browser(api: Api) -> Iterator[httpx.Client]:
    """A client that keeps cookies, as a browser does (a fresh one per test)."""
    with httpx.Client(base_url=api.base_url, follow_redirects=False, timeout=30) as client:
        yield client


def _token(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found is not None, page.text
    return found[1]


def sign_in(client: httpx.Client, admin_key: str) -> httpx.Response:
    form = client.get("/dashboard/sign-in")
    return client.post("/dashboard/sign-in", data={"csrf": _token(form), "admin_key": admin_key})


@pytest.fixture
def operator(api: Api, browser: httpx.Client) -> httpx.Client:
    assert sign_in(browser, credentials.create_admin_key(api.store, api.clock)).status_code == 303
    return browser


def _owner(api: Api, client: httpx.Client, user_id: int = ALICE) -> httpx.Response:
    issued = credentials.create_dashboard_link(
        api.store, api.clock, user_id, api.base_url, api.settings.dashboard_link_ttl
    )
    path = issued.url.removeprefix(api.base_url)
    return client.post(path, data={"csrf": _token(client.get(path))})


@pytest.fixture
def owner(api: Api, browser: httpx.Client) -> httpx.Client:
    assert _owner(api, browser).status_code == 303
    return browser


def test_root_and_pages_lead_to_sign_in(browser: httpx.Client) -> None:
    root = browser.get("/")
    assert (root.status_code, root.headers["location"]) == (307, "/dashboard")
    page = browser.get("/dashboard/posts/1?start=2026-11-01")
    assert page.status_code == 303
    assert page.headers["location"] == (
        "/dashboard/sign-in?next=%2Fdashboard%2Fposts%2F1%3Fstart%3D2026-11-01"
    )
    assert browser.post("/dashboard/sign-out", data={"csrf": "x"}).status_code == 403
    favicon = browser.get("/favicon.ico")
    assert (favicon.status_code, favicon.headers["content-type"]) == (200, "image/x-icon")
    assert favicon.content.startswith(b"\x00\x00\x01\x00")  # an ICO file
    css = browser.get("/dashboard/static/style.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]


def test_signing_in_needs_the_forms_token_and_a_valid_key(api: Api, browser: httpx.Client) -> None:
    key = credentials.create_admin_key(api.store, api.clock)
    form = browser.get("/dashboard/sign-in")
    assert form.status_code == 200
    assert "default-src 'self'" in form.headers["content-security-policy"]
    assert form.headers["cache-control"] == "no-store"
    token = _token(form)
    refused = browser.post("/dashboard/sign-in", data={"admin_key": key})
    assert refused.status_code == 403 and "CSRF token" in refused.text
    forged = browser.post("/dashboard/sign-in", data={"admin_key": key, "csrf": token + "0"})
    assert forged.status_code == 403
    wrong = browser.post("/dashboard/sign-in", data={"admin_key": "x" * 48, "csrf": token})
    assert wrong.status_code == 401 and "not valid" in wrong.text
    too_long = browser.post("/dashboard/sign-in", data={"admin_key": "x" * 500, "csrf": token})
    assert too_long.status_code == 401
    ok = browser.post("/dashboard/sign-in", data={"admin_key": key, "csrf": token})
    assert (ok.status_code, ok.headers["location"]) == (303, "/dashboard")
    cookie = next(c for c in ok.headers.get_list("set-cookie") if c.startswith("ea_session="))
    for attribute in ("HttpOnly", "SameSite=lax", "Path=/", "Max-Age=3600"):
        assert attribute in cookie
    assert key not in cookie and "Secure" not in cookie  # (http://: no Secure flag)
    assert browser.get("/dashboard").status_code == 200
    again = browser.get("/dashboard/sign-in?next=/dashboard/usage")
    assert (again.status_code, again.headers["location"]) == (303, "/dashboard/usage")


NEXT = [  # where a sign-in was asked to go, where it goes
    ("/dashboard/ingest", "/dashboard/ingest"),
    ("//elsewhere.example/dashboard", "/dashboard"),
    ("https://elsewhere.example/", "/dashboard"),
    ("/dashboard\\..\\x", "/dashboard"),
]


def test_after_sign_in_only_our_own_pages(api: Api, browser: httpx.Client) -> None:
    key = credentials.create_admin_key(api.store, api.clock)
    landed = []
    for target, _ in NEXT:
        browser.cookies.clear()  # (signed in, the sign-in page would send us on at once)
        form = browser.get("/dashboard/sign-in")
        answer = browser.post(
            "/dashboard/sign-in", data={"admin_key": key, "csrf": _token(form), "next": target}
        )
        landed.append(answer.headers["location"])
    assert landed == [lands for _, lands in NEXT]


def test_a_session_ends_server_side(api: Api, operator: httpx.Client) -> None:
    cookie = operator.cookies["ea_session"]
    session_id = cookie.partition(".")[0]
    tampered = httpx.Client(
        base_url=api.base_url, cookies={"ea_session": f"{session_id}.{'0' * 64}"}
    )
    with tampered:
        assert tampered.get("/dashboard", follow_redirects=False).status_code == 303
    page = operator.get("/dashboard")
    signed_out = operator.post("/dashboard/sign-out", data={"csrf": _token(page)})
    assert (signed_out.status_code, signed_out.headers["location"]) == (303, "/dashboard/sign-in")
    replayed = httpx.Client(base_url=api.base_url, cookies={"ea_session": cookie})
    with replayed:  # the old cookie, kept by someone: its session is gone
        assert replayed.get("/dashboard", follow_redirects=False).status_code == 303


def test_a_session_expires_after_its_lifetime(api: Api, operator: httpx.Client) -> None:
    api.clock.advance(timedelta(seconds=3599))
    assert operator.get("/dashboard").status_code == 200
    api.clock.advance(timedelta(seconds=1))
    assert operator.get("/dashboard").status_code == 303


def test_a_one_time_link_is_spent_once_and_expires(
    api: Api, browser: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    issued = credentials.create_dashboard_link(api.store, api.clock, ALICE, api.base_url, 600)
    path = issued.url.removeprefix(api.base_url)
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        page = browser.get(path)
        logged = access_lines_when(caplog, 1)  # (written once the answer is sent)
    assert [(line["route"], line["path"]) for line in logged] == [
        ("/dashboard/link/{token}", "/dashboard/link/{token}")
    ]
    assert path.rsplit("/", 1)[1] not in caplog.text  # the token is never logged
    assert page.status_code == 200 and page.headers["referrer-policy"] == "no-referrer"
    assert browser.post(path, data={"csrf": "forged"}).status_code == 403
    used = browser.post(path, data={"csrf": _token(page)})
    assert (used.status_code, used.headers["location"]) == (303, "/dashboard")
    assert "Top Posts of @alice" in browser.get("/dashboard").text
    again = browser.post(path, data={"csrf": _token(browser.get(path))})
    assert again.status_code == 403 and "used already or has expired" in again.text
    later = credentials.create_dashboard_link(api.store, api.clock, BOB, api.base_url, 600)
    api.clock.advance(timedelta(seconds=600))
    late_path = later.url.removeprefix(api.base_url)
    late = browser.post(late_path, data={"csrf": _token(browser.get(late_path))})
    assert late.status_code == 403
    assert browser.post("/dashboard/link/" + "x" * 300, data={"csrf": "x"}).status_code == 403


def test_an_owner_sees_only_their_own_posts(owner: httpx.Client) -> None:
    assert owner.get(f"/dashboard/posts/{RECENT}").status_code == 200
    for path in (f"/dashboard/posts/{BOB_POST}", "/dashboard/posts/12345", "/dashboard/posts/x"):
        page = owner.get(path)
        assert page.status_code == 404 and "No such Post" in page.text
    exported = owner.get(f"/dashboard/posts/{BOB_POST}.csv")
    assert (exported.status_code, exported.json()) == (404, {"errors": ["No such Post"]})
    for path in (
        "/dashboard/users",
        f"/dashboard/users/{ALICE}",
        "/dashboard/ingest",
        "/dashboard/usage",
        "/dashboard/usage.csv",
        "/dashboard/ingest.csv",
    ):
        assert owner.get(path).status_code == 403, path
    token = _token(owner.get("/dashboard"))
    assert owner.post(f"/dashboard/users/{ALICE}/link", data={"csrf": token}).status_code == 403
    mine = owner.get(f"/dashboard?user={BOB}")  # an owner's overview is always their own
    assert "Top Posts of @alice" in mine.text


OVERVIEW_ERRORS = [  # query, status, message
    ("user=nobody", 404, "No such user: nobody"),
    ("user=%40", 404, "No such user: @"),
    ("user=99999", 404, "No such user: 99999"),
    ("user=alice&metric=nope", 400, "metric: must be one of"),
    (
        "user=alice&start=2026-13-01",
        400,
        "start: must be a date YYYY-MM-DD (UTC), not '2026-13-01'",
    ),
    ("user=alice&end=26-11-01", 400, "end: must be a date YYYY-MM-DD (UTC), not '26-11-01'"),
    ("user=alice&start=2026-11-02&end=2026-11-01", 400, "must be before end: 2026-11-01"),
]


def test_the_overviews_errors_are_pages_and_its_csvs_the_contracts_body(
    operator: httpx.Client,
) -> None:
    for query, status, message in OVERVIEW_ERRORS:
        page = operator.get(f"/dashboard?{query}")
        assert page.status_code == status and message.replace("'", "&#39;") in page.text
        exported = operator.get(f"/dashboard.csv?{query}")
        assert exported.status_code == status
        assert any(message in m for m in exported.json()["errors"]), query


def test_a_posts_range_is_at_most_a_year_and_within_the_lookback(
    api: Api, operator: httpx.Client
) -> None:
    long = operator.get(f"/dashboard/posts/{RECENT}.csv?start=2025-01-01&end=2026-01-03")
    assert long.status_code == 400
    assert long.json() == {
        "errors": ["start: 2025-01-01 to end: 2026-01-03 is 367 days; at most 365 allowed"]
    }
    early = operator.get(f"/dashboard/posts/{RECENT}.csv?start=2025-11-01&end=2025-11-20")
    assert early.status_code == 400  # the API's own lookback rule
    assert "more than 365 days ago" in early.json()["errors"][0]
    assert operator.get("/dashboard.csv?start=2026-11-01").json() == {
        "errors": ["user: required (an ID or a handle)"]
    }


def test_a_deleted_post_has_a_page_but_no_counts(operator: httpx.Client) -> None:
    page = operator.get(f"/dashboard/posts/{DELETED}")
    assert page.status_code == 200 and "deleted or protected" in page.text
    exported = operator.get(f"/dashboard/posts/{DELETED}.csv")
    assert exported.json() == {"errors": ["Tweet ID(s) are unavailable"]}


def test_the_overview_csv_has_the_apis_lifetime_counts(api: Api, operator: httpx.Client) -> None:
    api.send_events(
        [
            Event(RECENT, "favorites", api.clock.now() - timedelta(hours=3), 5),
            Event(RECENT, "impressions", api.clock.now() - timedelta(hours=3), 20),
            Event(PHOTO, "retweets", api.clock.now() - timedelta(hours=2), 2),
        ]
    )
    exported = operator.get(
        "/dashboard.csv?user=alice&start=2026-08-01&end=2026-11-27&metric=impressions"
    )
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    answer = api.read_ok(
        "totals",
        {
            "tweet_ids": [r["post_id"] for r in rows],
            "engagement_types": list(TOTALS_METRICS),
            "groupings": {"p": {"group_by": ["tweet.id", "engagement.type"]}},
        },
    )
    assert rows[0]["post_id"] == str(RECENT)  # ranked by impressions
    for row in rows:
        counts = answer["p"][row["post_id"]]
        for metric in ("favorites", "retweets", "video_views"):
            assert row[metric] == counts[metric]
        if int(row["post_id"]) == OLD:
            assert row["impressions"] == row["engagements"] == row["engagement_rate"] == ""
        else:
            assert row["impressions"] == counts["impressions"]
    assert rows[0]["engagement_rate"] == "0.250000"  # 5 / 20


def test_the_operators_pages_and_exports(api: Api, operator: httpx.Client) -> None:
    api.load("users", [{"id": str(5000 + i), "handle": f"user{i:03d}"} for i in range(55)])
    first = operator.get("/dashboard/users")
    assert first.status_code == 200 and "Next users" in first.text
    following = re.search(r'href="(/dashboard/users\?after=[^"]+)"', first.text)
    assert following is not None
    second = operator.get(following[1].replace("&amp;", "&"))
    assert "Next users" not in second.text and "@user054" in second.text
    assert operator.get("/dashboard/users/999").status_code == 404
    assert operator.get("/dashboard/users/x").status_code == 404
    user = operator.get(f"/dashboard/users/{ALICE}")
    link = operator.post(f"/dashboard/users/{ALICE}/link", data={"csrf": _token(user)})
    made = re.search(r'class="secret">([^<]+)<', link.text)
    # (on ENGAGEMENT_API_PUBLIC_URL, here its default)
    assert made is not None and made[1].startswith("http://127.0.0.1:8000/dashboard/link/")
    assert operator.get("/dashboard/ingest?minutes=0").status_code == 400
    assert operator.get("/dashboard/ingest.csv?minutes=abc").json() == {
        "errors": ["minutes: must be a whole number from 1 to 1440, not 'abc'"]
    }
    api.send_events([Event(RECENT, "favorites", api.clock.now() - timedelta(hours=1))], key="one")
    minutes = list(
        csv.DictReader(io.StringIO(operator.get("/dashboard/ingest.csv?minutes=5").text))
    )
    assert [m["batches"] for m in minutes] == ["0", "0", "0", "0", "1"]
    assert minutes[-1]["events"] == "1"
    assert "one" in operator.get("/dashboard/ingest").text
    usage = list(csv.DictReader(io.StringIO(operator.get("/dashboard/usage.csv").text)))
    assert {(u["app"], u["month"]) for u in usage} >= {("engagement app", "2026-11")}
    assert "engagement app" in operator.get("/dashboard/usage").text


def test_a_form_too_large_is_refused(browser: httpx.Client) -> None:
    big = b"a=" + b"x" * 20_000
    for path in ("/dashboard/sign-in", "/dashboard/sign-out", "/dashboard/link/abc"):
        answer = browser.post(path, content=big)
        assert answer.status_code == 413 and "Form too large" in answer.text, path
    answer = browser.post("/dashboard/sign-in", content=b"\xff\xfe=1")
    assert answer.status_code == 400


def test_signing_in_again_ends_the_session_before(api: Api, operator: httpx.Client) -> None:
    before = operator.cookies["ea_session"]
    assert _owner(api, operator).status_code == 303  # the operator's browser takes a link
    assert "Top Posts of @alice" in operator.get("/dashboard").text
    with httpx.Client(base_url=api.base_url, cookies={"ea_session": before}) as old:
        assert old.get("/dashboard", follow_redirects=False).status_code == 303


def test_revoking_an_admin_key_ends_its_sessions(api: Api, browser: httpx.Client) -> None:
    key = credentials.create_admin_key(api.store, api.clock)
    assert sign_in(browser, key).status_code == 303
    assert browser.get("/dashboard/usage").status_code == 200
    credentials.revoke_admin_key(api.store, key)
    assert browser.get("/dashboard/usage").status_code == 303
    assert sign_in(browser, key).status_code == 401
    with pytest.raises(credentials.AdminError):
        credentials.revoke_admin_key(api.store, key)
