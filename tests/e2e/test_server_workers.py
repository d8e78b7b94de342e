"""`serve --workers 2` on Linux: a listening socket per worker (``SO_REUSEPORT``), so that
keep-alive connections opened together reach every worker (with one shared socket, the worker
that woke first accepted them all); a port in use is refused; ``SIGHUP`` replaces the workers.

Which worker holds a connection is read from ``/proc``: a worker's socket inodes
(``/proc/PID/fd``) against the established connections of the port (``/proc/net/tcp``).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from engagement_api.cli import workers
from tests.support.processes import CLI, ServerProcess, run_cli

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not workers.available(), reason="SO_REUSEPORT spreading is Linux's"),
]

CONNECTIONS = 16  # all on one of two workers by chance: 2 / 2**16


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except FileNotFoundError:  # a thread that has just ended
            continue
    return found


def _serving(parent: int, port: int) -> set[int]:
    """The children of ``parent`` listening on ``port``."""
    return {child for child in _children(parent) if _listens(child, port)}


def _wait_serving(parent: int, port: int, count: int, other_than: set[int]) -> set[int]:
    """Wait until ``count`` children (none of ``other_than``) listen on ``port``: /healthz
    answers as soon as the first does, and the kernel hashes only over listening sockets."""
    deadline = time.monotonic() + 60
    while True:
        now = _serving(parent, port)
        if len(now) == count and not now & other_than:
            return now
        assert time.monotonic() < deadline, f"listening: {now}, before: {other_than}"
        time.sleep(0.05)


def _inodes(pid: int) -> set[str]:
    out: set[str] = set()
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except FileNotFoundError:  # it has just exited
        return out
    for fd in fds:
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            out.add(target[8:-1])
    return out


def _established(port: int) -> dict[str, str]:
    """inode -> remote address of the established connections whose local port is ``port``."""
    found = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
        if state == "01" and int(local.split(":")[1], 16) == port:
            found[inode] = remote
    return found


def _owners(server: ServerProcess) -> Counter[int]:
    """How many of the port's established connections each child of the server holds."""
    assert server.proc is not None
    connections = _established(server.port)
    owners: Counter[int] = Counter()
    for child in _children(server.proc.pid):
        held = _inodes(child) & connections.keys()
        if held:
            owners[child] = len(held)
    return owners


def _get(sock: socket.socket) -> bytes:
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, "the server closed the connection"
        data += chunk
    return data.split(b"\r\n", 1)[0]


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'workers.db'}"
    run_cli("migrate", database_url=url)
    return url


def test_connections_opened_together_reach_both_workers(database_url: str, tmp_path: Path) -> None:
    with ServerProcess(database_url, tmp_path / "server.log", workers=2) as server:
        assert server.proc is not None
        _wait_serving(server.proc.pid, server.port, 2, set())
        sockets = [
            socket.create_connection(("127.0.0.1", server.port), timeout=10)
            for _ in range(CONNECTIONS)
        ]  # all connected before the first request, as a client pool opens them
        try:
            assert [_get(s) for s in sockets] == [b"HTTP/1.1 200 OK"] * CONNECTIONS
            owners = _owners(server)
        finally:
            for s in sockets:
                s.close()
    assert sum(owners.values()) == CONNECTIONS
    assert len(owners) == 2, owners


def test_a_port_in_use_is_refused(database_url: str, tmp_path: Path) -> None:
    with ServerProcess(database_url, tmp_path / "server.log", workers=2) as server:
        second = subprocess.run(
            [
                *CLI,
                "serve",
                "--port",
                str(server.port),
                "--workers",
                "2",
                "--database-url",
                database_url,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert httpx.get(server.base_url + "/healthz", timeout=10).status_code == 200
    assert second.returncode != 0
    assert f"cannot listen on 127.0.0.1:{server.port}" in second.stderr
    assert "Address already in use" in second.stderr


def test_sighup_replaces_the_workers_and_serving_goes_on(database_url: str, tmp_path: Path) -> None:
    with ServerProcess(database_url, tmp_path / "server.log", workers=2) as server:
        assert server.proc is not None
        parent = server.proc.pid
        before = _wait_serving(parent, server.port, 2, set())
        os.kill(parent, signal.SIGHUP)
        _wait_serving(parent, server.port, 2, before)
        with httpx.Client(timeout=10) as client:  # new connections, answered by the new ones
            assert {client.get(server.base_url + "/healthz").status_code for _ in range(20)} == {
                200
            }


def _listens(pid: int, port: int) -> bool:
    listening = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "0A" and int(fields[1].split(":")[1], 16) == port:
            listening.add(fields[9])
    return bool(_inodes(pid) & listening)
