"""The dashboard: HTML pages served by the API server itself (``/dashboard``; ``/`` redirects
there), for operators (signed in with an admin key: every user, Post, ingest and usage) and
Post owners (signed in with a one-time link: their own Posts only).

- :mod:`.pages`: the pages and their CSV exports (the same URL with ``.csv``);
- :mod:`.signin`: signing in and out;
- :mod:`.guard`: sessions, the operator's pages, CSRF, error pages;
- :mod:`.charts`: bar charts drawn on the server as SVG;
- :mod:`.render`: the Jinja2 templates, the Content-Security-Policy and other headers;
- :mod:`.state`: what the routes share.

Counts are read through :mod:`engagement_api.service.dashboard`, i.e. the public API's read
road. Templates and static files ship in the package; nothing is fetched at run time.
"""

from __future__ import annotations

from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from engagement_api.dashboard import pages, signin
from engagement_api.dashboard.state import DashboardState

__all__ = ["DashboardState", "routes"]

_STATIC = StaticFiles(packages=[("engagement_api.dashboard", "static")])


async def favicon(_request: object) -> Response:
    path, _ = _STATIC.lookup_path("favicon.ico")
    return FileResponse(path, media_type="image/x-icon", headers={"cache-control": "max-age=86400"})


routes: list[BaseRoute] = [
    *pages.routes,
    *signin.routes,
    Route("/favicon.ico", favicon, methods=["GET"]),
    Mount("/dashboard/static", app=_STATIC, name="dashboard-static"),
]
