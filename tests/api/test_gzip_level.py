"""``ENGAGEMENT_API_GZIP_LEVEL``: the answers' gzip level, an operator setting (1 to 9)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from engagement_api.settings import Settings, SettingsError
from tests.support import SINGLE_DATABASE, backends
from tests.support.harness import gunzip_json, raw_response

# What this module tests is the catalog's alone: the ClickHouse configuration runs the same code
# on its PostgreSQL catalog.
backend = backends(SINGLE_DATABASE)

BODY = {
    "tweet_ids": ["1100000000000000001", "1100000000000000002"],
    "engagement_types": ["favorites", "retweets", "replies"],
    "groupings": {"perTweet": {"group_by": ["tweet.id", "engagement.type"]}},
}


def _wire(api: Any) -> tuple[bytes, dict[str, Any]]:
    url = api.url("/insights/engagement/totals")
    request = api.http.build_request(
        "POST",
        url,
        content=json.dumps(BODY).encode(),
        headers={**api.auth_header("bearer", url), "Accept-Encoding": "gzip"},
    )
    with raw_response(api, request) as (response, raw):
        assert response.status_code == 200
        assert response.headers["content-encoding"] == "gzip"
    return raw, gunzip_json(raw)


def test_the_answer_is_the_same_at_every_level(make_api: Callable[..., Any]) -> None:
    fastest, slowest = make_api(gzip_level=1), None
    raw_1, answer_1 = _wire(fastest)
    slowest = make_api(gzip_level=9)
    raw_9, answer_9 = _wire(slowest)
    assert answer_1 == answer_9
    # the level reaches the compressor: gzip's header records the fastest (4) or best (2) mode
    assert (raw_1[8], raw_9[8]) == (4, 2)


@pytest.mark.parametrize("level", [0, 10, -1])
def test_a_level_outside_1_to_9_is_refused(level: int) -> None:
    with pytest.raises(SettingsError, match="gzip_level must be an integer from 1 to 9"):
        Settings(gzip_level=level)


def test_the_level_comes_from_the_environment() -> None:
    assert Settings.from_env({"ENGAGEMENT_API_GZIP_LEVEL": "6"}).gzip_level == 6
    assert Settings.from_env({}).gzip_level == 1
