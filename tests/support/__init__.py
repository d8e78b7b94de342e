"""What the tests share: harnesses, servers, the independent model, and the run's shared servers.

- :mod:`tests.support.shared`: servers started once per test run and used by every xdist
  worker (a pytest plugin, registered by ``tests/conftest.py``);
- :mod:`tests.support.pg`: the throwaway PostgreSQL server (one of those);
- :mod:`tests.support.ports`: loopback ports for servers started in other processes;
- :mod:`tests.support.harness`: the real app in uvicorn on a thread, its world and helpers;
- :mod:`tests.support.model`: an independent model of what the read API should answer;
- :mod:`tests.support.processes`: `engagement-api` commands and servers in child processes.

The fixtures themselves are in ``tests/conftest.py``, one per resource.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

import pytest

#: A fixed "now" for tests: Thursday 2026-11-26 12:30 UTC.
NOW = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)

#: Every store configuration; a test taking the ``store`` fixture runs once per backend.
#: ``clickhouse``: the PostgreSQL catalog with the counters on the run's ClickHouse cluster.
BACKENDS = ["sqlite", "postgresql", "clickhouse"]
#: The configurations of one database each: for tests of what only the catalog side does
#: (credentials, signatures, rate limits, usage, HTTP plumbing), which reads and writes no
#: counter (the ``clickhouse`` configuration runs that code on its PostgreSQL catalog).
SINGLE_DATABASE = ["sqlite", "postgresql"]

#: ``/readyz``'s parts when the counters are in ClickHouse and every part answers.
PARTS_UP: dict[str, Literal["ok", "down"]] = {"catalog": "ok", "counters": "ok", "zookeeper": "ok"}


def backends(names: list[str]) -> Any:
    """A ``backend`` fixture over ``names``, for a folder's conftest or a module that narrows
    the configurations its tests run on (``backend = backends(SINGLE_DATABASE)``)."""

    @pytest.fixture(params=names)
    def backend(request: pytest.FixtureRequest) -> str:
        name: str = request.param
        return name

    return backend


#: For a module of Hypothesis tests beside a live store (``pytestmark = BESIDE_A_POOL``):
#: psycopg_pool draws its connections' expiry jitter from the global ``random`` module, in
#: whichever thread opens a connection (a pool worker, the server's thread), at any moment; when
#: that is while Hypothesis generates an example, Hypothesis takes it for a strategy using
#: ``random`` and warns (an error here), once and not on the replay: a flaky failure.
BESIDE_A_POOL = pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module inside strategies"
    ":hypothesis.errors.HypothesisDeprecationWarning"
)
