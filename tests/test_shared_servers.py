"""tests/support/shared.py: a resource shared by the processes of a run is started once, every
process gets the same state (or the same error), and it is stopped once: by the controller at the
end, or by the watchdog when the controller dies. And tests/support/ports.py: a reserved port is
nobody else's until released.

The resource here is a file-based stand-in (a "start" is a line in a file outside the run's
directory, a "stop" another), so that what happened can be read after the directory is gone.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import shared
from tests.support.ports import reserve_port
from tests.support.processes import ignore_sigint
from tests.support.shared import Run, SharedResource, SharedResourceError, State

WITNESS = "ENGAGEMENT_API_TEST_WITNESS"  # where the stand-ins write what was done to them


def _witness() -> Path:
    return Path(os.environ[WITNESS])


class Counted(SharedResource):
    """Starts (slowly enough that callers overlap) and stops by writing lines to the witness."""

    name = "counted"

    def start(self, workdir: Path) -> State:
        with _witness().open("a") as out:
            out.write(f"start {os.getpid()}\n")
        time.sleep(0.3)  # stands in for a server's start: others must wait, not start their own
        (workdir / "server.pid").write_text(str(os.getpid()))
        return {"port": 4242, "by": os.getpid()}

    def stop(self, workdir: Path, state: State | None, *, urgent: bool) -> None:
        started = (workdir / "server.pid").exists()
        with _witness().open("a") as out:
            out.write(f"stop urgent={urgent} state={state is not None} found={started}\n")


class Broken(SharedResource):
    name = "broken"

    def start(self, workdir: Path) -> State:
        with _witness().open("a") as out:
            out.write("start\n")
        raise OSError("no such binary")

    def stop(self, workdir: Path, state: State | None, *, urgent: bool) -> None:
        with _witness().open("a") as out:
            out.write(f"stop state={state is not None}\n")


def _acquire(directory: str, name: str) -> object:
    """In a child process: acquire a resource of the run in ``directory``; its state, or the
    error's message."""
    run = Run(Path(directory), os.getppid(), is_controller=False, watchdog=False)
    resource = Counted() if name == "counted" else Broken()
    try:
        return dict(shared.acquire_in(run, resource))
    except SharedResourceError as exc:
        return str(exc).splitlines()[0]


@pytest.fixture
def witness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "witness.txt"
    path.touch()
    monkeypatch.setenv(WITNESS, str(path))
    return path


def test_processes_of_a_run_start_a_resource_once_and_share_its_state(
    tmp_path: Path, witness: Path
) -> None:
    directory = tmp_path / "run"
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4, ignore_sigint) as procs:
        states = procs.starmap(_acquire, [(str(directory), "counted")] * 4)
    assert len(witness.read_text().splitlines()) == 1  # one start
    assert all(state == states[0] for state in states)
    assert isinstance(states[0], dict) and states[0]["port"] == 4242

    assert shared.stop_all(directory, urgent=False) == []
    assert witness.read_text().splitlines()[1:] == ["stop urgent=False state=True found=True"]
    assert not directory.exists()


def test_a_resource_that_does_not_start_fails_every_process_alike(
    tmp_path: Path, witness: Path
) -> None:
    directory = tmp_path / "run"
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(3, ignore_sigint) as procs:
        errors = procs.starmap(_acquire, [(str(directory), "broken")] * 3)
    assert errors == ["broken did not start:"] * 3
    assert witness.read_text().splitlines() == ["start"]  # tried once, never again
    assert shared.stop_all(directory, urgent=False) == []
    assert witness.read_text().splitlines() == ["start", "stop state=False"]


def test_the_watchdog_stops_the_resources_when_the_controller_dies(
    tmp_path: Path, witness: Path
) -> None:
    directory = tmp_path / "run"
    controller = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        run = Run(directory, controller.pid, is_controller=False)  # (with its watchdog)
        assert shared.acquire_in(run, Counted())["port"] == 4242
        assert (directory / "watchdog.started").exists()
        assert witness.read_text().splitlines()[1:] == []  # nothing stopped while it lives
    finally:
        controller.kill()
        controller.wait(timeout=30)
    deadline = time.monotonic() + 60
    while directory.exists():  # the watchdog removes it once it has stopped everything
        assert time.monotonic() < deadline, "the watchdog did not clean up"
        time.sleep(0.05)
    assert witness.read_text().splitlines()[1:] == ["stop urgent=True state=True found=True"]


def test_a_reserved_port_is_nobody_elses_until_released() -> None:
    first = reserve_port()
    try:
        others = [reserve_port() for _ in range(20)]
        assert first.number not in {p.number for p in others}
        for port in others:
            port.release()
        # below the ephemeral range: never one the kernel hands out by itself
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
        assert first.number < low
    finally:
        first.release()
