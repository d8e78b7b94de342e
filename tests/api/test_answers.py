"""The answer Structs (engagement_api.api.answers) are both what the document says and what the
server sends: each one's schema in the served /openapi.json is the one msgspec generates, every
operation answering it refers to it, and real answers decode strictly into it (with no field
left over) and are exactly its compact encoding."""

from __future__ import annotations

from typing import Any, Literal, TypeVar

import httpx
import msgspec
import orjson
from msgspec import UNSET

from engagement_api.api.answers import (
    ANSWERS,
    Accepted,
    Answer,
    Error,
    EventsAccepted,
    Health,
    Usage,
)
from engagement_api.contract.errors import ServiceUnavailable
from tests.support import PARTS_UP
from tests.support.harness import POSTS, PREFIX, Api

A = TypeVar("A", bound=Answer)

REF_TEMPLATE = "#/components/schemas/{name}"

#: The answers documented by each operation's status (every other error status: Error).
DOCUMENTED: dict[tuple[str, str, str], type[Answer]] = {
    ("/ingest/users", "post", "200"): Accepted,
    ("/ingest/tweets", "post", "200"): Accepted,
    ("/ingest/events", "post", "200"): EventsAccepted,
    ("/usage", "get", "200"): Usage,
    ("/healthz", "get", "200"): Health,
    ("/readyz", "get", "200"): Health,
    ("/readyz", "get", "503"): Health,
}


def _schema_ref(answer: type[Answer]) -> dict[str, Any]:
    (found,), _ = msgspec.json.schema_components([answer], ref_template=REF_TEMPLATE)
    return dict(found)


def _json_schema(doc: dict[str, Any], response: dict[str, Any]) -> Any:
    target = response.get("$ref")
    if isinstance(target, str):
        response = doc["components"]["responses"][target.rsplit("/", 1)[1]]
    return response["content"]["application/json"]["schema"]


def test_the_served_schemas_are_msgspecs(api: Api) -> None:
    doc = api.http.get(api.url("/openapi.json")).json()
    served = doc["components"]["schemas"]
    answer: type[Answer]
    for answer in ANSWERS:
        _, components = msgspec.json.schema_components([answer], ref_template=REF_TEMPLATE)
        assert answer.__name__ in components
        for name, schema in components.items():
            assert served[name] == schema, name
    for (path, method, status), answer in DOCUMENTED.items():
        response = doc["paths"][path][method]["responses"][status]
        assert _json_schema(doc, response) == _schema_ref(answer), (path, method, status)
    errors = 0
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400 and (path, method, status) not in DOCUMENTED:
                    assert _json_schema(doc, response) == _schema_ref(Error), (path, status)
                    errors += 1
    assert errors > 0
    for response in doc["components"]["responses"].values():
        assert _json_schema(doc, response) == _schema_ref(Error)


def _decoded(response: httpx.Response, answer: type[A], status: int = 200) -> A:
    """The answer's body decoded strictly into ``answer``; it is exactly the Struct's encoding
    (and what orjson makes of the same data: the bytes the server sent before the Structs)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    value = msgspec.json.decode(response.content, type=answer)
    assert msgspec.json.encode(value) == response.content
    assert orjson.dumps(msgspec.to_builtins(value)) == response.content
    return value


def test_real_answers_decode_into_their_structs(api: Api, backend: str) -> None:
    users = api.ingest("users", [{"id": "77", "handle": "zed"}, {"id": "78", "handle": "yan"}])
    assert _decoded(users, Accepted) == Accepted(accepted=2)
    post = {**POSTS[0], "id": "77000000000000001", "author_id": "77"}
    assert _decoded(api.ingest("tweets", [post]), Accepted) == Accepted(accepted=1)
    event = {"tweet_id": post["id"], "type": "favorites", "at": "2026-11-26T10:00:00Z"}
    first = _decoded(api.ingest("events", [event], key="answers-1"), EventsAccepted)
    assert first == EventsAccepted(accepted=1, duplicate=False)
    again = _decoded(api.ingest("events", [event], key="answers-1"), EventsAccepted)
    assert again == EventsAccepted(accepted=1, duplicate=True)

    usage = api.http.get(
        api.url("/usage?month=2026-11"),
        headers={"Authorization": f"Bearer {api.app.bearer_token}"},
    )
    assert _decoded(usage, Usage) == Usage(
        app=api.app.consumer_key, month="2026-11", users=0, counted=[]
    )

    for path in ("/healthz", "/readyz"):
        health = _decoded(api.http.get(api.url(path)), Health)
        parts = PARTS_UP if path == "/readyz" and backend == "clickhouse" else UNSET
        assert health == Health("ok", UNSET, parts) and health.errors is UNSET


def test_the_unavailable_readyz_decodes_into_health(api: Api, backend: str) -> None:
    api.store.close()  # the real store goes away under the running app
    health = _decoded(api.http.get(api.url("/readyz")), Health, 503)
    down: dict[str, Literal["ok", "down"]] = dict.fromkeys(PARTS_UP, "down")
    parts = down if backend == "clickhouse" else UNSET
    assert health == Health("unavailable", ServiceUnavailable().messages, parts)


def test_error_bodies_decode_into_error(api: Api) -> None:
    totals = f"{PREFIX}/totals"
    answers = [
        (api.http.post(api.url(f"{PREFIX}/total")), 404),
        (api.http.get(api.url(totals)), 405),
        (api.read("totals", {"tweet_ids": ["1"]}, auth=None), 401),
        (api.read("totals", {"tweet_ids": ["12ab"]}, auth="bearer"), 400),
        (api.read("totals", {"pad": "x" * api.settings.max_body_bytes}, auth="bearer"), 413),
        (api.ingest("users", [{"id": "x"}]), 400),
        (api.ingest("users", [{"id": "1", "handle": "a"}], auth="bearer"), 401),
    ]
    for response, status in answers:
        error = _decoded(response, Error, status)
        assert error.errors and all(isinstance(m, str) for m in error.errors)
