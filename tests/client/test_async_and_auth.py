"""The async client (same answers as the sync one), signing classes, base URLs, arguments."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from oauthlib.oauth1 import Client

from engagement_api.client import (
    AsyncEngagementClient,
    BearerAuth,
    EngagementClient,
    OAuth1App,
    OAuth1User,
    RetryPolicy,
    ServerError,
)
from tests.client.fake import FakeServer, FakeTime, Window, error, ids_from, whole, z
from tests.support import NOW

BASE = 4 * 10**18


def _async_client(fake: FakeServer, fake_time: FakeTime, **kwargs: Any) -> AsyncEngagementClient:
    return AsyncEngagementClient(
        "http://testserver/insights/engagement",
        transport=fake.transport(),
        sleep=fake_time.asleep,
        monotonic=fake_time.monotonic,
        wall_clock=fake_time.wall,
        random=lambda: 0.0,
        **kwargs,
    )


def test_async_client_splits_and_merges(fake: FakeServer, fake_time: FakeTime) -> None:
    ids = ids_from(BASE, 60)
    fake.available = set(ids[:-3])
    for i, post in enumerate(ids):
        fake.hourly[(post, "favorites", NOW.replace(minute=0) - timedelta(hours=i * 13))] = i
    groupings = {"d": ["engagement.type", "engagement.day"], "p": ["tweet.id", "engagement.type"]}
    window: Window = {"start": z(NOW - timedelta(days=45)), "end": z(NOW)}

    async def go() -> dict[str, object]:
        async with _async_client(fake, fake_time, max_concurrency=3) as client:
            return (await client.historical(ids, ["favorites"], groupings, **window)).to_dict()

    got = asyncio.run(go())
    expected = whole(
        fake,
        "historical",
        ids,
        ["favorites"],
        groupings,
        start=window["start"],
        end=z(NOW.replace(minute=0) + timedelta(hours=1)),
    )
    assert got == expected
    assert len(fake.bodies) == 3 * 2


def test_async_retries_and_other_endpoints(fake: FakeServer, fake_time: FakeTime) -> None:
    fake.available = {BASE}
    fake.script = [error(503, "down"), httpx.ConnectError("refused")]

    async def go() -> None:
        client = _async_client(fake, fake_time)
        try:
            assert (await client.totals([BASE], ["favorites"])).requests == 1
            assert "start" in (await client.last_28_hours([BASE], ["favorites"])).data
            assert "g" in await client.request(
                "totals",
                {
                    "tweet_ids": [str(BASE)],
                    "engagement_types": ["favorites"],
                    "groupings": {"g": {"group_by": ["engagement.type"]}},
                },
            )
            fake.script = [error(500, "x")] * 2
            client.retry = RetryPolicy(max_attempts=2)
            with pytest.raises(ServerError):
                await client.totals([BASE], ["favorites"])
        finally:
            await client.aclose()

    asyncio.run(go())
    assert fake_time.sleeps == [0.25, 0.5, 0.25]


def _params(header: str) -> dict[str, str]:
    assert header.startswith("OAuth ")
    pairs = (p.split("=", 1) for p in header[6:].split(", "))
    return {k: unquote(v.strip('"')) for k, v in pairs}


def test_oauth1_user_header_is_oauthlibs_signature_without_the_body() -> None:
    auth = OAuth1User("ck", "cs", "tok", "ts", clock=lambda: 1_790_000_000.0)
    request = httpx.Request(
        "POST", "https://h/insights/engagement/totals?x=1", json={"tweet_ids": ["1"]}
    )
    signed = next(auth.auth_flow(request))
    params = _params(signed.headers["Authorization"])
    assert params["oauth_token"] == "tok" and params["oauth_timestamp"] == "1790000000"
    assert "oauth_body_hash" not in params
    expected = Client(
        "ck",
        client_secret="cs",
        resource_owner_key="tok",
        resource_owner_secret="ts",
        timestamp="1790000000",
        nonce=params["oauth_nonce"],
    )
    _, headers, _ = expected.sign("https://h/insights/engagement/totals?x=1", "POST")
    assert _params(headers["Authorization"])["oauth_signature"] == params["oauth_signature"]
    assert "ts" not in repr(auth) and "cs" not in repr(auth)


def test_oauth1_app_only_has_no_token_and_bearer_is_a_bearer() -> None:
    request = httpx.Request("POST", "https://h/insights/engagement/totals")
    app = _params(next(OAuth1App("ck", "cs").auth_flow(request)).headers["Authorization"])
    assert "oauth_token" not in app and app["oauth_consumer_key"] == "ck"
    bearer = next(BearerAuth("abc").auth_flow(request)).headers["Authorization"]
    assert bearer == "Bearer abc"
    with pytest.raises(ValueError):
        from engagement_api.client import OAuth1

        OAuth1("ck", "cs", token="t")


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("https://h", "https://h/insights/engagement/totals"),
        ("https://h/", "https://h/insights/engagement/totals"),
        ("https://h/insights/engagement", "https://h/insights/engagement/totals"),
        (
            "https://h:8443/proxy/insights/engagement/",
            "https://h:8443/proxy/insights/engagement/totals",
        ),
    ],
)
def test_base_url(given: str, used: str, fake: FakeServer) -> None:
    seen: list[str] = []
    fake.available = {BASE}
    fake.script = [httpx.Response(200, json={"perTweet": {}})]
    fake.on_request = lambda r: seen.append(str(r.url))
    with EngagementClient(given, transport=fake.transport()) as client:
        client.totals([BASE], ["favorites"])
    assert seen == [used]


def test_requests_ask_for_gzip_and_send_json(
    make_client: Callable[..., EngagementClient], fake: FakeServer
) -> None:
    seen: list[httpx.Request] = []
    fake.available = {BASE}
    fake.on_request = seen.append
    make_client().totals([BASE], ["favorites"])
    assert "gzip" in seen[0].headers["Accept-Encoding"]
    assert seen[0].headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    ("ids", "types", "kind"),
    [
        ("123", ["favorites"], TypeError),
        (123, ["favorites"], TypeError),
        ([], ["favorites"], ValueError),
        ([1], "favorites", TypeError),
    ],
)
def test_arguments_of_the_wrong_shape(
    ids: object,
    types: object,
    kind: type[Exception],
    make_client: Callable[..., EngagementClient],
) -> None:
    with pytest.raises(kind):
        make_client().totals(ids, types)  # type: ignore[arg-type]  # wrong on purpose
