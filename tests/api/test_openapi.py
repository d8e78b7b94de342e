"""/openapi.json and /docs: the document is valid OpenAPI 3.1, describes every route of the app,
and its examples are what the server really answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from openapi_spec_validator import validate
from starlette.routing import Route

from engagement_api.api.app import create_app
from engagement_api.api.openapi import EXAMPLE_POST, document
from engagement_api.dashboard import routes as dashboard_routes
from engagement_api.service import credentials
from engagement_api.settings import Settings
from engagement_api.store import open_store
from tests.support import SINGLE_DATABASE, backends
from tests.support.harness import PREFIX, Api

# What this module tests is the catalog's alone: the ClickHouse configuration runs the same code
# on its PostgreSQL catalog.
backend = backends(SINGLE_DATABASE)


def _doc() -> dict[str, Any]:
    return document(Settings())


def test_the_document_is_valid_openapi_3_1() -> None:
    doc = _doc()
    assert doc["openapi"] == "3.1.0"
    validate(doc)


def test_every_route_of_the_app_is_documented_and_nothing_else(tmp_path: Path) -> None:
    """(The dashboard's HTML pages are not part of the API: docs/dashboard.md describes them.)"""
    store = open_store(f"sqlite:///{tmp_path / 'doc.db'}")
    store.migrate()
    pages = {route.path for route in dashboard_routes if isinstance(route, Route)}
    assert "/dashboard" in pages and "/" in pages
    try:
        app = create_app(Settings(database_url=store.url), store)
        served = {
            (route.path, method.lower())
            for route in app.routes
            if isinstance(route, Route) and route.path not in pages
            for method in (route.methods or ())
            if method != "HEAD"
        }
    finally:
        store.close()
    documented = {(path, method) for path, item in _doc()["paths"].items() for method in item}
    assert served == documented


def test_served_document_and_docs_page(api: Api) -> None:
    response = api.http.get(api.url("/openapi.json"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    served = response.json()
    assert served == json.loads(json.dumps(document(api.settings)))
    page = api.http.get(api.url("/docs"))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for path in served["paths"]:
        assert f"<code>{path}</code>" in page.text
    assert "<script" not in page.text and "http://" not in page.text.replace(api.base_url, "")


# -- examples against real answers -------------------------------------------------------------


def _resolve(doc: dict[str, Any], value: dict[str, Any]) -> dict[str, Any]:
    target = value.get("$ref")
    if isinstance(target, str):
        name = target.rsplit("/", 1)[1]
        resolved: dict[str, Any] = doc["components"]["responses"][name]
        return resolved
    return value


def examples(doc: dict[str, Any], path: str, method: str, status: int) -> list[Any]:
    """Every example body the document gives for one answer."""
    response = _resolve(doc, doc["paths"][path][method]["responses"][str(status)])
    found = []
    for spec in response.get("content", {}).values():
        if "example" in spec:
            found.append(spec["example"])
        found.extend(example["value"] for example in spec.get("examples", {}).values())
    return found


def request_example(doc: dict[str, Any], path: str, media: str = "application/json") -> Any:
    return doc["paths"][path]["post"]["requestBody"]["content"][media]["example"]


def test_examples_are_real_answers(api: Api) -> None:
    doc = api.http.get(api.url("/openapi.json")).json()

    def check(path: str, method: str, response: Any, status: int) -> None:
        assert response.status_code == status, response.text
        assert response.json() in examples(doc, path, method, status), response.text

    # ingest: the request examples load, answering the documented bodies
    for kind in ("users", "tweets", "events"):
        path = f"/ingest/{kind}"
        sent = request_example(doc, path, "application/x-ndjson").encode()
        key = "batch-0001" if kind == "events" else None
        check(path, "post", api.ingest(kind, sent, key=key), 200)
    # more events, so the read examples come out as documented
    more = [
        {"tweet_id": EXAMPLE_POST, "type": "favorites", "at": "2026-11-26T09:00:00Z", "count": 11},
        {"tweet_id": EXAMPLE_POST, "type": "replies", "at": "2026-11-23T09:00:00Z", "count": 2},
        {
            "tweet_id": EXAMPLE_POST,
            "type": "impressions",
            "at": "2026-11-20T09:00:00Z",
            "count": 100,
        },
        {
            "tweet_id": EXAMPLE_POST,
            "type": "impressions",
            "at": "2026-11-21T23:59:59Z",
            "count": 451,
        },
    ]
    assert api.ingest("events", more, key="batch-more").status_code == 200
    token = credentials.create_token(api.store, api.clock, api.app.consumer_key, 42)
    owner = (token.token, token.secret)

    def owner_read(endpoint: str, payload: Any) -> Any:
        url = api.url(f"{PREFIX}/{endpoint}")
        header = api.oauth_header(url, token=owner)
        return api.http.post(url, json=payload, headers={"Authorization": header})

    totals = f"{PREFIX}/totals"
    check(totals, "post", api.read("totals", request_example(doc, totals), auth="bearer"), 200)
    for endpoint in ("28hr", "historical"):
        path = f"{PREFIX}/{endpoint}"
        check(path, "post", owner_read(endpoint, request_example(doc, path)), 200)

    # usage: the owner's 200s above count once for the month
    usage = api.http.get(
        api.url("/usage?month=2026-11"),
        headers={"Authorization": f"Bearer {api.app.bearer_token}"},
    )
    assert usage.status_code == 200
    (usage_example,) = examples(doc, "/usage", "get", 200)
    assert usage.json() == {**usage_example, "app": api.app.consumer_key}

    # errors
    check(totals, "post", api.read("totals", request_example(doc, totals), auth=None), 401)
    forged = api.auth_header("alice", api.url(totals))["Authorization"].replace(
        'oauth_signature="', 'oauth_signature="AAAA'
    )
    check(
        totals,
        "post",
        api.read(
            "totals", request_example(doc, totals), auth=None, headers={"Authorization": forged}
        ),
        401,
    )
    bad_id = {**request_example(doc, totals), "tweet_ids": ["12ab"]}
    check(totals, "post", api.read("totals", bad_id, auth="bearer"), 400)
    unknown = {**request_example(doc, totals), "tweet_ids": ["1"]}
    check(totals, "post", api.read("totals", unknown, auth="bearer"), 400)
    hr28 = f"{PREFIX}/28hr"
    check(hr28, "post", api.read("28hr", request_example(doc, hr28), auth="bearer"), 403)
    check(
        totals,
        "post",
        api.read("totals", request_example(doc, totals), auth="disabled-bearer"),
        403,
    )
    big = {**request_example(doc, totals), "pad": "x" * api.settings.max_body_bytes}
    check(totals, "post", api.read("totals", big, auth="bearer"), 413)
    not_found = api.http.post(api.url(f"{PREFIX}/total"))
    assert not_found.status_code == 404
    assert not_found.json() == doc_example(doc, "NotFound")
    wrong_method = api.http.get(api.url(totals))
    assert wrong_method.status_code == 405
    assert wrong_method.json() == doc_example(doc, "MethodNotAllowed")
    assert wrong_method.headers["allow"] == "POST"

    # ingest errors
    events = "/ingest/events"
    changed = request_example(doc, events, "application/x-ndjson").replace("250", "251")
    check(events, "post", api.ingest("events", changed.encode(), key="batch-0001"), 409)
    bad_line = (
        json.dumps({"tweet_id": EXAMPLE_POST, "type": "favorites", "at": "2026-11-26T10:00:00Z"})
        + "\n\n"
        + '{"tweet_id": "1869999999999999998", "type": "favorites", '
        '"at": "2026-11-26T10:00:00Z"}\n'
    )
    check(events, "post", api.ingest("events", bad_line.encode(), key="batch-bad"), 400)
    check(
        events,
        "post",
        api.ingest("events", bad_line.encode(), key="k", auth="bearer"),
        401,
    )


def doc_example(doc: dict[str, Any], response: str) -> Any:
    (value,) = [
        e["value"]
        for spec in doc["components"]["responses"][response]["content"].values()
        for e in spec["examples"].values()
    ]
    return value
