"""Entry point for ASGI servers: ``uvicorn --factory engagement_api.api.asgi:app_from_env``.

Settings come from ``ENGAGEMENT_API_*`` environment variables, so every worker process builds
the same app. Once it is built, the start-up heap (modules, the app, the store's connections)
is collected and frozen (:func:`gc.freeze`): the collector never walks it again, so a full
collection while answering costs what the requests allocated, not the whole process (about
20 ms otherwise).
"""

from __future__ import annotations

import gc

from starlette.applications import Starlette

from engagement_api.api.app import create_app
from engagement_api.settings import Settings


def freeze_startup_heap() -> None:
    """Collect once, then move every object alive into the collector's permanent generation."""
    gc.collect()
    gc.freeze()


def app_from_env() -> Starlette:
    app = create_app(Settings.from_env())
    freeze_startup_heap()
    return app
