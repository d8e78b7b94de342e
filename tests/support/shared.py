"""Expensive servers shared by every process of one test run, started once, stopped once.

With pytest-xdist each worker is a pytest session of its own, so a session fixture alone would
start one server per worker. A :class:`SharedResource` (the throwaway PostgreSQL server; next, a
ZooKeeper + ClickHouse cluster) is instead started by the first process of the run that asks for
it, and every other process connects to the same one:

- :func:`acquire` takes the resource's file lock in the run's directory; the first caller runs
  :meth:`SharedResource.start` and writes what it returns (ports, URLs: JSON) to
  ``<name>.json``; every later caller, in any worker, reads that file. A start that fails is
  written to ``<name>.failed`` and every caller gets the same error (never tried again, nothing
  skipped).
- The run's directory is keyed by xdist's ``testrun_uid`` (the controller sets ``--testrunuid``
  so that it knows it too): ``<tmp>/engagement-api-run-<uid>/``. Each resource has a work
  directory there (``<name>/``: data, logs, pid files) naming the class that stops it.
- The controller (the only process without xdist) stops every resource of the run in its
  ``pytest_unconfigure``, after the workers are gone, then removes the directory. That runs on
  Ctrl-C too. For a controller that dies without unconfiguring (SIGTERM, SIGKILL), the first
  start of a run also starts a detached watchdog (``python -m tests.support.shared watch``) that
  waits for the controller's process to end, then does the same with ``urgent=True``.

A resource must be a module-level class with a no-argument constructor (the controller and the
watchdog make their own instance to stop it), and its ``stop`` must work from the work directory
alone: ``state`` is ``None`` when the start did not finish, and whatever the start left running
must still go (find it through files in ``workdir``, never through the starting process's
memory: that process may be long gone).

Usage, in a session fixture (see ``tests/conftest.py``)::

    state = shared.acquire(request.config, PostgresResource())
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pytest
from filelock import FileLock

ROOT = Path(__file__).resolve().parents[2]

State = Mapping[str, Any]


class SharedResource(ABC):
    """Something started once per test run and used by every worker."""

    #: Its name in the run's directory (a file name).
    name: ClassVar[str]
    #: How long a caller waits for another process's start to finish, in seconds.
    start_timeout: ClassVar[float] = 600.0

    @abstractmethod
    def start(self, workdir: Path) -> State:
        """Start it, keeping whatever it needs in ``workdir`` (created, empty); return what a
        client needs to use it (JSON-serialisable). On failure, leave nothing running."""

    @abstractmethod
    def stop(self, workdir: Path, state: State | None, *, urgent: bool) -> None:
        """Stop whatever runs from ``workdir`` (``state`` is None if the start did not finish);
        ``urgent``: the run is gone, be quick. The caller removes ``workdir`` afterwards."""


class SharedResourceError(RuntimeError):
    """The resource did not start (in this process or another one of the run)."""


@dataclass
class Run:
    """This process's view of the run: its directory, the controller's pid, what it holds.
    ``watchdog``: start the watchdog with the first resource (off only in tests of this module)."""

    directory: Path
    controller_pid: int
    is_controller: bool
    watchdog: bool = True
    states: dict[str, State] = field(default_factory=dict)

    def workdir(self, resource: SharedResource) -> Path:
        """The resource's work directory (made, and marked with the class that stops it)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        where = self.directory / resource.name
        where.mkdir(exist_ok=True)
        marker = where / "resource"
        if not marker.exists():
            cls = type(resource)
            marker.write_text(f"{cls.__module__}:{cls.__qualname__}\n")
        return where


_RUN = pytest.StashKey[Run]()


def run_of(config: pytest.Config) -> Run:
    return config.stash[_RUN]


def acquire(config: pytest.Config, resource: SharedResource) -> State:
    """The running resource's state, started by this call if no process of the run has yet."""
    return acquire_in(run_of(config), resource)


def acquire_in(run: Run, resource: SharedResource) -> State:
    """:func:`acquire` for a :class:`Run` of the caller's own."""
    if resource.name in run.states:
        return run.states[resource.name]
    workdir = run.workdir(resource)
    ready = run.directory / f"{resource.name}.json"
    failed = run.directory / f"{resource.name}.failed"
    with FileLock(run.directory / f"{resource.name}.lock", timeout=resource.start_timeout):
        if failed.exists():
            raise SharedResourceError(failed.read_text())
        if not ready.exists():
            if run.watchdog:
                _ensure_watchdog(run)
            try:
                state = resource.start(workdir)
            except Exception as exc:
                text = f"{resource.name} did not start:\n{traceback.format_exc()}"
                failed.write_text(text)
                raise SharedResourceError(text) from exc
            partial = ready.with_suffix(".partial")
            partial.write_text(json.dumps(state))
            partial.replace(ready)  # readers see all of it or nothing
        run.states[resource.name] = json.loads(ready.read_text())
    return run.states[resource.name]


def workdir(config: pytest.Config, resource: SharedResource) -> Path:
    """The resource's work directory, for things a test starts itself beside the shared one
    (e.g. a PostgreSQL server of its own): whatever the resource's ``stop`` finds there at the
    end of the run is stopped with it, even if the test never got to clean up."""
    return run_of(config).workdir(resource)


# -- the end of the run -------------------------------------------------------------------------


def _resources(directory: Path) -> Iterator[tuple[SharedResource, Path, State | None]]:
    for marker in sorted(directory.glob("*/resource")):
        module, _, qualname = marker.read_text().strip().partition(":")
        target: Any = importlib.import_module(module)
        for part in qualname.split("."):
            target = getattr(target, part)
        resource = target()
        assert isinstance(resource, SharedResource), marker
        ready = directory / f"{resource.name}.json"
        state = json.loads(ready.read_text()) if ready.exists() else None
        yield resource, marker.parent, state


def stop_all(directory: Path, *, urgent: bool) -> list[str]:
    """Stop every resource of the run in ``directory``, then remove it; the errors, if any."""
    errors: list[str] = []
    if not directory.is_dir():
        return errors
    try:
        for resource, where, state in _resources(directory):
            try:
                resource.stop(where, state, urgent=urgent)
            except Exception:
                errors.append(f"{resource.name}: {traceback.format_exc()}")
    except Exception:  # a marker that cannot be read or imported
        errors.append(traceback.format_exc())
    shutil.rmtree(directory, ignore_errors=True)
    return errors


# -- the watchdog -------------------------------------------------------------------------------


def _ensure_watchdog(run: Run) -> None:
    """Start the run's watchdog unless it is started (call with a resource's lock held)."""
    with FileLock(run.directory / "watchdog.lock", timeout=60):
        marker = run.directory / "watchdog.started"
        if marker.exists():
            return
        log = run.directory / "watchdog.log"
        with log.open("ab") as out:
            subprocess.run(  # the watchdog forks itself away at once; this waits for that only
                [
                    sys.executable,
                    "-m",
                    "tests.support.shared",
                    "watch",
                    str(run.controller_pid),
                    str(run.directory),
                ],
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                check=True,
                timeout=60,
            )
        marker.write_text("")


def _wait_for_exit(pid: int) -> None:
    """Return once process ``pid`` has ended."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    except (AttributeError, OSError):  # no pidfd here: poll
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            except PermissionError:
                pass
            time.sleep(1.0)
    try:
        select.select([fd], [], [])  # readable once the process has ended
    finally:
        os.close(fd)


def _watch(controller_pid: int, directory: Path) -> int:
    if os.fork() != 0:  # the parent returns at once to the worker that started it
        os._exit(0)
    os.setsid()  # out of the run's process group: a Ctrl-C of the run is not for us
    _wait_for_exit(controller_pid)
    # The controller unconfigures before it exits: normally the directory is gone already.
    for error in stop_all(directory, urgent=True):
        print(error, file=sys.stderr)
    return 0


# -- the hooks (tests/conftest.py imports them, so that pytest finds them there) ------------------


def pytest_configure(config: pytest.Config) -> None:
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    if workerinput is not None:
        uid = str(workerinput["testrunuid"])
        controller = int(workerinput["shared_controller_pid"])
    else:
        uid = getattr(config.option, "testrunuid", None) or uuid.uuid4().hex
        if hasattr(config.option, "testrunuid"):  # xdist: its workers get the same uid
            config.option.testrunuid = uid
        controller = os.getpid()
    directory = Path(tempfile.gettempdir()) / f"engagement-api-run-{uid}"
    config.stash[_RUN] = Run(directory, controller, is_controller=workerinput is None)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist, in the controller: tell each worker whom its watchdog watches."""
    node.workerinput["shared_controller_pid"] = os.getpid()


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    run = config.stash.get(_RUN, None)
    if run is None or not run.is_controller:
        return
    errors = stop_all(run.directory, urgent=False)
    if errors:
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        text = "shared test servers did not stop cleanly:\n" + "\n".join(errors)
        if reporter is not None:
            reporter.write_line(text, red=True)
        else:
            print(text, file=sys.stderr)


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "watch":
        return _watch(int(argv[1]), Path(argv[2]))
    print("usage: python -m tests.support.shared watch CONTROLLER_PID RUN_DIRECTORY")
    return 2


if __name__ == "__main__":
    # Run the imported module's main, not this __main__ copy's: the resources it imports to stop
    # them subclass tests.support.shared.SharedResource.
    from tests.support.shared import main as _main

    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(_main(sys.argv[1:]))
