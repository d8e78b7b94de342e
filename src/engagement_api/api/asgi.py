"""Entry point for ASGI servers: ``uvicorn --factory engagement_api.api.asgi:app_from_env``.

Settings come from ``ENGAGEMENT_API_*`` environment variables, so every worker process builds
the same app.
"""

from __future__ import annotations

from starlette.applications import Starlette

from engagement_api.api.app import create_app
from engagement_api.settings import Settings


def app_from_env() -> Starlette:
    return create_app(Settings.from_env())
