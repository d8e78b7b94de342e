"""`demo` and `generate`."""

from __future__ import annotations

import os
from pathlib import Path

import click

from engagement_api.cli.context import CliContext, with_defaults
from engagement_api.cli.server import run_server
from engagement_api.ingest.generator import write_files
from engagement_api.service import demo as seeding
from engagement_api.settings import ENV_PREFIX
from engagement_api.store.sqlite import sqlite_path
from engagement_api.store.sqlite.metering import metering_path

DEMO_URL = "sqlite:///demo-data/demo.db"


@click.command()
@click.option("--users", default=300, show_default=True, type=click.IntRange(1))
@click.option("--tweets", default=5000, show_default=True, type=click.IntRange(0))
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 3650))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output folder.")
@with_defaults  # (--database-url accepted like everywhere; generate touches no database)
def generate(ctx: CliContext, users: int, tweets: int, days: int, seed: int, out: str) -> None:
    """Write synthetic users.ndjson, tweets.ndjson and events.ndjson, loadable with `load`."""
    counts = write_files(
        out, users=users, tweets=tweets, days=days, now=ctx.settings.clock.now(), seed=seed
    )
    data = {
        "users": counts["users.ndjson"],
        "tweets": counts["tweets.ndjson"],
        "events": counts["events.ndjson"],
        "out": str(Path(out)),
    }
    ctx.emit(
        data,
        f"wrote {data['users']} users, {data['tweets']} Posts, "
        f"{data['events']} event lines to {out}",
    )


def _curl(base: str, creds: seeding.DemoCredentials) -> str:
    ids = ", ".join(f'"{pid}"' for pid in creds.top_posts[:3])
    return (
        f"curl -s -X POST {base}/insights/engagement/totals \\\n"
        f'  -H "Authorization: Bearer {creds.bearer_token}" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        f'  -d \'{{"tweet_ids": [{ids}], '
        '"engagement_types": ["favorites", "retweets", "replies", "video_views"], '
        '"groupings": {"perTweet": {"group_by": ["tweet.id", "engagement.type"]}}}\''
    )


def _signed_example(base: str, creds: seeding.DemoCredentials) -> str:
    ids = ", ".join(f'"{pid}"' for pid in creds.own_posts[:3])
    return (
        ".venv/bin/python - <<'PY'\n"
        "import requests\n"
        "from requests_oauthlib import OAuth1\n"
        f'auth = OAuth1("{creds.consumer_key}", "{creds.consumer_secret}",\n'
        f'              "{creds.access_token}", "{creds.access_token_secret}")\n'
        f'body = {{"tweet_ids": [{ids}],\n'
        '        "engagement_types": ["impressions", "engagements", "favorites"],\n'
        '        "groupings": {"hourly": {"group_by": ["tweet.id", "engagement.type",'
        ' "engagement.day", "engagement.hour"]}}}\n'
        f'print(requests.post("{base}/insights/engagement/28hr", json=body, auth=auth).text)\n'
        "PY"
    )


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--users", default=300, show_default=True, type=click.IntRange(1))
@click.option("--tweets", default=5000, show_default=True, type=click.IntRange(1))
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 365))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--serve/--no-serve", default=True, help="Serve after seeding (default: yes).")
@with_defaults
def demo(
    ctx: CliContext,
    host: str,
    port: int,
    users: int,
    tweets: int,
    days: int,
    seed: int,
    serve: bool,
) -> None:
    """Create a fresh demo database of synthetic data, print credentials, and serve it."""
    if ctx.database_url is None and not os.environ.get(ENV_PREFIX + "DATABASE_URL"):
        ctx.database_url = DEMO_URL
    url = ctx.settings.database_url
    if url.startswith("sqlite:///") and sqlite_path(url) != ":memory:":
        path = Path(sqlite_path(url))
        path.parent.mkdir(parents=True, exist_ok=True)
        for file in (str(path), metering_path(str(path))):
            for suffix in ("", "-wal", "-shm"):
                Path(file + suffix).unlink(missing_ok=True)
    click.echo(f"seeding {url}: {users} users, {tweets} Posts, {days} days of events ...", err=True)
    clock = ctx.settings.clock
    base = f"http://{host}:{port}"
    with ctx.store() as store:
        data = seeding.seed(store, clock, users, tweets, days, seed)
        creds = seeding.issue_credentials(store, clock, data, base, ctx.settings.dashboard_link_ttl)
    info = {
        "database_url": url,
        "counters_url": ctx.settings.counters_url,
        "base_url": base,
        "consumer_key": creds.consumer_key,
        "consumer_secret": creds.consumer_secret,
        "bearer_token": creds.bearer_token,
        "access_token": creds.access_token,
        "access_token_secret": creds.access_token_secret,
        "user_id": str(creds.user_id),
        "handle": creds.handle,
        "ingest_key": creds.ingest_key,
        "own_tweet_ids": [str(p) for p in creds.own_posts],
        "top_tweet_ids": [str(p) for p in creds.top_posts],
        "dashboard_url": f"{base}/dashboard",
        "admin_key": creds.admin_key,
        "dashboard_link": creds.dashboard_link,
    }
    human = "\n".join(
        [
            f"Demo database: {url}"
            + (f" (counters: {ctx.settings.counters_url})" if ctx.settings.counters_url else ""),
            "",
            f"Dashboard: open {base}/dashboard in a browser and sign in with the admin key",
            f"  {creds.admin_key}",
            f"or, as @{creds.handle} (their own Posts only), open this one-time link"
            f" (usable once, for {ctx.settings.dashboard_link_ttl // 60} minutes):",
            f"  {creds.dashboard_link}",
            "",
            "App-only request (bearer token), ready to paste:",
            _curl(base, creds),
            "",
            f"User-context credentials (OAuth 1.0a) for @{creds.handle} (user {creds.user_id}):",
            f"  consumer key:        {creds.consumer_key}",
            f"  consumer secret:     {creds.consumer_secret}",
            f"  access token:        {creds.access_token}",
            f"  access token secret: {creds.access_token_secret}",
            f"  Posts of @{creds.handle}: {', '.join(str(p) for p in creds.own_posts)}",
            "",
            "A signed /28hr request (from this folder):",
            _signed_example(base, creds),
            "",
            f"Ingest key (POST /ingest/*): {creds.ingest_key}",
            "",
            f"Serving on {base} (Ctrl-C to stop)" if serve else "Not serving (--no-serve).",
        ]
    )
    ctx.emit(info, human)
    if serve:
        run_server(ctx, host, port, 1, "info")
