"""A stand-in served by uvicorn on a socket of its own: on a thread (the pytest fixture) or in
the foreground (``engagement-api standin``). Port 0 picks a free port; ``base_url`` tells it."""

from __future__ import annotations

import signal
import socket
import tempfile
import threading
from datetime import datetime
from pathlib import Path
from types import FrameType

import uvicorn

from engagement_api.api.standin import StandinApp
from engagement_api.service.standin import SeededStandin, StandinData
from engagement_api.settings import Settings

#: Seconds uvicorn waits for requests still held (a ``timeout`` fault) when it stops.
GRACEFUL_SHUTDOWN = 1


class _Stopped(Exception):
    """SIGINT or SIGTERM, raised again by uvicorn once it has stopped."""


def _stop(signum: int, frame: FrameType | None) -> None:
    raise _Stopped


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
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # IPPROTO_TCP named: asyncio then sets TCP_NODELAY on accepted connections.
        self._sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._sock.bind((host, port))
            self._sock.listen(2048)  # connections wait in the backlog until uvicorn accepts them
        except OSError:
            self._sock.close()
            raise
        self.port: int = self._sock.getsockname()[1]
        shown = f"[{host}]" if family == socket.AF_INET6 else host
        self.base_url = f"http://{shown}:{self.port}"
        # seeded once the address is ours (a port in use fails before a second of seeding)
        self._folder = tempfile.TemporaryDirectory(prefix="engagement-standin-")
        self.app = StandinApp(
            SeededStandin(Path(self._folder.name), seed, now), settings or Settings()
        )
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
        """Serve in this (main) thread until SIGINT or SIGTERM, then clean up and return.

        uvicorn stops gracefully on either signal, then raises it again with the handlers it
        found; the ones set here turn that into a normal return (and the temporary files are
        removed), instead of the default handler ending the process first."""
        previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self._server.run(sockets=[self._sock])
        except _Stopped:
            pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
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
