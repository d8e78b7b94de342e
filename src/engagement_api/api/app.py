"""The application factory: ``create_app(settings)``; no module-level configuration."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware

from engagement_api.api import health, ingest, openapi, prometheus, reading, sweep, usage
from engagement_api.api.errors import EXCEPTION_HANDLERS, CatchAllMiddleware
from engagement_api.api.logging import AccessLogMiddleware
from engagement_api.api.prometheus import Metrics, MetricsMiddleware
from engagement_api.api.state import AppState
from engagement_api.dashboard import DashboardState
from engagement_api.dashboard import routes as dashboard_routes
from engagement_api.settings import Settings
from engagement_api.store.protocols import Store


def create_app(settings: Settings, store: Store | None = None) -> Starlette:
    """Build the ASGI app. Without ``store`` one is opened from ``settings.database_url`` and its
    schema is checked (the server refuses to start on a missing or newer schema)."""
    if store is None:
        store = settings.open_store()
        store.check_schema()
    counters = Metrics()
    app = Starlette(
        routes=[
            *reading.routes,
            *ingest.routes,
            *health.routes,
            *usage.routes,
            *prometheus.routes,
            *openapi.routes,
            *dashboard_routes,
        ],
        middleware=[
            # outermost first: the log line and the metrics see the final status (500 included)
            Middleware(AccessLogMiddleware),
            Middleware(MetricsMiddleware, metrics=counters),
            Middleware(GZipMiddleware, minimum_size=0, compresslevel=settings.gzip_level),
            Middleware(CatchAllMiddleware),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=sweep.lifespan(store),
    )
    app.router.redirect_slashes = False  # /totals/ is an unknown path (404), not a redirect
    app.state.engagement = AppState.build(settings, store)
    app.state.dashboard = DashboardState.build(settings, store, app.state.engagement.reader)
    app.state.metrics = counters
    app.state.openapi = openapi.document(settings)
    return app
