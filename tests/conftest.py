"""Shared fixtures: a real store per backend (SQLite files now; every backend in BACKENDS)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engagement_api.clock import ManualClock
from engagement_api.store import Store, open_store

#: A fixed "now" for tests: Thursday 2026-11-26 12:30 UTC.
NOW = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)

BACKENDS = ["sqlite"]


def make_store(backend: str, tmp_path: Path) -> Store:
    if backend == "sqlite":
        store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    else:  # pragma: no cover - new backends register here
        raise ValueError(backend)
    store.migrate()
    return store


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s = make_store(request.param, tmp_path)
    yield s
    s.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)
