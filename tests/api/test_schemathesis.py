"""Schemathesis against the served /openapi.json: every operation, authenticated, through the real
app in uvicorn. Checks: no 5xx, and every answer (status, content type, body) matches the
document.

Credentials per operation: the read endpoints are signed as alice (OAuth 1.0a user context) on
the windowed ones and with the app's bearer token on /totals; /usage with OAuth user context;
/ingest/* with the ingest key. OAuth signatures are made per request, at the ManualClock's time,
over the final URL (requests-oauthlib signs the prepared request).
"""

from __future__ import annotations

import uuid
import warnings
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from prometheus_client.parser import text_string_to_metric_families
from requests_oauthlib import OAuth1

from tests.support import BESIDE_A_POOL, SINGLE_DATABASE, backends
from tests.support.harness import Api

# What this module tests is the catalog's alone: the ClickHouse configuration runs the same code
# on its PostgreSQL catalog.
backend = backends(SINGLE_DATABASE)

with warnings.catch_warnings():
    # schemathesis' own imports may warn about its dependencies; narrowly ignored here only
    warnings.simplefilter("ignore", DeprecationWarning)
    import schemathesis
    from schemathesis import checks as st_checks
    from schemathesis.core.errors import InvalidSchema
    from schemathesis.core.result import Err, Ok
    from schemathesis.schemas import APIOperation
    from schemathesis.specs.openapi import checks as openapi_checks

pytestmark = BESIDE_A_POOL

MAX_EXAMPLES = 12

CHECKS = (
    st_checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.response_headers_conformance,
)


def _auth(api: Api, path: str) -> tuple[Any, dict[str, str]]:
    """(requests auth, headers) for an operation's path."""
    if path.startswith("/ingest/"):
        return None, {"Authorization": f"Bearer {api.ingest_key}"}
    if path.endswith("/totals"):
        return None, {"Authorization": f"Bearer {api.app.bearer_token}"}
    if path.startswith("/insights/") or path == "/usage":
        app, token, secret = api.tokens["alice"]
        auth = OAuth1(
            app.consumer_key,
            app.consumer_secret,
            token,
            secret,
            timestamp=str(int(api.clock.now().timestamp())),
            nonce=uuid.uuid4().hex,
        )
        return auth, {}
    return None, {}


def _check_operation(api: Api, session: requests.Session, operation: Any) -> None:
    path = operation.path

    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        auth, headers = _auth(api, path)
        response = case.call(base_url=api.base_url, session=session, headers=headers, auth=auth)
        case.validate_response(response, checks=CHECKS)

    run()


Operation = APIOperation[Any, Any, Any, Any]  # (its parameters, responses, security, schema)


def _operation(result: Ok[Operation] | Err[InvalidSchema]) -> Operation:
    """The operation schemathesis read, or the error it found in the document, raised."""
    if isinstance(result, Err):
        raise result.err()
    return result.ok()


def test_every_operation_conforms_to_the_document(api: Api) -> None:
    schema = schemathesis.openapi.from_url(api.url("/openapi.json"))
    operations = [_operation(result) for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/insights/engagement/totals", "/usage"}
    tested = set()
    with requests.Session() as session:
        for operation in operations:
            _check_operation(api, session, operation)
            tested.add(f"{operation.method.upper()} {operation.path}")
    # schemathesis leaves the schema's own path out; every other documented operation ran
    documented = {
        f"{method.upper()} {path}"
        for path, item in api.http.get(api.url("/openapi.json")).json()["paths"].items()
        for method in item
    }
    assert tested == documented - {"GET /openapi.json"}
    # and each was really called (the server's own request counter says so)
    exposition = api.http.get(api.url("/metrics")).text
    calls = {f"{m.upper()} {p}": 0 for m, p in (op.split(" ", 1) for op in tested)}
    for family in text_string_to_metric_families(exposition):
        if family.name == "engagement_api_requests":
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    key = f"{sample.labels['method']} {sample.labels['route']}"
                    if key in calls:
                        calls[key] += int(sample.value)
            print(sorted(set((s.labels["route"], s.labels["status"]) for s in family.samples)))
    assert all(count >= 1 for count in calls.values()), calls


@pytest.fixture(autouse=True)
def _quiet_schemathesis_warnings() -> Any:
    """schemathesis' data generation may emit its own deprecation warnings (pytest runs with
    warnings as errors); only those, only in this module, are ignored."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"schemathesis\..*")
        yield
