"""/metrics (Prometheus exposition, counted by route template and status, no per-Post labels) and
the JSON request log (one line per request, the documented fields, never a secret)."""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from engagement_api.api.logging import ACCESS_LOGGER
from tests.support import SINGLE_DATABASE, backends
from tests.support.harness import PREFIX, RECENT, Api, at, body
from tests.support.model import Event

# What this module tests is the catalog's alone: the ClickHouse configuration runs the same code
# on its PostgreSQL catalog.
backend = backends(SINGLE_DATABASE)


def samples(api: Api) -> dict[str, list[Sample]]:
    response = api.http.get(api.url("/metrics"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found: dict[str, list[Sample]] = {}
    for family in text_string_to_metric_families(response.text):
        found.setdefault(family.name, []).extend(family.samples)
    return found


def value(found: dict[str, list[Sample]], family: str, sample: str, **labels: str) -> float:
    return sum(
        s.value
        for s in found.get(family, [])
        if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items())
    )


def test_requests_are_counted_by_route_template_and_status(api: Api) -> None:
    for _ in range(3):
        api.read_ok("totals", body())
    assert api.read("28hr", body(), auth="bearer").status_code == 403
    assert api.read("totals", body(), auth=None).status_code == 401
    assert api.http.post(api.url(f"{PREFIX}/nope-{RECENT}")).status_code == 404
    assert api.http.get(api.url(f"{PREFIX}/totals")).status_code == 405
    found = samples(api)
    requests = "engagement_api_requests"
    route = f"{PREFIX}/totals"
    assert value(found, requests, requests + "_total", route=route, status="200") == 3
    assert value(found, requests, requests + "_total", route=route, status="401") == 1
    assert value(found, requests, requests + "_total", route=route, status="405") == 1
    assert value(found, requests, requests + "_total", route=f"{PREFIX}/28hr", status="403") == 1
    assert value(found, requests, requests + "_total", route="<unmatched>", status="404") == 1
    latency = "engagement_api_request_duration_seconds"
    assert value(found, latency, latency + "_count", route=route, method="POST") == 4
    assert value(found, latency, latency + "_count", route=route, method="GET") == 1
    assert value(found, latency, latency + "_bucket", route=route, le="+Inf") == 5
    # no per-Post label anywhere: no sample mentions an ID or a raw unknown path
    for family in found.values():
        for sample in family:
            for label in sample.labels.values():
                assert str(RECENT) not in label
                assert "nope" not in label


def test_ingest_is_counted(api: Api) -> None:
    api.send_events(
        [Event(RECENT, "favorites", at(26, 10)), Event(RECENT, "replies", at(26, 9))], key="obs-1"
    )
    api.send_events(
        [Event(RECENT, "favorites", at(26, 10)), Event(RECENT, "replies", at(26, 9))], key="obs-1"
    )  # a replay
    bad = b'{"tweet_id": "1", "type": "favorites", "at": "2026-11-26T10:00:00Z"}\n' * 2
    assert api.ingest("events", bad, key="obs-bad").status_code == 400
    found = samples(api)
    batches = "engagement_api_ingest_batches"
    assert value(found, batches, batches + "_total", kind="events", outcome="applied") == 1
    assert value(found, batches, batches + "_total", kind="events", outcome="duplicate") == 1
    assert value(found, batches, batches + "_total", kind="events", outcome="rejected") == 1
    # the harness loaded users and Posts over HTTP too
    assert value(found, batches, batches + "_total", kind="tweets", outcome="applied") == 1
    records = "engagement_api_ingest_records"
    assert value(found, records, records + "_total", kind="events") == 2
    rejected = "engagement_api_ingest_rejected_lines"
    assert value(found, rejected, rejected + "_total", kind="events") == 2
    assert "engagement_api_store_errors" in found


# -- logs --------------------------------------------------------------------------------------

FIELDS = {"ts", "method", "route", "path", "status", "duration_ms", "app", "auth", "client"}


def access_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == ACCESS_LOGGER]


def access_lines_when(caplog: pytest.LogCaptureFixture, count: int) -> list[dict[str, Any]]:
    """The access lines once ``count`` are there (or after 10 s): a line is written when the
    server's handling of a request ends, which can be just after the client has the answer."""
    deadline = time.monotonic() + 10
    while len(access_lines(caplog)) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return access_lines(caplog)


def test_one_json_line_per_request_with_the_fields(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        api.read_ok("totals", body())
        api.read("totals", body(), auth="bearer")
        api.read("totals", body(), auth=None)
        api.ingest("users", [{"id": "77", "handle": "zed"}])
        api.http.get(api.url("/healthz"))
        lines = access_lines_when(caplog, 5)
    assert len(lines) == 5
    for line in lines:
        assert set(line) == FIELDS
        assert isinstance(line["duration_ms"], float | int) and line["duration_ms"] >= 0
        assert line["client"] == "127.0.0.1"
    alice, bearer, anonymous, ingest, health = lines
    assert alice["route"] == f"{PREFIX}/totals" and alice["status"] == 200
    assert alice["app"] == api.app.consumer_key and alice["auth"] == "oauth1_user"
    assert bearer["app"] == api.app.consumer_key and bearer["auth"] == "bearer"
    assert anonymous["status"] == 401 and anonymous["app"] is None
    assert ingest["route"] == "/ingest/users" and ingest["auth"] == "ingest"
    assert ingest["app"] is None
    assert health == {**health, "method": "GET", "route": "/healthz", "status": 200}


def test_logs_never_hold_a_secret(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    app, token, token_secret = api.tokens["alice"]
    url = api.url(f"{PREFIX}/totals") + "?oauth_probe=1"
    header = api.oauth_header(url, token=(token, token_secret))
    signature = re.search(r'oauth_signature="([^"]*)"', header)
    nonce = re.search(r'oauth_nonce="([^"]*)"', header)
    assert signature and nonce
    with caplog.at_level(logging.DEBUG):
        api.http.post(url, json=body(), headers={"Authorization": header})
        api.read("totals", body(), auth="bearer")
        api.ingest("users", [{"id": "78", "handle": "yan"}])
        forged = header.replace(token, token[:-1] + ("y" if token.endswith("x") else "x"))
        api.http.post(url, json=body(), headers={"Authorization": forged})
    server_side = [r for r in caplog.records if r.name.startswith(("engagement_api", "uvicorn"))]
    text = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text}" for r in server_side)
    assert access_lines(caplog)
    secrets = {
        "consumer secret": app.consumer_secret,
        "token": token,
        "token secret": token_secret,
        "bearer token": api.app.bearer_token,
        "ingest key": api.ingest_key,
        "signature": signature.group(1),
        "nonce": nonce.group(1),
        "query": "oauth_probe",
    }
    for name, secret in secrets.items():
        assert secret not in text, name
