"""``serve --workers N`` (N > 1) on Linux: a listening socket of its own per worker.

uvicorn's own supervisor binds one socket that every worker accepts from, and a worker's event
loop accepts every pending connection when it wakes: clients that connect together (a load
balancer's or a client library's pool of keep-alive connections) mostly land on one worker
while the others idle. Counted with ``ss -tnp`` against ``--workers 2``: wrk's 4 connections
went 4-0 in four runs of six, never 2-2. Here each worker listens on a socket of its own, all
bound to the one port with ``SO_REUSEPORT``, and the kernel spreads new connections over them
by their addresses, each connection independently of the others.

:func:`supervise` runs the workers (spawned processes, each a uvicorn ``Server`` on its socket,
the same app and settings as one worker): a worker that dies is started again on its socket
(what was queued there waits for it, a second or so); one that dies within
:data:`QUICK_EXIT` seconds of its start twice running means it cannot start (a port, a
configuration), and everything stops with exit status 3, as uvicorn does. ``SIGINT`` and
``SIGTERM`` stop every worker (uvicorn's graceful shutdown, then ``SIGKILL`` after
:data:`STOP_TIMEOUT` seconds); ``SIGHUP`` replaces them one at a time (a worker's socket
stays open meanwhile: new connections wait in its queue for the new worker, none is refused).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from multiprocessing.process import BaseProcess
from typing import Any

import uvicorn

log = logging.getLogger("uvicorn.error")

#: A worker that exits sooner than this after its start (seconds) did not start.
QUICK_EXIT = 10.0
#: How long stopping workers may take before they are killed (seconds).
STOP_TIMEOUT = 30.0
#: uvicorn's exit status for a server that could not start.
STARTUP_FAILURE = 3


def available() -> bool:
    """Whether the kernel spreads connections over ``SO_REUSEPORT`` sockets (Linux); elsewhere
    ``serve`` leaves the workers to uvicorn."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def bind_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` sockets bound to ``host:port`` with ``SO_REUSEPORT`` (not listening yet: each
    worker listens on its own). A port already in use by anything, another server of ours
    included, is refused with ``OSError`` (``EADDRINUSE``) first, by binding a socket without
    ``SO_REUSEPORT`` to it; port 0 takes a free port, the same for every socket."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    if port:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    made: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM)
            made.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            port = sock.getsockname()[1]
            sock.set_inheritable(True)
    except BaseException:
        for sock in made:
            sock.close()
        raise
    return made


def _work(options: dict[str, Any], sock: socket.socket) -> None:  # pragma: no cover - a child
    """One worker: uvicorn's server on ``sock`` (runs in the spawned process)."""
    uvicorn.Server(uvicorn.Config(**options)).run(sockets=[sock])


class _Workers:
    """The running workers, one per socket."""

    def __init__(self, options: dict[str, Any], sockets: list[socket.socket]) -> None:
        self._options = options
        self._sockets = sockets
        self._context = multiprocessing.get_context("spawn")
        self.processes: list[BaseProcess] = []
        self.started: list[float] = []

    def start(self, index: int) -> BaseProcess | None:
        """A worker on ``index``'s socket, in the place of the one there (if any); the one
        it replaces (still running, or not), or None."""
        process = self._context.Process(
            target=_work, args=(self._options, self._sockets[index]), name=f"worker-{index}"
        )
        process.start()
        if index == len(self.processes):
            self.processes.append(process)
            self.started.append(time.monotonic())
            return None
        old, self.processes[index] = self.processes[index], process
        self.started[index] = time.monotonic()
        return old

    def start_all(self) -> None:
        for index in range(len(self._sockets)):
            self.start(index)

    def replace(self, index: int) -> None:
        """A new worker on ``index``'s socket, and the old one stopped (it finishes what it is
        answering; the socket stays open, so what arrives meanwhile waits for the new one)."""
        old = self.start(index)
        if old is not None:
            _stop([old])

    def stop_all(self) -> None:
        _stop(self.processes)


def _stop(processes: list[BaseProcess]) -> None:
    for process in processes:
        if process.is_alive() and process.pid is not None:
            os.kill(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join()


def supervise(options: dict[str, Any], sockets: list[socket.socket]) -> int:
    """Serve with a process of ``uvicorn.Config(**options)`` per socket of
    :func:`bind_sockets` until ``SIGINT`` or ``SIGTERM``, then close the sockets; the exit
    status (0, or :data:`STARTUP_FAILURE`)."""
    uvicorn.Config(**options)  # the logging configuration, for this process's own lines
    workers = len(sockets)
    signals: list[int] = []
    wake = threading.Event()

    def note(number: int, frame: object) -> None:
        signals.append(number)
        wake.set()

    previous = {
        sig: signal.signal(sig, note) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    }
    running = _Workers(options, sockets)
    status = 0
    try:
        running.start_all()
        log.info(
            "Started parent process [%d]: %d workers, a socket each (SO_REUSEPORT) on port %d",
            os.getpid(),
            workers,
            sockets[0].getsockname()[1],
        )
        quick = [0] * workers
        while True:
            wake.wait(0.5)
            wake.clear()
            if any(sig != signal.SIGHUP for sig in signals):
                break
            if signals:
                signals.clear()
                log.info("SIGHUP: replacing the workers one at a time")
                for index in range(workers):
                    running.replace(index)
            for index, process in enumerate(running.processes):
                if process.is_alive():
                    continue
                lived = time.monotonic() - running.started[index]
                quick[index] = quick[index] + 1 if lived < QUICK_EXIT else 0
                if quick[index] >= 2:
                    log.error(
                        "worker %d exited twice within %.0f s of its start", index, QUICK_EXIT
                    )
                    status = STARTUP_FAILURE
                    break
                log.warning(
                    "worker [%s] exited (%s); starting another", process.pid, process.exitcode
                )
                running.start(index)
            if status:
                break
    finally:
        running.stop_all()
        for sock in sockets:
            sock.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return status
