"""Fixtures for the HTTP-level tests: the real app served by uvicorn on a thread.

Every test runs once per backend of ``tests.support.BACKENDS`` (SQLite and PostgreSQL): the
``store`` and ``thread_server`` fixtures are the root ones (tests/conftest.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from engagement_api.clock import ManualClock
from engagement_api.store import Store
from tests.support.harness import MAX_BODY_BYTES, MAX_INGEST_BYTES, Api, ThreadServer, build_api


@pytest.fixture
def make_api(
    thread_server: ThreadServer, store: Store, clock: ManualClock
) -> Iterator[Callable[..., Api]]:
    """Plug in an app with settings of the test's choosing (once per test)."""
    with ExitStack() as stack:

        def make(**settings: Any) -> Api:
            merged = {
                "max_body_bytes": MAX_BODY_BYTES,
                "max_ingest_bytes": MAX_INGEST_BYTES,
                **settings,
            }
            return stack.enter_context(build_api(thread_server, store, clock, **merged))

        yield make


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    """The server with a fresh store, the world of tests.support.harness loaded over HTTP."""
    return make_api()
