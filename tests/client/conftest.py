"""Fixtures for the client tests: a model server behind httpx.MockTransport, fake time, and
(for end-to-end tests) the real app on the root ``thread_server`` with the root ``store``, on
SQLite only."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from engagement_api.client import EngagementClient, RetryPolicy
from tests.client.fake import FakeServer, FakeTime


@pytest.fixture
def backend() -> str:
    """SQLite only: the client does not care which backend answers (tests/api covers both)."""
    return "sqlite"


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


@pytest.fixture(autouse=True)
def isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never read the developer's own credentials file or variables."""
    home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    if not sys.platform.startswith("linux"):  # XDG_CONFIG_HOME is a Linux (XDG) convention
        monkeypatch.setattr("platformdirs.user_config_path", lambda appname: home / appname)
    for name in list(os.environ):
        if name.startswith("ENGAGEMENT_API_") and name != "ENGAGEMENT_API_DATABASE_URL":
            monkeypatch.delenv(name)
    return home
