"""Rate limits with two server workers (spec §8), on SQLite and on PostgreSQL.

`engagement-api serve --workers 2` on a database prepared with the CLI; several threads send
more requests than the app's limit, each on a new connection (so both workers answer), signed
with the bearer token and with a user's access token. The real clock runs, so the requests may
straddle a minute boundary: every response carries ``x-per-minute-reset``, the minute it was
counted in, and the checks hold per minute: each request counted once, the 200s of a minute are
exactly ``min(requests of that minute, limit)``, never more, each with its own remaining count.
Usage, recorded by whichever worker answered, is then read back with the CLI and over HTTP.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.data import Client, Credentials
from tests.support import SINGLE_DATABASE, backends
from tests.support.processes import ServerProcess, run_cli, run_cli_json

# What this module tests is the catalog's alone: the ClickHouse configuration runs the same code
# on its PostgreSQL catalog.
backend = backends(SINGLE_DATABASE)

pytestmark = pytest.mark.slow

LIMIT = 25
THREADS = 8
PER_THREAD = 12  # 96 requests, almost four times the limit
OWNER = 42
POST = 100
BODY = {
    "tweet_ids": [str(POST)],
    "engagement_types": ["favorites"],
    "groupings": {"perTweet": {"group_by": ["tweet.id", "engagement.type"]}},
}


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'limits.db'}"
    url: str = request.getfixturevalue("pg_empty_url")  # an empty database on the shared server
    return url


def _prepare(url: str) -> Credentials:
    run_cli_json("migrate", database_url=url)
    created = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    run_cli("load", "users", "-", database_url=url, stdin=b'{"id": "42", "handle": "owner"}\n')
    tweet = {"id": str(POST), "author_id": str(OWNER), "created_at": created}
    run_cli("load", "tweets", "-", database_url=url, stdin=json.dumps(tweet).encode() + b"\n")
    app = run_cli_json("apps", "create", "limited", "--rate-limit", str(LIMIT), database_url=url)
    token = run_cli_json(
        "tokens", "create", "--app", app["consumer_key"], "--user", str(OWNER), database_url=url
    )
    return Credentials(
        app["consumer_key"],
        app["consumer_secret"],
        app["bearer_token"],
        token["access_token"],
        token["access_token_secret"],
    )


Answer = tuple[str, int, dict[str, str], Any]


def _burst(base_url: str, creds: Credentials) -> list[Answer]:
    """(auth, status, x-per-minute-* headers, JSON body) of every request, from THREADS
    threads, alternately signed with the owner's access token and the bearer token."""
    start = threading.Barrier(THREADS)

    def send(i: int) -> list[Answer]:
        client = Client(base_url, creds)
        client.session.headers["Connection"] = "close"  # a new connection each time
        out = []
        try:
            start.wait(timeout=60)
            for j in range(PER_THREAD):
                auth = "user" if (i + j) % 2 else "bearer"
                response = client.post("totals", BODY, auth=auth)
                limits = {k: v for k, v in response.headers.items() if k.startswith("x-per-")}
                out.append((auth, response.status_code, limits, response.json()))
        finally:
            client.close()
        return out

    with ThreadPoolExecutor(THREADS) as pool:
        return [answer for answers in pool.map(send, range(THREADS)) for answer in answers]


def test_two_workers_never_accept_more_than_the_limit_in_a_minute(
    database_url: str, tmp_path: Path
) -> None:
    creds = _prepare(database_url)
    with ServerProcess(database_url, tmp_path / "server.log", workers=2) as server:
        answers = _burst(server.base_url, creds)
        usage_http = httpx.get(
            f"{server.base_url}/usage",
            headers={"Authorization": f"Bearer {creds.bearer_token}"},
            timeout=30,
        )

    assert len(answers) == THREADS * PER_THREAD
    by_minute: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for _auth, status, limits, data in answers:
        assert status in (200, 429), (status, data)
        assert limits["x-per-minute-limit"] == str(LIMIT)
        if status == 429:
            assert data == {"errors": ["Exceeded rate limit"]}
        by_minute[limits["x-per-minute-reset"]].append(
            (status, int(limits["x-per-minute-remaining"]))
        )
    for reset, counted in by_minute.items():
        accepted = sorted(remaining for status, remaining in counted if status == 200)
        assert len(accepted) == min(len(counted), LIMIT), reset
        # every accepted request saw its own count: remaining LIMIT-1, LIMIT-2, ... once each
        assert accepted == list(range(LIMIT - len(accepted), LIMIT)), reset
        assert all(remaining == 0 for status, remaining in counted if status == 429)

    # usage: the owner is counted once, whichever worker answered (bearer requests never are)
    users = int(any(auth == "user" and status == 200 for auth, status, _, _ in answers))
    assert usage_http.status_code == 200
    month = usage_http.json()["month"]
    listed = [{"id": str(OWNER), "handle": "owner"}] if users else []
    expected = {"app": creds.consumer_key, "month": month, "users": users, "counted": listed}
    assert usage_http.json() == expected
    cli = run_cli_json(
        "usage", "--app", creds.consumer_key, "--month", month, database_url=database_url
    )
    assert cli == expected
