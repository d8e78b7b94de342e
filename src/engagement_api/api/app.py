"""The application factory: ``create_app(settings)``; no module-level configuration."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware

from engagement_api.api import engagement, health, ingest
from engagement_api.api.responses import EXCEPTION_HANDLERS, CatchAllMiddleware
from engagement_api.api.state import AppState
from engagement_api.settings import Settings
from engagement_api.store.base import open_store
from engagement_api.store.protocols import Store


def create_app(settings: Settings, store: Store | None = None) -> Starlette:
    """Build the ASGI app. Without ``store`` one is opened from ``settings.database_url`` and its
    schema is checked (the server refuses to start on a missing or newer schema)."""
    if store is None:
        store = open_store(settings.database_url)
        store.check_schema()
    app = Starlette(
        routes=[*engagement.routes, *ingest.routes, *health.routes],
        middleware=[
            Middleware(GZipMiddleware, minimum_size=0, compresslevel=6),
            Middleware(CatchAllMiddleware),
        ],
        exception_handlers=dict(EXCEPTION_HANDLERS),
    )
    app.router.redirect_slashes = False  # /totals/ is an unknown path (404), not a redirect
    app.state.engagement = AppState.build(settings, store)
    return app
