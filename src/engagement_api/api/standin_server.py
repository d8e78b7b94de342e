"""A stand-in served by uvicorn on a socket of its own: on a thread (the pytest fixture) or in
the foreground (``engagement-api standin``). Port 0 picks a free port; ``base_url`` tells it."""

from __future__ import annotations

import socket
import tempfile
import threading
from datetime import datetime
from pathlib import Path

import uvicorn

from engagement_api.api.standin import StandinApp
from engagement_api.service.standin import SeededStandin, StandinData
from engagement_api.settings import Settings

#: Seconds uvicorn waits for requests still held (a ``timeout`` fault) when it stops.
GRACEFUL_SHUTDOWN = 1


class StandinServer:
    """A seeded stand-in in a temporary folder, listening on ``host:port``."""

    def __init__(
        self,
        seed: int,
        now: datetime,
        host: str = "127.0.0.1",
        port: int = 0,
        settings: Settings | None = None,
    ) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="engagement-standin-")
        self.app = StandinApp(
            SeededStandin(Path(self._folder.name), seed, now), settings or Settings()
        )
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # IPPROTO_TCP named: asyncio then sets TCP_NODELAY on accepted connections.
        self._sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self._sock.listen(2048)  # connections wait in the backlog until uvicorn accepts them
        self.port: int = self._sock.getsockname()[1]
        shown = f"[{host}]" if family == socket.AF_INET6 else host
        self.base_url = f"http://{shown}:{self.port}"
        config = uvicorn.Config(
            self.app,
            interface="asgi3",
            lifespan="off",
            access_log=False,
            log_level="warning",
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def data(self) -> StandinData:
        return self.app.data

    def info(self) -> dict[str, object]:
        return self.data.info(self.base_url)

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (uvicorn handles SIGINT and SIGTERM)."""
        try:
            self._server.run(sockets=[self._sock])
        finally:
            self._close()

    def start(self, timeout: float = 10.0) -> None:
        """Serve on a daemon thread; returns once uvicorn listens."""
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )
        self._thread.start()
        pause = threading.Event()
        for _ in range(int(timeout / 0.01)):
            if self._server.started or not self._thread.is_alive():
                break
            pause.wait(0.01)
        if not self._server.started:
            self.stop()
            raise RuntimeError("the stand-in did not start")

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10 + GRACEFUL_SHUTDOWN)
        self._close()

    def _close(self) -> None:
        self._sock.close()
        self.app.close()
        self._folder.cleanup()
