"""The benchmark's HTTP server: the real app (``create_app``) under uvicorn, with the fixed
clock of the benchmark, in its own process (so it does not share the client's GIL).

    python -m bench.server DATABASE_URL NOW PORT [WORKERS]

As ``engagement-api serve`` does it, the database URL reaches every worker through the
environment (``ENGAGEMENT_API_DATABASE_URL``, read by ``Settings.from_env``), each worker builds
the same app (``uvicorn --factory``), and connections get TCP_NODELAY (the app's
``NoDelayHTTPProtocol``; without it, with several workers, small responses wait for the client's
delayed ACK). Only the clock differs: the benchmark's fixed ``now`` (``BENCH_NOW``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import datetime

import httpx
import uvicorn
from starlette.applications import Starlette

from engagement_api.api import create_app
from engagement_api.api.asgi import freeze_startup_heap
from engagement_api.clock import ManualClock
from engagement_api.settings import ENV_PREFIX, Settings

_URL = ENV_PREFIX + "DATABASE_URL"
_NOW = "BENCH_NOW"


def app() -> Starlette:
    """The app factory each uvicorn worker calls."""
    now = datetime.fromisoformat(os.environ[_NOW])
    built = create_app(Settings.from_env(clock=ManualClock(now)))
    freeze_startup_heap()  # as engagement-api serve does
    return built


def main(argv: list[str]) -> None:
    url, now, port = argv[0], argv[1], int(argv[2])
    workers = int(argv[3]) if len(argv) > 3 else 1
    os.environ[_URL] = url
    os.environ[_NOW] = now
    uvicorn.run(
        "bench.server:app",
        factory=True,
        host="127.0.0.1",
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        http="engagement_api.api.protocol:NoDelayHTTPProtocol",
        server_header=False,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """``python -m bench.server`` in a child process on a free loopback port."""

    def __init__(self, database_url: str, now: datetime, log_path: str, workers: int = 1):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        args = [database_url, now.isoformat(), str(self.port), str(workers)]
        self.log = open(log_path, "ab")  # noqa: SIM115 (closed in stop())
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.server", *args],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"bench server exited with {self.proc.returncode}")
            try:
                if httpx.get(self.base_url + "/readyz", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError("bench server did not become ready")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        self.log.close()


if __name__ == "__main__":
    main(sys.argv[1:])
