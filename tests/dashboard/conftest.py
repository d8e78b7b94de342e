"""The dashboard's fixtures: one headless Chromium and one server per module.

- ``browser``: Debian's Chromium (installed when missing, :mod:`tests.support.browser`) driven
  by playwright; every browser test is in the xdist group ``browser``, so one worker runs
  them all and starts the browser once. Module-scoped, not session-scoped: playwright's sync
  API keeps an asyncio loop running in the thread while it is started, and the tests that run
  after these on the same worker (``asyncio.run``) need it stopped.
- ``dashboard``: the real app in uvicorn on a thread of its own (a free loopback port), on a
  SQLite store with the harness's world (alice, bob, carol and their Posts) and a few weeks of
  events, at the tests' frozen NOW; an admin key and the API's own credentials.
- ``pages``: a fresh browser context (its own cookies) per call, each page watched for console
  errors; :meth:`Pages.check` takes the page's screenshot and runs axe-core on it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright

from engagement_api.clock import ManualClock
from engagement_api.service import credentials
from engagement_api.store import open_store
from tests.support import NOW
from tests.support.browser import ARGS, SCREENSHOTS, ensure_chromium
from tests.support.harness import (
    ALICE,
    BOB_POST,
    GIF,
    OLD,
    PHOTO,
    RECENT,
    Api,
    ThreadServer,
    build_api,
)
from tests.support.model import Event

AXE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text("utf-8")
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                      nodes: v.nodes.map(n => n.target.join(" "))}));
}"""

#: The event types the world's Posts get, with a weight each.
TYPES = {
    "impressions": 40,
    "favorites": 6,
    "retweets": 2,
    "replies": 1,
    "url_clicks": 3,
    "detail_expands": 4,
    "user_profile_clicks": 1,
    "video_views": 5,
}


def world_events() -> list[Event]:
    """Three weeks of hourly events on alice's Posts (and bob's), some in the last 28 hours."""
    events = []
    posts = ((RECENT, 0, 10), (PHOTO, 3, 3), (OLD, 5, 21), (GIF, 7, 2), (BOB_POST, 2, 20))
    for post, phase, days in posts:  # (days: the Post's age, or 21)
        for hour in range(0, days * 24 - 1, 5):
            at = NOW - timedelta(hours=hour, minutes=7)
            for i, (kind, weight) in enumerate(TYPES.items()):
                count = (hour * 7 + phase + i * 3) % (weight + 1)
                if count and (kind != "video_views" or post in (RECENT, BOB_POST)):
                    events.append(Event(post, kind, at, count))
    return events


@dataclass
class Dashboard:
    api: Api
    admin_key: str

    @property
    def base_url(self) -> str:
        return self.api.base_url

    def link(self, user_id: int = ALICE) -> str:
        issued = credentials.create_dashboard_link(
            self.api.store, self.api.clock, user_id, self.base_url, 900
        )
        return issued.url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    executable = ensure_chromium()  # (one apt-get at a time: devtools/apt.py)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    folder = tmp_path_factory.mktemp("dashboard")
    store = open_store(f"sqlite:///{folder / 'store.db'}")
    store.migrate()
    clock = ManualClock(NOW)
    server = ThreadServer()
    server.start()
    try:
        with build_api(server, store, clock, public_url=server.base_url) as api:
            api.send_events(world_events())
            yield Dashboard(api, credentials.create_admin_key(store, clock))
    finally:
        server.stop()
        store.close()


@dataclass
class Watched:
    """A page and the console errors seen on it (Chromium logs a failed load as one: a page
    expected to answer 403 or 404 says so with ``expect``)."""

    page: Page
    errors: list[str] = field(default_factory=list)
    expected: set[int] = field(default_factory=set)

    def expect(self, status: int) -> None:
        self.expected.add(status)

    def unexpected(self) -> list[str]:
        allowed = [f"status of {s} " for s in self.expected]
        return [e for e in self.errors if not any(a in e for a in allowed)]


class Pages:
    def __init__(self, browser: Browser, dashboard: Dashboard) -> None:
        self.browser = browser
        self.dashboard = dashboard
        self.contexts: list[BrowserContext] = []
        self.watched: list[Watched] = []

    def open(self, **options: Any) -> Watched:
        """A page in a context of its own (no cookies), its console watched."""
        context = self.browser.new_context(base_url=self.dashboard.base_url, **options)
        self.contexts.append(context)
        watched = Watched(context.new_page())

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                watched.errors.append(message.text)

        watched.page.on("console", on_console)
        watched.page.on("pageerror", lambda error: watched.errors.append(str(error)))
        self.watched.append(watched)
        return watched

    def signed_in_operator(self, **options: Any) -> Watched:
        watched = self.open(**options)
        page = watched.page
        page.goto("/dashboard/sign-in")
        page.get_by_label("Admin key").fill(self.dashboard.admin_key)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"/dashboard$"))
        return watched

    def signed_in_owner(self, user_id: int = ALICE) -> Watched:
        watched = self.open()
        watched.page.goto(self.dashboard.link(user_id))
        watched.page.get_by_role("button", name="Sign in").click()
        watched.page.wait_for_url(re.compile(r"/dashboard$"))
        return watched

    def check(self, watched: Watched, name: str) -> None:
        """The page's screenshot, then axe-core: no serious or critical violation."""
        page = watched.page
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        page.evaluate(AXE)
        violations = page.evaluate(AXE_RUN)
        assert [v for v in violations if v["impact"] in ("serious", "critical")] == [], name

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def pages(browser: Browser, dashboard: Dashboard) -> Iterator[Pages]:
    opened = Pages(browser, dashboard)
    yield opened
    opened.close()
    assert [w.unexpected() for w in opened.watched] == [[] for _ in opened.watched]
