"""Health: /healthz says the process is up; /readyz says the store answers with a current schema."""

from __future__ import annotations

from typing import Literal

from msgspec import UNSET
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engagement_api.api.answers import HEALTHY, Health, unavailable
from engagement_api.api.responses import json_response
from engagement_api.api.state import state_of
from engagement_api.contract.errors import ServiceUnavailable
from engagement_api.store.errors import SchemaError, StoreError
from engagement_api.store.protocols import PartedStore


async def healthz(request: Request) -> Response:
    return json_response(HEALTHY)


async def readyz(request: Request) -> Response:
    store = state_of(request).store
    if isinstance(store, PartedStore):
        return await _readyz_split(store)

    def check() -> None:
        store.ping()
        store.check_schema()

    try:
        await run_in_threadpool(check)
    except SchemaError as exc:
        return json_response(unavailable(str(exc)), 503)
    except StoreError:
        return json_response(unavailable(*ServiceUnavailable().messages), 503)
    return json_response(HEALTHY)


async def _readyz_split(store: PartedStore) -> Response:
    """Each part of a catalog + ClickHouse store: 503 when reads cannot be answered (the
    catalog or a whole shard of the counters down), 200 ``degraded`` when only ingest cannot."""
    parts = await run_in_threadpool(store.parts)
    if parts["catalog"] == "ok" and parts["counters"] == "ok":
        try:
            await run_in_threadpool(store.check_schema)
        except SchemaError as exc:
            return json_response(Health("unavailable", [str(exc)], parts), 503)
        status: Literal["ok", "degraded"] = "ok" if parts["zookeeper"] == "ok" else "degraded"
        return json_response(Health(status, UNSET, parts))
    return json_response(Health("unavailable", ServiceUnavailable().messages, parts), 503)


routes = [Route("/healthz", healthz, methods=["GET"]), Route("/readyz", readyz, methods=["GET"])]
