"""The OpenAPI 3.1 description of this server (``GET /openapi.json``) and a readable rendering of
it (``GET /docs``: one self-contained HTML page, no scripts, nothing fetched from elsewhere).

The document is written from the contract's own tables (metrics, endpoints, group_by values,
reserved keys), the running server's settings (size limits), the answer Structs of
:mod:`engagement_api.api.answers` (which also encode what is sent) and the server's own error
messages, so it says what this server does. Tests check it validates as OpenAPI 3.1, covers
every route of the app, that its examples are what the server answers, and Schemathesis checks
real answers against it.

- :mod:`.schemas`: ``components/schemas``;
- :mod:`.examples`: request, answer and error examples;
- :mod:`.responses`: ``components/responses`` and ``components/headers``;
- :mod:`.operations`: ``paths``, one table row per endpoint;
- :mod:`.document`: the whole document;
- :mod:`.page`: the ``/docs`` page.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from engagement_api.api.openapi.document import document
from engagement_api.api.openapi.examples import EXAMPLE_POST, EXAMPLE_USER
from engagement_api.api.openapi.page import render
from engagement_api.api.openapi.schemas import Json
from engagement_api.api.responses import json_response

__all__ = ["EXAMPLE_POST", "EXAMPLE_USER", "document", "render", "routes"]


def _document_of(request: Request) -> Json:
    doc: Json = request.app.state.openapi
    return doc


async def openapi_json(request: Request) -> Response:
    return json_response(_document_of(request))


async def docs_page(request: Request) -> Response:
    return HTMLResponse(render(_document_of(request)))


routes = [
    Route("/openapi.json", openapi_json, methods=["GET"]),
    Route("/docs", docs_page, methods=["GET"]),
]
