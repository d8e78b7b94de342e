"""`engagement-api demo --no-serve`: a seeded database and credentials that work."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from engagement_api.auth.secrets import hash_secret
from engagement_api.cli.main import cli
from engagement_api.contract.metrics import METRICS
from engagement_api.store import open_store


def test_demo_seeds_through_the_load_path_and_prints_working_credentials(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    args = ["demo", "--no-serve", "--json", "--users", "30", "--tweets", "300", "--days", "3"]
    result = CliRunner().invoke(cli, [*args, "--database-url", url])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    for key in (
        "consumer_key",
        "consumer_secret",
        "bearer_token",
        "access_token",
        "access_token_secret",
        "ingest_key",
        "user_id",
        "own_tweet_ids",
        "top_tweet_ids",
        "admin_key",
        "dashboard_link",
    ):
        assert info[key], key
    assert info["dashboard_url"] == "http://127.0.0.1:8000/dashboard"
    assert info["dashboard_link"].startswith("http://127.0.0.1:8000/dashboard/link/")
    store = open_store(url)
    try:
        app = store.app_by_bearer(hash_secret(info["bearer_token"]))
        assert app is not None and app.consumer_key == info["consumer_key"]
        token = store.get_token(info["access_token"])
        assert token is not None and str(token.user_id) == info["user_id"]
        assert store.has_ingest_key(hash_secret(info["ingest_key"]))
        assert store.has_admin_key(hash_secret(info["admin_key"]))
        token_hash = hash_secret(info["dashboard_link"].rsplit("/", 1)[1])
        assert store.spend_link(token_hash, datetime.now(UTC)) == int(info["user_id"])
        own = [int(i) for i in info["own_tweet_ids"]]
        posts = store.get_posts(own)
        assert {str(p.author_id) for p in posts.values()} == {info["user_id"]}
        top = [int(i) for i in info["top_tweet_ids"]]
        impressions = store.totals(top, [METRICS["impressions"].code])
        assert sum(impressions.values()) > 0  # events were loaded and counted
    finally:
        store.close()
    # A second run starts from a fresh database (the old file is replaced, not added to).
    again = CliRunner().invoke(cli, [*args, "--database-url", url])
    assert again.exit_code == 0, again.output
    store = open_store(url)
    try:
        assert len(store.list_apps()) == 1
    finally:
        store.close()
