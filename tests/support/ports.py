"""Loopback ports for servers that a test starts in another process.

A port found free with ``bind(("127.0.0.1", 0))`` and closed again is anyone's until the server
binds it: another test process's server (xdist's workers, or another run on the machine), or the
kernel choosing it for a ``bind(0)`` or as a client's source port. So the ports handed out here
lie below the kernel's ephemeral range (it never picks those by itself), and each is reserved
machine-wide until released: an exclusive ``flock`` on a lock file named after it, held while the
reservation lives (and dropped by the kernel if the process dies). A reserved port is also
checked to be bindable, so one that a server still listens on is never handed out.

A server that binds its socket in the test's own process (``ThreadServer``) needs none of this:
it binds port 0 and keeps the socket.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import socket
import tempfile
from pathlib import Path

#: Where the lock files live (one empty file per port ever reserved; never removed, since
#: removing a lock file that another process may be about to lock is a race).
LOCK_DIR = Path(tempfile.gettempdir()) / "engagement-api-test-ports"

#: The lowest port handed out.
LOWEST = 10_000


def _ephemeral_start() -> int:
    """The first port of the kernel's ephemeral range (Linux's; 32768 elsewhere, a safe floor)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class Port:
    """A reserved port: :attr:`number` is this process's until :meth:`release`."""

    def __init__(self, number: int, fd: int) -> None:
        self.number = number
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the only descriptor drops the flock
            self._fd = None

    def __repr__(self) -> str:
        return f"Port({self.number})"


def reserve_port() -> Port:
    """A free loopback port below the ephemeral range, reserved until released."""
    end = _ephemeral_start()
    if end - LOWEST < 1000:  # an unusual range: reserve from above it instead
        low, end = 61_000, 65_535
    else:
        low = LOWEST
    LOCK_DIR.mkdir(mode=0o777, exist_ok=True)
    rng = random.SystemRandom()
    for _ in range(500):
        number = rng.randrange(low, end)
        fd = os.open(LOCK_DIR / f"{number}.lock", os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # another process holds it
            os.close(fd)
            continue
        if _bindable(number):
            return Port(number, fd)
        with contextlib.suppress(OSError):
            os.close(fd)
    raise RuntimeError(f"no free port found in [{low}, {end})")
