"""Debian packages that the tests, the benchmarks and ``make demo-cluster`` install when missing
(as root, with ``apt-get``).

One install at a time: dpkg takes a lock of its own and an ``apt-get`` that finds it held fails
at once ("Could not get lock /var/lib/dpkg/lock-frontend"), which is what two test workers
installing Chromium and ClickHouse side by side on a fresh machine ran into. :func:`ensure`
takes a file lock of this project's around the whole install (so our own installs queue, and
the second finds the package there), and tells apt to wait for dpkg's lock as well, should
some other apt hold it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from filelock import FileLock

#: The lock every install of this project takes (one per machine, in the temporary directory).
LOCK = Path(tempfile.gettempdir()) / "engagement-api-apt.lock"

#: How long apt waits for dpkg's own lock when another apt holds it, in seconds.
DPKG_LOCK_WAIT = 600


def ensure(packages: Sequence[str], present: Callable[[], bool]) -> None:
    """Install ``packages`` unless ``present()`` says they are there already (asked again once
    the lock is held: another process may have installed them meanwhile). The package lists are
    refreshed once if the first try fails (a fresh machine may have none). Raises RuntimeError
    with apt's own words if the packages cannot be installed."""
    if present():
        return
    apt = shutil.which("apt-get")
    if apt is None:  # pragma: no cover - the project's machines are Debian
        raise RuntimeError(f"{' '.join(packages)} missing and there is no apt-get to install it")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    wait = ["-o", f"DPkg::Lock::Timeout={DPKG_LOCK_WAIT}"]
    with FileLock(str(LOCK)):
        if present():
            return
        for attempt in range(2):
            done = subprocess.run(
                [apt, *wait, "install", "-y", "-q", *packages],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode == 0 and present():
                return
            if attempt == 0:
                subprocess.run(
                    [apt, *wait, "update", "-q"], env=env, capture_output=True, check=False
                )
    raise RuntimeError(
        f"apt-get install {' '.join(packages)} failed: {(done.stderr or done.stdout)[-2000:]}"
    )
