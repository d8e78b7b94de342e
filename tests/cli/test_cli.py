"""The command line on real SQLite files: JSON keys scripts rely on, errors, idempotency."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from engagement_api.auth.secrets import hash_secret
from engagement_api.cli.main import cli
from engagement_api.store import open_store
from engagement_api.store.migrations import migrations_for


def run(db: str, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, [*args, "--database-url", db], input=stdin)


def ok_json(db: str, *args: str, stdin: str | None = None) -> dict[str, object]:
    result = run(db, *args, "--json", stdin=stdin)
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


USERS = '{"id": "42", "handle": "alice"}\n{"id": "43", "handle": "bob"}\n'
TWEETS = '{"id": "100", "author_id": "42", "created_at": "2026-01-01T00:00:00Z"}\n'
EVENTS = '{"tweet_id": "100", "type": "favorites", "at": "2026-01-02T10:00:00Z", "count": 3}\n'


def test_migrate_reports_the_schema_version(db: str) -> None:
    versions = [migration.version for migration in migrations_for("engagement_api.store.sqlite")]
    assert versions[:3] == [1, 2, 3]
    assert ok_json(db, "migrate") == {"schema_version": versions[-1], "applied": versions}
    assert ok_json(db, "migrate") == {"schema_version": versions[-1], "applied": []}


def test_apps_tokens_and_ingest_keys_have_the_documented_keys(db: str) -> None:
    app = ok_json(db, "apps", "create", "analytics", "--rate-limit", "50")
    assert {"consumer_key", "consumer_secret", "bearer_token"} <= set(app)
    for key in ("consumer_key", "consumer_secret", "bearer_token"):
        assert str(app[key]).isalnum()
    ok_json(db, "load", "users", "-", stdin=USERS)
    token = ok_json(db, "tokens", "create", "--app", str(app["consumer_key"]), "--user", "42")
    assert {"access_token", "access_token_secret"} <= set(token)
    assert ok_json(db, "ingest-keys", "create")["ingest_key"]
    listed = json.loads(run(db, "apps", "list", "--json").stdout)
    assert listed[0]["consumer_key"] == app["consumer_key"]
    assert listed[0]["rate_limit"] == 50 and "consumer_secret" not in listed[0]
    disabled = ok_json(db, "apps", "disable", str(app["consumer_key"]))
    assert disabled == {"consumer_key": app["consumer_key"], "enabled": False}
    revoked = ok_json(db, "tokens", "revoke", str(token["access_token"]))
    assert revoked["revoked"] is True


def test_admin_keys_and_dashboard_links(db: str) -> None:
    key = str(ok_json(db, "admin-keys", "create")["admin_key"])
    assert key.isalnum() and len(key) == 48
    ok_json(db, "load", "users", "-", stdin=USERS)
    link = ok_json(db, "dashboard-link", "--user", "42")
    assert str(link["url"]).startswith("http://127.0.0.1:8000/dashboard/link/")
    assert link["user_id"] == "42" and str(link["expires_at"]).endswith("Z")
    other = ok_json(db, "dashboard-link", "--user", "43", "--base-url", "https://x.example/")
    assert str(other["url"]).startswith("https://x.example/dashboard/link/")
    human = run(db, "dashboard-link", "--user", "43")
    assert human.exit_code == 0 and "usable once, until" in human.stdout
    store = open_store(db)
    try:
        assert store.has_admin_key(hash_secret(key))
    finally:
        store.close()
    assert ok_json(db, "admin-keys", "revoke", key) == {"revoked": True}
    again = run(db, "admin-keys", "revoke", key)
    assert again.exit_code == 1 and "no such admin key" in again.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("dashboard-link", "--user", "999"), "error: no user with id 999"),
        (("dashboard-link", "--user", "42", "--base-url", "x.example"), "error: base URL must"),
        (("apps", "disable", "nope"), "error: no app with consumer key 'nope'"),
        (("tokens", "create", "--app", "nope", "--user", "42"), "error: no app with consumer key"),
        (("tokens", "revoke", "nope"), "error: no such access token"),
        (("apps", "create", " "), "error: app name must not be empty"),
    ],
)
def test_admin_errors_are_one_line_and_exit_1(db: str, args: tuple[str, ...], message: str) -> None:
    result = run(db, *args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_token_for_an_unknown_user_is_refused(db: str) -> None:
    app = ok_json(db, "apps", "create", "a")
    result = run(db, "tokens", "create", "--app", str(app["consumer_key"]), "--user", "999")
    assert result.exit_code == 1 and "no user with id 999" in result.stderr
    result = run(db, "tokens", "create", "--app", str(app["consumer_key"]), "--user", "x1")
    assert result.exit_code == 2 and "'x1'" in result.stderr


def test_load_events_is_exactly_once_per_file(db: str, tmp_path: Path) -> None:
    ok_json(db, "load", "users", "-", stdin=USERS)
    assert ok_json(db, "load", "tweets", "-", stdin=TWEETS) == {"accepted": 1}
    events = tmp_path / "events.ndjson"
    events.write_text(EVENTS)
    first = ok_json(db, "load", "events", str(events))
    again = ok_json(db, "load", "events", str(events))
    assert first["duplicate"] is False and again["duplicate"] is True
    assert first["key"] == again["key"] and str(first["key"]).startswith("sha256:")
    store = open_store(db)
    assert store.totals([100], [3]) == {(100, 3): 3}
    store.close()


def test_load_reports_every_bad_line_and_applies_nothing(db: str) -> None:
    ok_json(db, "load", "users", "-", stdin=USERS)
    ok_json(db, "load", "tweets", "-", stdin=TWEETS)
    bad = EVENTS + '{"tweet_id": "999", "type": "favorites", "at": "2026-01-02T10:00:00Z"}\n'
    bad += '{"tweet_id": "100", "type": "favorites", "at": "2026-01-02T10:00:00Z", "count": 0}\n'
    result = run(db, "load", "events", "-", stdin=bad)
    assert result.exit_code == 1
    assert 'error: line 2: tweet_id "999": Post not loaded' in result.stderr
    assert "error: line 3: count 0: must not be zero" in result.stderr
    store = open_store(db)
    assert store.totals([100], [3]) == {}
    store.close()


def test_load_csv_and_json_array(db: str) -> None:
    csv_users = "id,handle\n42,alice\n"
    assert ok_json(db, "load", "users", "-", "--format", "csv", stdin=csv_users) == {"accepted": 1}
    tweets = '[{"id": 100, "author_id": 42, "created_at": "2026-01-01"}]'
    assert ok_json(db, "load", "tweets", "-", stdin=tweets) == {"accepted": 1}


def test_generate_writes_loadable_files(db: str, tmp_path: Path) -> None:
    out = tmp_path / "gen"
    made = ok_json(
        db, "generate", "--users", "20", "--tweets", "100", "--days", "3", "--out", str(out)
    )
    assert made["users"] == 20 and made["tweets"] == 100
    for kind in ("users", "tweets", "events"):
        loaded = ok_json(db, "load", kind, str(out / f"{kind}.ndjson"))
        assert loaded["accepted"] == made[kind]


def test_prune_keeps_lifetime_totals(db: str) -> None:
    ok_json(db, "load", "users", "-", stdin=USERS)
    ok_json(db, "load", "tweets", "-", stdin=TWEETS)
    ok_json(db, "load", "events", "-", stdin=EVENTS)
    pruned = ok_json(db, "prune", "--before", "2026-02-01")
    assert pruned == {"before": "2026-02-01T00:00:00Z", "deleted_rows": 2}  # favorites, engagements
    store = open_store(db)
    assert store.hourly([100], [3], 0, 10**7) == []
    assert store.totals([100], [3]) == {(100, 3): 3}
    store.close()
    result = run(db, "prune", "--before", "yesterday")
    assert result.exit_code == 2 and "--before" in result.stderr


def test_serve_refuses_a_database_without_the_schema(db: str) -> None:
    result = run(db, "serve")
    assert result.exit_code == 1
    assert "run `engagement-api migrate`" in result.stderr


def test_load_events_takes_several_files_in_order(db: str, tmp_path: Path) -> None:
    ok_json(db, "load", "users", "-", stdin=USERS)
    ok_json(db, "load", "tweets", "-", stdin=TWEETS)
    one, two = tmp_path / "one.ndjson", tmp_path / "two.ndjson"
    one.write_text(EVENTS)
    two.write_text(EVENTS.replace('"count": 3', '"count": 4'))
    both = ok_json(db, "load", "events", str(one), str(two), str(one))
    assert both["accepted"] == 3
    files = both["files"]
    assert isinstance(files, list)
    assert [(f["file"], f["duplicate"]) for f in files] == [
        (str(one), False),
        (str(two), False),
        (str(one), True),
    ]
    store = open_store(db)
    assert store.totals([100], [3]) == {(100, 3): 7}
    store.close()
    text = run(db, "load", "events", str(one), str(two))
    assert text.exit_code == 0
    assert text.stdout.splitlines()[0].startswith(f"{one}: already applied: 1 events (key sha256:")


def test_load_events_stops_at_the_first_bad_file_and_says_which(db: str, tmp_path: Path) -> None:
    ok_json(db, "load", "users", "-", stdin=USERS)
    ok_json(db, "load", "tweets", "-", stdin=TWEETS)
    good, bad, later = (tmp_path / f"{n}.ndjson" for n in ("good", "bad", "later"))
    good.write_text(EVENTS)
    bad.write_text(EVENTS.replace('"100"', '"999"'))
    later.write_text(EVENTS.replace('"count": 3', '"count": 5'))
    result = run(db, "load", "events", str(good), str(bad), str(later), "--json")
    assert result.exit_code == 1
    assert f"error: {bad}: not applied (1 file(s) before it were applied" in result.stderr
    assert 'error: line 1: tweet_id "999": Post not loaded' in result.stderr
    assert [f["file"] for f in json.loads(result.stdout)["files"]] == [str(good)]
    store = open_store(db)
    assert store.totals([100], [3]) == {(100, 3): 3}
    store.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("a.ndjson", "b.ndjson", "--key", "k"), "--key names one batch: give one FILE"),
        (("-", "a.ndjson"), "- (stdin) must be the only FILE"),
        (("missing.ndjson",), "missing.ndjson: no such file"),
    ],
)
def test_load_events_refuses_bad_file_lists(
    db: str, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    for name in ("a.ndjson", "b.ndjson"):
        (tmp_path / name).write_text(EVENTS)
    paths = [str(tmp_path / a) if a.endswith(".ndjson") else a for a in args]
    result = run(db, "load", "events", *paths)
    assert result.exit_code == 2 and message in result.stderr
