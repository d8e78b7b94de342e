"""The dashboard's rules without a server: date ranges, the stacking of engagement types,
the charts' SVG, and sessions' cookies and CSRF tokens on a real store."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from engagement_api.auth.secrets import hash_secret
from engagement_api.clock import ManualClock
from engagement_api.contract.errors import BadRequest
from engagement_api.dashboard.charts import _axis_label, _nice_top, _short, bar_chart
from engagement_api.service.dashboard import PostCounts, Series, check_metric, parse_range
from engagement_api.service.sessions import Sessions
from engagement_api.settings import Settings, SettingsError
from engagement_api.store import open_store
from tests.support import NOW


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (None, None, (date(2026, 10, 30), date(2026, 11, 27))),  # 28 days up to today
        ("", "2026-11-10", (date(2026, 10, 13), date(2026, 11, 10))),
        ("2026-01-01", None, (date(2026, 1, 1), date(2026, 11, 27))),
        ("2026-11-01", "2026-11-02", (date(2026, 11, 1), date(2026, 11, 2))),
    ],
)
def test_ranges_default_to_the_days_up_to_today(
    start: str | None, end: str | None, expected: tuple[date, date]
) -> None:
    assert parse_range(start, end, NOW, 28, None) == expected


@pytest.mark.parametrize(
    ("start", "end", "messages"),
    [
        ("2026-1-1", None, ["start: must be a date YYYY-MM-DD (UTC), not '2026-1-1'"]),
        (
            "x",
            "y",
            [
                "end: must be a date YYYY-MM-DD (UTC), not 'y'",
                "start: must be a date YYYY-MM-DD (UTC), not 'x'",
            ],
        ),
        ("2026-02-30", None, ["start: must be a date YYYY-MM-DD (UTC), not '2026-02-30'"]),
        ("2026-11-02", "2026-11-02", ["start: 2026-11-02 must be before end: 2026-11-02"]),
        (
            "2025-01-01",
            "2026-01-03",
            ["start: 2025-01-01 to end: 2026-01-03 is 367 days; at most 366 allowed"],
        ),
    ],
)
def test_a_wrong_range_names_each_field(
    start: str | None, end: str | None, messages: list[str]
) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_range(start, end, NOW, 28, 366)
    assert caught.value.messages == messages


def test_the_stack_is_the_largest_types_then_the_rest_of_engagements() -> None:
    buckets = ["a", "b"]
    values = {
        "engagements": [20, 9],
        "favorites": [5, 1],
        "retweets": [4, 0],
        "replies": [3, 0],
        "url_clicks": [2, 0],
        "app_opens": [1, 1],
        "detail_expands": [1, 0],
        "hashtag_clicks": [0, 0],
    }
    stacked = Series(buckets, values).stacked()
    assert [name for name, _ in stacked] == [
        "favorites",
        "retweets",
        "replies",
        "app_opens",
        "url_clicks",
        "other",
    ]
    assert stacked[-1] == ("other", [20 - 15, 9 - 2])  # detail_expands and unnamed types
    assert [sum(v[i] for _, v in stacked) for i in range(2)] == values["engagements"]
    quiet = Series(buckets, {"engagements": [0, 0], "favorites": [0, 0]})
    assert quiet.stacked() == []


def test_the_overview_is_ranked_by_a_metric_it_shows() -> None:
    assert check_metric("engagement_rate") == "engagement_rate"
    with pytest.raises(BadRequest, match="metric: must be one of impressions, engagements"):
        check_metric("media_views")


def test_the_engagement_rate_needs_impressions() -> None:
    post = PostCounts(1, NOW, {"impressions": 200, "engagements": 5})
    assert post.engagement_rate == 0.025 and post.rank("engagement_rate") == 0.025
    assert PostCounts(1, NOW, {"impressions": 0, "engagements": 5}).engagement_rate is None
    limited = PostCounts(1, NOW, {"impressions": None, "engagements": None})
    assert limited.engagement_rate is None and limited.rank("impressions") == -1.0


@pytest.mark.parametrize(
    ("value", "top"), [(0, 4), (3, 4), (5, 8), (9, 12), (35, 40), (41, 80), (900, 1200)]
)
def test_the_axis_top_is_four_whole_steps(value: int, top: int) -> None:
    assert _nice_top(value) == top


def test_chart_labels() -> None:
    assert [_short(n) for n in (999, 1000, 1500, 2_000_000, 3_100_000_000)] == [
        "999",
        "1k",
        "1.5k",
        "2M",
        "3.1G",
    ]
    assert _axis_label("2026-11-26") == "11-26"
    assert _axis_label("2026-11-26T13") == "13h"
    assert _axis_label("2026-11-26T13:05Z") == "13:05"


def test_a_chart_escapes_its_names_and_titles_every_segment() -> None:
    svg = str(bar_chart("c", "<b>title</b>", ["d1", "d2"], [("x&y", [1, 0]), ("z", [2, 3])]))
    assert "<b>" not in svg and "&lt;b&gt;title&lt;/b&gt;" in svg
    assert "<title>d1: x&amp;y 1</title>" in svg and "<title>d2: z 3</title>" in svg
    assert svg.count("<rect x=") == 3 + 2  # three segments (a 0 draws none), two legend swatches
    assert 'fill="url(#c-p1)"' in svg and "style=" not in svg
    assert "No data." in str(bar_chart("e", "empty", [], []))


def test_settings_of_the_dashboard_are_checked() -> None:
    with pytest.raises(SettingsError, match="public_url"):
        Settings(public_url="example.com")
    with pytest.raises(SettingsError, match="session_lifetime"):
        Settings(session_lifetime=0)
    env = {"ENGAGEMENT_API_DASHBOARD_LINK_TTL": "60", "ENGAGEMENT_API_SESSION_SECRET": "s"}
    settings = Settings.from_env(env)
    assert (settings.dashboard_link_ttl, settings.session_secret) == (60, "s")
    assert "s" not in repr(settings).replace("settings", "") or "session_secret" not in repr(
        settings
    )


def test_sessions_sign_with_the_configured_secret_or_the_stored_one(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    store.migrate()
    try:
        clock = ManualClock(NOW)
        configured = Sessions(store, Settings(session_secret="configured", clock=clock))
        stored = Sessions(store, Settings(clock=clock))
        other_process = Sessions(store, Settings(clock=clock))
        store.create_link(hash_secret("t"), 7, NOW, NOW + timedelta(minutes=5))
        cookie = stored.sign_in_with_link("t")
        assert cookie is not None
        found = other_process.find(cookie)  # the same stored secret: another process agrees
        assert found is not None and found.session.user_id == 7 and not found.operator
        assert configured.find(cookie) is None  # signed with another secret
        assert stored.find(cookie.replace(".", ".0", 1)) is None
        assert stored.find("") is None and stored.find("x" * 300) is None
        assert stored.find("." + cookie.partition(".")[2]) is None
        assert stored.sign_in_with_link("t") is None  # spent
        assert stored.sign_in_with_link("") is None and stored.sign_in_operator("") is None
        token = stored.csrf_token(found)
        assert stored.check_csrf(found, token) and not stored.check_csrf(found, None)
        assert not configured.check_csrf(found, token)
        nonce = stored.new_nonce()
        anonymous = stored.anonymous_csrf_token(nonce)
        assert stored.check_anonymous_csrf(nonce, anonymous)
        assert not stored.check_anonymous_csrf(None, anonymous)
        assert not stored.check_anonymous_csrf(nonce + "x", anonymous)
        assert not stored.check_anonymous_csrf("x" * 300, anonymous)
        assert anonymous != token
        stored.sign_out(found)
        assert other_process.find(cookie) is None
    finally:
        store.close()
