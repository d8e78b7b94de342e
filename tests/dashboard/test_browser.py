"""The dashboard in real headless Chromium: sign-in and out, the one-time link, the overview, a
Post's charts, CSV downloads equal to the API's answers, an owner kept to their own Posts, a
forged CSRF token, the operator's pages, a phone's width. Every page: no console error, no
serious or critical axe-core violation, a screenshot (tests/support/browser.py: SCREENSHOTS).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from engagement_api.client import EngagementClient
from engagement_api.client.auth import OAuth1User
from engagement_api.contract.times import ceil_hour
from engagement_api.service import credentials
from engagement_api.service.dashboard import WINDOWED_METRICS
from tests.dashboard.conftest import Dashboard, Pages
from tests.support import NOW
from tests.support.harness import (
    ALICE,
    ANCIENT,
    BIG,
    BOB_POST,
    GIF,
    OLD,
    PHOTO,
    PREFIX,
    RECENT,
    UNKNOWN,
)

pytestmark = [pytest.mark.xdist_group("browser"), pytest.mark.slow]

ALICE_IN_RANGE = (RECENT, PHOTO, OLD, GIF, BIG)  # created 2026-08-01..2026-11-27, available


def _client(dashboard: Dashboard) -> EngagementClient:
    api = dashboard.api
    _, token, secret = api.tokens["alice"]
    wall = lambda: api.clock.now().timestamp()  # noqa: E731
    auth = OAuth1User(api.app.consumer_key, api.app.consumer_secret, token, secret, clock=wall)
    return EngagementClient(api.base_url + PREFIX, auth=auth, wall_clock=wall)


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def test_an_operator_signs_in_by_keyboard_and_out(pages: Pages, dashboard: Dashboard) -> None:
    watched = pages.open()
    page = watched.page
    page.goto("/")
    assert page.url.endswith("/dashboard/sign-in?next=%2Fdashboard")
    pages.check(watched, "sign-in")
    page.keyboard.type("not-the-key")  # the key field has the focus
    page.keyboard.press("Enter")
    watched.expect(401)
    assert "That admin key is not valid" in page.locator("[role=alert]").inner_text()
    page.get_by_label("Admin key").fill(dashboard.admin_key)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/dashboard$"))
    assert "Operator" in page.locator("header").inner_text()
    pages.check(watched, "overview-pick-a-user")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/dashboard/sign-in$"))
    page.goto("/dashboard/usage")
    assert "/dashboard/sign-in?next=" in page.url  # the session ended server-side too


def test_a_one_time_link_signs_an_owner_in_once(pages: Pages, dashboard: Dashboard) -> None:
    url = dashboard.link(ALICE)
    assert url.startswith(dashboard.base_url + "/dashboard/link/")
    first = pages.open()
    first.page.goto(url)
    pages.check(first, "link")
    first.page.get_by_role("button", name="Sign in").click()
    first.page.wait_for_url(re.compile(r"/dashboard$"))
    assert first.page.get_by_role("heading", level=1).inner_text() == "Top Posts of @alice"
    again = pages.open()
    again.page.goto(url)
    again.page.get_by_role("button", name="Sign in").click()
    again.expect(403)
    assert "used already or has expired" in again.page.locator("[role=alert]").inner_text()
    assert "/dashboard/link/" in again.page.url  # not signed in: no redirect to the overview


def test_the_overview_ranks_posts_with_the_apis_numbers(pages: Pages, dashboard: Dashboard) -> None:
    watched = pages.signed_in_operator()
    page = watched.page
    page.get_by_label("User (ID or handle)").fill("alice")
    page.get_by_label("Created from (UTC)").fill("2026-08-01")
    page.get_by_label("to, not including").fill("2026-11-27")
    page.get_by_label("Ranked by").select_option("favorites")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"metric=favorites"))
    pages.check(watched, "overview")
    cells = page.locator("tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.cells].map(c => c.innerText))"
    )
    answer = dashboard.api.read_ok(
        "totals",
        {
            "tweet_ids": [str(p) for p in ALICE_IN_RANGE],
            "engagement_types": ["favorites", "impressions"],
            "groupings": {"p": {"group_by": ["tweet.id", "engagement.type"]}},
        },
    )
    favorites = {int(pid): int(m["favorites"]) for pid, m in answer["p"].items()}
    expected = sorted(ALICE_IN_RANGE, key=lambda p: (-favorites[p], p))
    assert [int(row[0]) for row in cells] == expected
    assert [int(row[5].replace(",", "")) for row in cells] == [favorites[p] for p in expected]
    old = next(row for row in cells if int(row[0]) == OLD)
    assert old[2] == old[3] == old[4] == "\u2014"  # over 90 days: no impressions/engagements
    assert str(OLD) in answer["unsupported_for_impressions_engagements_tweet_ids"]
    with page.expect_download() as download:
        page.get_by_role("link", name="Download this table as CSV").click()
    rows = _csv_rows(Path(download.value.path()))
    assert list(rows[0]) == [
        "post_id",
        "created_at",
        "impressions",
        "engagements",
        "engagement_rate",
        "favorites",
        "retweets",
        "quote_tweets",
        "replies",
        "video_views",
    ]
    assert [int(r["post_id"]) for r in rows] == expected
    assert {int(r["post_id"]): int(r["favorites"]) for r in rows} == favorites
    recent = next(r for r in rows if int(r["post_id"]) == RECENT)
    impressions = int(answer["p"][str(RECENT)]["impressions"])
    assert int(recent["impressions"]) == impressions
    assert float(recent["engagement_rate"]) == pytest.approx(
        int(recent["engagements"]) / impressions, abs=1e-6
    )


def test_a_posts_page_shows_its_charts_totals_and_age_limits(
    pages: Pages, dashboard: Dashboard
) -> None:
    watched = pages.signed_in_owner(ALICE)
    page = watched.page
    page.goto(f"/dashboard/posts/{RECENT}")
    pages.check(watched, "post")
    assert page.locator("svg.chart").count() == 4  # 28 hours and days: impressions, by type
    hours = dashboard.api.read_ok(
        "28hr",
        {
            "tweet_ids": [str(RECENT)],
            "engagement_types": [
                "favorites",
                "retweets",
                "replies",
                "url_clicks",
                "detail_expands",
                "user_profile_clicks",
            ],
            "groupings": {"t": {"group_by": ["engagement.type"]}},
        },
    )["t"]
    top = sorted((n for n in hours if int(hours[n])), key=lambda n: (-int(hours[n]), n))[:5]
    legend = page.locator("svg.chart").nth(1).locator("text").all_text_contents()[-len(top) :]
    assert legend == top  # the largest engagement types of the 28 hours, largest first
    answer = dashboard.api.read_ok(
        "totals",
        {
            "tweet_ids": [str(RECENT)],
            "engagement_types": ["favorites", "engagements"],
            "groupings": {"p": {"group_by": ["engagement.type"]}},
        },
    )
    totals = dict(
        zip(
            page.locator("dl.totals dt").all_inner_texts(),
            page.locator("dl.totals dd").all_inner_texts(),
            strict=True,
        )
    )
    assert totals["favorites"].replace(",", "") == answer["p"]["favorites"]
    assert totals["engagements"].replace(",", "") == answer["p"]["engagements"]
    page.goto(f"/dashboard/posts/{OLD}")
    assert "over 90 days old" in page.locator(".notice").first.inner_text()
    page.goto(f"/dashboard/posts/{ANCIENT}")
    notices = " ".join(page.locator(".notice").all_inner_texts())
    assert "over 90 days old" in notices and "over 1800 days old" in notices


def test_a_posts_csv_download_equals_the_apis_answer(pages: Pages, dashboard: Dashboard) -> None:
    watched = pages.signed_in_owner(ALICE)
    page = watched.page
    page.goto(f"/dashboard/posts/{RECENT}?start=2026-10-20&end=2026-11-27")  # two 28-day windows
    with page.expect_download() as download:
        page.get_by_role("link", name="Download every hour of this range as CSV").click()
    got = _csv_rows(Path(download.value.path()))
    levels = ["tweet.id", "engagement.type", "engagement.day", "engagement.hour"]
    with _client(dashboard) as client:
        result = client.historical(
            [RECENT],
            list(WINDOWED_METRICS),
            {"all": {"group_by": levels}},
            start="2026-10-20T00:00:00Z",
            end=ceil_hour(NOW),
        )
    expected = [r for r in result.rows() if r.count != 0]
    assert len(expected) > 100
    assert [tuple(r.values()) for r in got] == [
        (r.post_id, r.metric, r.day, r.hour, str(r.count)) for r in expected
    ]


def test_an_owner_sees_no_other_users_post_nor_the_operators_pages(
    pages: Pages, dashboard: Dashboard
) -> None:
    watched = pages.signed_in_owner(ALICE)
    page = watched.page
    watched.expect(404)
    response = page.goto(f"/dashboard/posts/{BOB_POST}")
    assert response is not None and response.status == 404
    pages.check(watched, "not-found")
    bobs = page.locator("main").inner_text()
    response = page.goto(f"/dashboard/posts/{UNKNOWN}")
    assert response is not None and response.status == 404
    assert page.locator("main").inner_text() == bobs  # the same answer as for no Post at all
    assert "No such Post" in bobs
    response = page.goto(f"/dashboard/posts/{BOB_POST}.csv")
    assert response is not None and response.status == 404
    watched.expect(403)
    response = page.goto("/dashboard/ingest")
    assert response is not None and response.status == 403
    pages.check(watched, "forbidden")
    assert "for operators" in page.locator("[role=alert]").inner_text()


def test_a_forged_csrf_token_is_refused(pages: Pages, dashboard: Dashboard) -> None:
    watched = pages.signed_in_operator()
    page = watched.page
    page.goto(f"/dashboard/users/{ALICE}")
    pages.check(watched, "user")
    form = page.locator("form[action$='/link']")
    form.locator("input[name=csrf]").evaluate("input => { input.value = 'forged' }")
    form.get_by_role("button").click()
    watched.expect(403)
    assert "CSRF token is missing or wrong" in page.locator("[role=alert]").inner_text()
    page.goto(f"/dashboard/users/{ALICE}")
    form.locator("input[name=csrf]").evaluate("input => input.remove()")
    form.get_by_role("button").click()
    assert "CSRF token is missing or wrong" in page.locator("[role=alert]").inner_text()
    page.goto(f"/dashboard/users/{ALICE}")
    assert page.locator(".secret").count() == 0
    page.get_by_role("button", name="Make a one-time sign-in link").click()
    made = page.locator(".secret").inner_text()
    assert made.startswith(dashboard.base_url + "/dashboard/link/")
    signed_out = page.locator("header form")
    signed_out.locator("input[name=csrf]").evaluate("input => { input.value = 'forged' }")
    signed_out.get_by_role("button", name="Sign out").click()
    assert "CSRF token is missing or wrong" in page.locator("[role=alert]").inner_text()
    page.goto("/dashboard/users")
    assert page.url.endswith("/dashboard/users")  # still signed in: nothing was done


def test_the_operators_ingest_usage_and_users_pages(pages: Pages, dashboard: Dashboard) -> None:
    api = dashboard.api
    bad = b'{"tweet_id": "1", "type": "nope"}\n{}\n'
    assert api.ingest("events", bad, key="bad-batch").status_code == 400
    api.read_ok(
        "totals",
        {
            "tweet_ids": [str(RECENT)],
            "engagement_types": ["favorites"],
            "groupings": {"p": {"group_by": ["tweet.id", "engagement.type"]}},
        },
    )
    watched = pages.signed_in_operator()
    page = watched.page
    page.goto("/dashboard/ingest")
    pages.check(watched, "ingest")
    figures = dict(
        zip(
            page.locator("dl.totals dt").all_inner_texts(),
            page.locator("dl.totals dd").all_inner_texts(),
            strict=True,
        )
    )
    assert figures["batches rejected"] == "1" and figures["rejected lines"] == "2"
    assert int(figures["events applied"].replace(",", "")) > 0
    keys = page.locator("table").last.locator("tbody td:first-child").all_inner_texts()
    assert [b.key for b in api.store.recent_batches(20)] == keys
    page.goto("/dashboard/usage")
    pages.check(watched, "usage")
    usage = api.request("GET", "/usage?month=2026-11", auth="alice").json()
    row = page.locator("tr", has_text=usage["app"]).locator("td").all_inner_texts()
    assert row[2] == str(usage["users"]) == "1"  # the first month column is 2026-11
    page.goto("/dashboard/users")
    pages.check(watched, "users")
    assert page.get_by_role("link", name="@alice").count() == 1


def test_the_pages_fit_a_phones_width(pages: Pages, dashboard: Dashboard) -> None:
    watched = pages.signed_in_operator(viewport={"width": 390, "height": 844})
    page = watched.page
    for path, name in ((f"/dashboard/posts/{RECENT}", "post-phone"), ("/dashboard?user=alice", "")):
        page.goto(path)
        if name:
            pages.check(watched, name)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, path


def test_revoking_an_admin_key_ends_its_sessions(pages: Pages, dashboard: Dashboard) -> None:
    store, clock = dashboard.api.store, dashboard.api.clock
    key = credentials.create_admin_key(store, clock)
    watched = pages.open()
    page = watched.page
    page.goto("/dashboard/sign-in")
    page.get_by_label("Admin key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/dashboard$"))
    credentials.revoke_admin_key(store, key)
    page.goto("/dashboard/ingest")
    assert "/dashboard/sign-in?next=%2Fdashboard%2Fingest" in page.url
