"""The pytest plugin (entry point ``pytest11``): the ``engagement_standin`` fixture.

One stand-in per test session (per xdist worker), seeded from ``--engagement-standin-seed``
(default 0) and frozen at ``--engagement-standin-now`` (default: the wall time at start); each
test gets it back in the seeded state (reset before the test). Imports of the package happen in
the fixtures, not here, so loading the plugin costs nothing until a test asks for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from engagement_api.testing.standin import Standin


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("engagement-standin", "engagement-api stand-in")
    group.addoption(
        "--engagement-standin-seed",
        type=int,
        default=0,
        help="Seed of the engagement_standin fixture's data set (default 0).",
    )
    group.addoption(
        "--engagement-standin-now",
        default=None,
        metavar="DATE-TIME",
        help="Frozen data clock of the engagement_standin fixture, e.g. 2026-01-01T12:00:00Z "
        "(default: the wall time at start).",
    )


@pytest.fixture(scope="session")
def engagement_standin_session(request: pytest.FixtureRequest) -> Iterator[Standin]:
    """The session's stand-in, as it is (``engagement_standin`` resets it for each test)."""
    from engagement_api.contract.times import parse_timestamp
    from engagement_api.testing.standin import Standin

    raw = request.config.getoption("--engagement-standin-now")
    standin = Standin.start(
        seed=request.config.getoption("--engagement-standin-seed"),
        now=None if raw is None else parse_timestamp(raw),
    )
    yield standin
    standin.stop()


@pytest.fixture
def engagement_standin(engagement_standin_session: Standin) -> Standin:
    """A seeded stand-in for this test: attributes ``base_url``, ``consumer_key``,
    ``consumer_secret``, ``bearer_token``, ``access_token``, ``access_token_secret``,
    ``user_id``, ``ingest_key``, ``post_ids``; ``client()`` gives a ready EngagementClient."""
    engagement_standin_session.reset()
    return engagement_standin_session
