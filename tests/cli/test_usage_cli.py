"""`apps set-rate-limit` and `usage` on real SQLite files."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result

from engagement_api.cli.main import cli
from engagement_api.clock import SystemClock
from engagement_api.contract.usage import month_of
from engagement_api.domain import User
from engagement_api.store import open_store


def run(db: str, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args, "--database-url", db])


def ok_json(db: str, *args: str) -> object:
    result = run(db, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def app_key(db: str) -> str:
    app = ok_json(db, "apps", "create", "analytics", "--rate-limit", "50")
    assert isinstance(app, dict)
    return str(app["consumer_key"])


def test_set_rate_limit_changes_the_stored_limit(db: str, app_key: str) -> None:
    assert ok_json(db, "apps", "set-rate-limit", app_key, "7") == {
        "consumer_key": app_key,
        "rate_limit": 7,
    }
    listed = ok_json(db, "apps", "list")
    assert isinstance(listed, list) and listed[0]["rate_limit"] == 7
    human = run(db, "apps", "set-rate-limit", app_key, "9")
    assert human.exit_code == 0 and "9 requests per endpoint and minute" in human.stdout


def test_usage_reports_distinct_users_of_the_month(db: str, app_key: str) -> None:
    store = open_store(db)
    try:
        store.upsert_users([User(2**64 - 1, "Last"), User(1, "first")])
        for user in (2**64 - 1, 2, 1):
            store.record_usage(app_key, "2026-11", user)
        store.record_usage(app_key, "2026-10", 1)
        store.record_usage("someone else", "2026-11", 3)
    finally:
        store.close()
    assert ok_json(db, "usage", "--app", app_key, "--month", "2026-11") == {
        "app": app_key,
        "month": "2026-11",
        "users": 3,
        "counted": [
            {"id": "1", "handle": "first"},
            {"id": "2", "handle": None},  # recorded here without a catalog entry
            {"id": str(2**64 - 1), "handle": "Last"},
        ],
    }
    assert ok_json(db, "usage", "--app", app_key, "--month", "2026-09") == {
        "app": app_key,
        "month": "2026-09",
        "users": 0,
        "counted": [],
    }
    human = run(db, "usage", "--app", app_key, "--month", "2026-10")
    assert human.exit_code == 0 and human.stdout.splitlines() == [
        f"{app_key} 2026-10: 1 users",
        "  1 @first",
    ]
    human = run(db, "usage", "--app", app_key, "--month", "2026-11")
    assert human.stdout.splitlines()[1:] == [
        "  1 @first",
        "  2 (not in the catalog)",
        f"  {2**64 - 1} @Last",
    ]


def test_usage_defaults_to_the_current_utc_month(db: str, app_key: str) -> None:
    before = month_of(SystemClock().now())
    data = ok_json(db, "usage", "--app", app_key)
    after = month_of(SystemClock().now())
    assert isinstance(data, dict)
    assert data["month"] in {before, after}  # the same, unless a month ended in between
    assert data["users"] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("apps", "set-rate-limit", "nope", "5"), "error: no app with consumer key 'nope'"),
        (("usage", "--app", "nope", "--month", "2026-11"), "error: no app with consumer key"),
    ],
)
def test_unknown_apps_are_one_line_errors(db: str, args: tuple[str, ...], message: str) -> None:
    result = run(db, *args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_the_limit_must_be_positive(db: str, app_key: str) -> None:
    result = run(db, "apps", "set-rate-limit", app_key, "0")
    assert result.exit_code == 1
    assert "error: rate limit must be a positive integer" in result.stderr


@pytest.mark.parametrize("month", ["2026-13", "november", "2026-1"])
def test_a_bad_month_is_refused(db: str, app_key: str, month: str) -> None:
    result = run(db, "usage", "--app", app_key, "--month", month)
    assert result.exit_code == 1
    assert f'error: Invalid month: "{month}" (expected YYYY-MM, as in 2026-11)' in result.stderr


def test_set_rate_limit_needs_a_number(db: str, app_key: str) -> None:
    result = run(db, "apps", "set-rate-limit", app_key, "many")
    assert result.exit_code == 2 and "'many'" in result.stderr
