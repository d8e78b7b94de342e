"""A store that goes away under a running app: every backend answers 503 with the contract's
body, on the read, ingest and usage roads and on /readyz, and never a traceback."""

from __future__ import annotations

from typing import Any

import pytest

STORE_UNAVAILABLE = {"errors": ["Store unavailable"]}
BODY = {
    "tweet_ids": ["1100000000000000001"],
    "engagement_types": ["favorites"],
    "groupings": {"perTweet": {"group_by": ["tweet.id", "engagement.type"]}},
}


def test_a_closed_store_answers_503_with_the_contract_body(api: Any, backend: str) -> None:
    assert api.read("totals", BODY).status_code == 200  # the store answers first
    api.store.close()
    for auth in ("alice", "bearer"):
        response = api.read("totals", BODY, auth=auth)
        assert response.status_code == 503, response.text
        assert response.json() == STORE_UNAVAILABLE
    response = api.ingest("users", [{"id": "77", "handle": "late"}])
    assert (response.status_code, response.json()) == (503, STORE_UNAVAILABLE)
    response = api.request("GET", "/usage", auth="bearer")
    assert (response.status_code, response.json()) == (503, STORE_UNAVAILABLE)
    response = api.request("GET", "/readyz", auth=None)
    assert response.status_code == 503
    expected: dict[str, Any] = {"status": "unavailable", "errors": ["Store unavailable"]}
    if backend == "clickhouse":  # which part is down, too: all of them (the store is closed)
        expected["parts"] = {"catalog": "down", "counters": "down", "zookeeper": "down"}
    assert response.json() == expected


@pytest.mark.parametrize("endpoint", ["28hr", "historical"])
def test_a_closed_store_answers_503_on_the_windowed_endpoints(api: Any, endpoint: str) -> None:
    api.store.close()
    response = api.read(endpoint, BODY)
    assert (response.status_code, response.json()) == (503, STORE_UNAVAILABLE)
