"""Headless Chromium for the dashboard's browser tests: Debian's ``chromium`` package, driven
by the ``playwright`` package. Playwright never downloads a browser here
(``PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD``; the launch names Debian's binary).

:func:`ensure_chromium` installs the package when it is missing (``apt-get``, as root: the
test command runs as root on the developers' machines and in CI), so a fresh machine needs
nothing but ``make test``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

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
    if Path(CHROMIUM).exists():
        return CHROMIUM
    apt = shutil.which("apt-get")
    if apt is None:  # pragma: no cover - the project's machines are Debian
        raise RuntimeError(f"{CHROMIUM} is missing and there is no apt-get to install it")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([apt, "update", "-q"], check=True, env=env, capture_output=True)
    subprocess.run(
        [apt, "install", "-y", "-q", "chromium"], check=True, env=env, capture_output=True
    )
    if not Path(CHROMIUM).exists():  # pragma: no cover - a broken package
        raise RuntimeError(f"apt-get installed chromium but {CHROMIUM} is missing")
    return CHROMIUM
