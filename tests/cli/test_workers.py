"""The sockets of ``serve --workers N`` (engagement_api/cli/workers.py): one per worker on one
port, and a port that anything else holds refused before any is bound."""

from __future__ import annotations

import errno
import os
import select
import signal
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from engagement_api.cli import workers
from engagement_api.cli.server import log_config
from engagement_api.store import open_store

pytestmark = pytest.mark.skipif(not workers.available(), reason="SO_REUSEPORT is Linux's here")


def test_every_socket_takes_the_same_port_and_connections_reach_them() -> None:
    sockets = workers.bind_sockets("127.0.0.1", 0, 3)
    try:
        ports = {s.getsockname()[1] for s in sockets}
        assert len(ports) == 1 and ports != {0}
        for s in sockets:
            s.listen(16)
        port = ports.pop()
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(12)]
        ready, _, _ = select.select(sockets, [], [], 5)
        assert ready  # the connections queue on the group's sockets, one each
        accepted = 0
        for s in sockets:
            s.setblocking(False)
            while True:
                try:
                    conn, _ = s.accept()
                except BlockingIOError:
                    break
                conn.close()
                accepted += 1
        assert accepted == 12
        for c in clients:
            c.close()
    finally:
        for s in sockets:
            s.close()


def test_a_port_in_use_is_refused_before_any_socket_is_bound() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError) as raised:
            workers.bind_sockets("127.0.0.1", port, 2)
        assert raised.value.errno == errno.EADDRINUSE
    group = workers.bind_sockets("127.0.0.1", 0, 2)  # another server's: refused all the same
    try:
        for s in group:
            s.listen()
        with pytest.raises(OSError) as raised:
            workers.bind_sockets("127.0.0.1", group[0].getsockname()[1], 2)
        assert raised.value.errno == errno.EADDRINUSE
    finally:
        for s in group:
            s.close()


def test_the_supervisor_serves_restarts_a_dead_worker_replaces_on_sighup_and_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """:func:`workers.supervise` in this process (its signal handlers need the main thread):
    two workers answer; one SIGKILLed is started again; SIGHUP replaces both; SIGTERM to this
    process stops them, and it returns 0 with every worker gone."""
    url = f"sqlite:///{tmp_path / 'supervised.db'}"
    store = open_store(url)
    store.migrate()
    store.close()
    monkeypatch.setenv("ENGAGEMENT_API_DATABASE_URL", url)  # the spawned workers' settings
    options = {
        "app": "engagement_api.api.asgi:app_from_env",
        "factory": True,
        "log_level": "warning",
        "log_config": log_config("warning"),
        "access_log": False,
    }
    sockets = workers.bind_sockets("127.0.0.1", 0, 2)
    base = f"http://127.0.0.1:{sockets[0].getsockname()[1]}"
    seen: list[set[int]] = []
    failures: list[BaseException] = []

    def drive() -> None:
        try:
            with httpx.Client(timeout=2) as client:
                seen.append(_until_two_serve(client, base, set()))
                os.kill(sorted(seen[0])[0], signal.SIGKILL)  # a worker dies: another starts
                seen.append(_until_two_serve(client, base, {sorted(seen[0])[0]}))
                os.kill(os.getpid(), signal.SIGHUP)  # both replaced
                seen.append(_until_two_serve(client, base, seen[1]))
        except BaseException as exc:  # (reported by the test below)
            failures.append(exc)
        finally:
            os.kill(os.getpid(), signal.SIGTERM)

    driver = threading.Thread(target=drive)
    driver.start()
    status = workers.supervise(options, sockets)
    driver.join()
    assert not failures, failures
    assert status == 0
    assert all(s.fileno() == -1 for s in sockets)  # closed
    assert len(seen) == 3 and all(len(pids) == 2 for pids in seen)
    for pids in seen:
        for pid in pids:
            assert not Path(f"/proc/{pid}").exists() or _zombie(pid)


def _workers_of_this_process() -> set[int]:
    me = os.getpid()
    found = set()
    for task in Path(f"/proc/{me}/task").iterdir():
        try:
            found |= {int(c) for c in (task / "children").read_text().split()}
        except FileNotFoundError:
            continue
    return {pid for pid in found if "multiprocessing.spawn" in _cmdline(pid)}


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return ""


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def _until_two_serve(client: httpx.Client, base: str, gone: set[int]) -> set[int]:
    """Wait until two workers, none of ``gone``, run and /healthz answers; their PIDs."""
    deadline = time.monotonic() + 60
    while True:
        pids = {p for p in _workers_of_this_process() if not _zombie(p)}
        try:
            ok = client.get(base + "/healthz").status_code == 200
        except httpx.TransportError:
            ok = False
        if ok and len(pids) == 2 and not pids & gone:
            return pids
        assert time.monotonic() < deadline, (pids, gone)
        time.sleep(0.1)
