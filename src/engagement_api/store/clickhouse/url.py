"""The counters URL: ``clickhouse://[USER[:PASSWORD]@]HOST:PORT[,HOST:PORT...]/DATABASE?cluster=NAME``.

Hosts are tried in turn (the first that answers serves the session's queries; the others are
failover). Optional query parameters: ``connect_timeout`` and ``receive_timeout`` (seconds,
defaults 2 and 10), ``pool_max`` (connections kept, default 16), ``ddl_timeout`` (seconds an
``ON CLUSTER`` statement waits for every node, default 60). The database and cluster names are
checked to be plain names: they are written into DDL, never taken as SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote

from engagement_api.store.errors import StoreError

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_HOST = re.compile(r"(?P<host>[A-Za-z0-9_.\-]+|\[[0-9A-Fa-f:.]+\]):(?P<port>\d{1,5})")
_OPTIONS = {"cluster", "connect_timeout", "receive_timeout", "pool_max", "ddl_timeout"}


@dataclass(frozen=True)
class ClickHouseSettings:
    hosts: tuple[tuple[str, int], ...]
    database: str
    cluster: str
    user: str = "default"
    password: str = ""
    connect_timeout: float = 2.0
    receive_timeout: float = 10.0
    pool_max: int = 16
    ddl_timeout: int = 60


def _number(name: str, text: str, low: float, high: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise StoreError(f"counters URL: {name} must be a number, not {text!r}") from None
    if not low <= value <= high:
        raise StoreError(f"counters URL: {name} must be from {low:g} to {high:g}")
    return value


def parse_url(url: str) -> ClickHouseSettings:
    """The settings of a counters URL; :class:`StoreError` naming the part that is wrong."""
    scheme, sep, rest = url.partition("://")
    if scheme != "clickhouse" or not sep:
        raise StoreError(f"counters URL must start with clickhouse://, not {url.split(':')[0]!r}")
    rest, _, query = rest.partition("?")
    netloc, _, path = rest.partition("/")
    user, password = "default", ""
    if "@" in netloc:
        userinfo, _, netloc = netloc.rpartition("@")
        name, _, secret = userinfo.partition(":")
        user, password = unquote(name) or "default", unquote(secret)
    hosts = []
    for part in netloc.split(","):
        match = _HOST.fullmatch(part)
        if match is None:
            raise StoreError(f"counters URL: host {part!r} is not HOST:PORT")
        port = int(match["port"])
        if not 0 < port < 65536:
            raise StoreError(f"counters URL: port {port} is out of range")
        hosts.append((match["host"].strip("[]"), port))
    database = path.rstrip("/")
    if not NAME.fullmatch(database):
        raise StoreError(
            f"counters URL: database {database!r} must be a plain name (letters, digits, _)"
        )
    options = dict(parse_qsl(query, keep_blank_values=True))
    unknown = sorted(set(options) - _OPTIONS)
    if unknown:
        raise StoreError(f"counters URL: unknown option {unknown[0]!r}")
    cluster = options.get("cluster", "")
    if not NAME.fullmatch(cluster):
        raise StoreError("counters URL: cluster=NAME is required (a plain name)")
    return ClickHouseSettings(
        hosts=tuple(hosts),
        database=database,
        cluster=cluster,
        user=user,
        password=password,
        connect_timeout=_number("connect_timeout", options.get("connect_timeout", "2"), 0.1, 60),
        receive_timeout=_number("receive_timeout", options.get("receive_timeout", "10"), 1, 3600),
        pool_max=int(_number("pool_max", options.get("pool_max", "16"), 1, 1000)),
        ddl_timeout=int(_number("ddl_timeout", options.get("ddl_timeout", "60"), 1, 3600)),
    )


def redact(url: str) -> str:
    """The URL without its password (for logs and messages)."""
    scheme, sep, rest = url.partition("://")
    netloc, slash, tail = rest.partition("/")
    if "@" in netloc:
        userinfo, _, hosts = netloc.rpartition("@")
        netloc = f"{userinfo.partition(':')[0]}:***@{hosts}" if ":" in userinfo else netloc
    return f"{scheme}{sep}{netloc}{slash}{tail}"
