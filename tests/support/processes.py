"""Starting and stopping a real `engagement-api serve` process for end-to-end tests, and
running CLI commands (to completion, or in the background to be killed).

The server listens on a port reserved for it (:mod:`tests.support.ports`) until it is stopped,
so that no other test process starts a server on the same port meanwhile."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from tests.support.ports import reserve_port

CLI = [sys.executable, "-m", "engagement_api.cli"]


def run_cli(*args: str, database_url: str, stdin: bytes | None = None) -> str:
    """Run one CLI command to completion; its stdout (fails the test on a non-zero exit)."""
    done = subprocess.run(
        [*CLI, *args, "--database-url", database_url],
        input=stdin,
        capture_output=True,
        check=False,
        timeout=600,
    )
    if done.returncode != 0:
        raise AssertionError(
            f"engagement-api {' '.join(args)} exited {done.returncode}: {done.stderr.decode()}"
        )
    return done.stdout.decode()


def run_cli_json(*args: str, database_url: str) -> Any:
    """Run one CLI command with ``--json``; its output, parsed."""
    return json.loads(run_cli(*args, "--json", database_url=database_url))


def start_cli(*args: str, database_url: str, log_path: Path) -> subprocess.Popen[bytes]:
    """Start a CLI command in its own process group (so that it can be killed whole)."""
    log = log_path.open("ab")
    try:
        return subprocess.Popen(
            [*CLI, *args, "--database-url", database_url],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        log.close()


def ignore_sigint() -> None:
    """A multiprocessing pool's ``initializer``: Ctrl-C is for the test's own process, which then
    ends the pool. (A pool child killed by it is replaced, and the work it had is waited for
    forever, so an interrupted run would hang.)"""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def kill_group(proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> int:
    """Signal the process group of ``proc`` (if it still runs) and reap it; its exit code."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):  # it ended in between
            os.killpg(proc.pid, sig)
    return proc.wait(timeout=30)


class ServerProcess:
    """`engagement-api serve` in a child process on a free loopback port."""

    def __init__(self, database_url: str, log_path: Path, workers: int = 1) -> None:
        self.database_url = database_url
        self.log_path = log_path
        self.workers = workers
        self._port = reserve_port()
        self.port = self._port.number
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        log = self.log_path.open("ab")
        try:
            self.proc = subprocess.Popen(
                [
                    *CLI,
                    "serve",
                    "--port",
                    str(self.port),
                    "--workers",
                    str(self.workers),
                    "--database-url",
                    self.database_url,
                    "--log-level",
                    "warning",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                start_new_session=True,
            )
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        # one client for every poll: creating an httpx.Client loads CA certificates (slow)
        with httpx.Client(timeout=1.0) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise AssertionError(
                        f"server exited with {self.proc.returncode}: {self.log_path.read_text()}"
                    )
                try:
                    if client.get(self.base_url + "/healthz").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        self.kill()
        raise AssertionError(f"server did not start: {self.log_path.read_text()}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group (uvicorn workers included) and reap it; the port is
        released (this object is not started again)."""
        try:
            if self.proc is not None:
                kill_group(self.proc, sig)
                self.proc = None
        finally:
            self._port.release()

    def stop(self) -> None:
        self.kill(signal.SIGTERM)

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
