"""Fixtures for the HTTP-level tests: the real app served by uvicorn on a thread.

Every test runs once per backend of ``tests.conftest.BACKENDS`` (SQLite and PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from engagement_api.clock import ManualClock
from engagement_api.store import Store
from tests.api.harness import Api, ThreadServer, build_api
from tests.conftest import BACKENDS, make_store

#: Small body limits, so that 413 is cheap to provoke (requests of the world stay far below).
MAX_BODY_BYTES = 16 * 1024
MAX_INGEST_BYTES = 1024 * 1024  # above COLUMNAR_MIN_BYTES: large batches take the columnar path


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store" in metafunc.fixturenames:
        metafunc.parametrize("store", BACKENDS, indirect=True)


@pytest.fixture
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Overrides the root fixture: a fresh migrated store of the backend chosen above."""
    backend: str = request.param
    s = make_store(backend, tmp_path)
    yield s
    s.close()
    if backend == "postgresql":
        from tests.store.pgserver import shared_cluster

        shared_cluster().drop_database(s.url.rsplit("/", 1)[1])


@pytest.fixture(scope="session")
def thread_server() -> Iterator[ThreadServer]:
    """One uvicorn server for the session; every test plugs in a fresh app and store."""
    server = ThreadServer()
    server.start()
    yield server
    server.stop()


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
    """The server with a fresh store, the world of tests.api.harness loaded over HTTP."""
    return make_api()
