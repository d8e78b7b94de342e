"""Pages from the package's Jinja2 templates (autoescaped: every value shown is escaped unless
it is markup we made, such as a chart), and the headers every dashboard answer carries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import orjson
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse, Response

#: Only our own origin, for everything; no inline script or style; no framing; forms post
#: only here. Nothing a page needs comes from anywhere else.
CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS: Final = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",  # the one-time link's path never leaves in a Referer
    "x-frame-options": "DENY",
    "cache-control": "no-store",  # pages of private counts are not kept by the browser
}


def number(value: int | None) -> str:
    """``12,345``; None (over an age limit) as an em dash."""
    return "\u2014" if value is None else f"{value:,}"


def percent(value: float | None) -> str:
    return "\u2014" if value is None else f"{value * 100:.2f}%"


_ENV = Environment(
    loader=PackageLoader("engagement_api.dashboard", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["number"] = number
_ENV.filters["percent"] = percent


def page(
    template: str,
    context: Mapping[str, Any],
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    html = _ENV.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status, headers={**HEADERS, **(headers or {})})


def errors_json(messages: list[str], status: int) -> Response:
    """The contract's error body, for the CSV exports (read by programs)."""
    body = orjson.dumps({"errors": messages})
    return Response(body, status, headers=HEADERS, media_type="application/json")


def csv_response(text: str, filename: str) -> Response:
    return Response(
        text,
        headers={**HEADERS, "content-disposition": f'attachment; filename="{filename}"'},
        media_type="text/csv; charset=utf-8",
    )
