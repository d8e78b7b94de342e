"""Headless Chromium for the dashboard's browser tests: Debian's ``chromium`` package, driven
by the ``playwright`` package. Playwright never downloads a browser here
(``PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD``; the launch names Debian's binary).

:func:`ensure_chromium` installs the package when it is missing (``apt-get``, as root: the
test command runs as root on the developers' machines and in CI), so a fresh machine needs
nothing but ``make test``.
"""

from __future__ import annotations

import os
from pathlib import Path

from devtools import apt

CHROMIUM = "/usr/bin/chromium"
#: Without the background-networking flags Chromium keeps trying hosts this machine cannot
#: reach; the others keep a headless start quick and quiet.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
#: Where each page's screenshot goes (``ENGAGEMENT_API_SCREENSHOTS`` overrides).
SCREENSHOTS = Path(
    os.environ.get(
        "ENGAGEMENT_API_SCREENSHOTS",
        Path(__file__).resolve().parents[2] / "build" / "screenshots",
    )
)

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")


def ensure_chromium() -> str:
    """The path of Debian's Chromium, installed first if it is missing."""
    apt.ensure(["chromium"], Path(CHROMIUM).exists)
    return CHROMIUM
