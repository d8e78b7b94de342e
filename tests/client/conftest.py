"""Fixtures for the client tests: a model server behind httpx.MockTransport, fake time, and
(for end-to-end tests) the real app on a uvicorn thread with a fresh SQLite store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from engagement_api.client import EngagementClient, RetryPolicy
from engagement_api.clock import ManualClock
from engagement_api.store import Store
from tests.api.harness import ThreadServer
from tests.client.fake import FakeServer
from tests.conftest import NOW, make_store


class FakeTime:
    """A monotonic clock and a wall clock that move only when the client sleeps."""

    def __init__(self, wall: float = NOW.timestamp()) -> None:
        self.mono = 0.0
        self.wall_start = wall
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.mono

    def wall(self) -> float:
        return self.wall_start + self.mono

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.mono += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def fake() -> FakeServer:
    return FakeServer()


@pytest.fixture
def make_client(fake: FakeServer, fake_time: FakeTime) -> Iterator[Callable[..., EngagementClient]]:
    made: list[EngagementClient] = []

    def make(**kwargs: Any) -> EngagementClient:
        options: dict[str, Any] = {
            "transport": fake.transport(),
            "sleep": fake_time.sleep,
            "monotonic": fake_time.monotonic,
            "wall_clock": fake_time.wall,
            "random": lambda: 0.0,
            "retry": RetryPolicy(),
            **kwargs,
        }
        client = EngagementClient("http://testserver/insights/engagement", **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


# -- the real server ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def thread_server() -> Iterator[ThreadServer]:
    server = ThreadServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """SQLite only: the client does not care which backend answers (tests/api covers both)."""
    s = make_store("sqlite", tmp_path)
    yield s
    s.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture(autouse=True)
def isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never read the developer's own credentials file or variables."""
    import sys

    home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    if not sys.platform.startswith("linux"):  # XDG_CONFIG_HOME is a Linux (XDG) convention
        monkeypatch.setattr("platformdirs.user_config_path", lambda appname: home / appname)
    import os

    for name in list(os.environ):
        if name.startswith("ENGAGEMENT_API_") and name != "ENGAGEMENT_API_DATABASE_URL":
            monkeypatch.delenv(name)
    return home
