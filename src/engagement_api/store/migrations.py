"""Versioned schema migrations: numbered SQL files in each backend package's ``sql/`` folder,
applied in order. A backend names its package (``engagement_api.store.sqlite``...)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from engagement_api.store.errors import SchemaError

_NAME = re.compile(r"(\d{4})_[a-z0-9_]+\.sql")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations_for(package: str) -> list[Migration]:
    """Every migration shipped in a backend package, oldest first."""
    folder = resources.files(package).joinpath("sql")
    found = []
    for entry in folder.iterdir():
        match = _NAME.fullmatch(entry.name)
        if match:
            found.append(Migration(int(match[1]), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    return found


def latest_version(package: str) -> int:
    known = migrations_for(package)
    return known[-1].version if known else 0


def refuse_newer(current: int, package: str) -> None:
    """Raise SchemaError when the database was migrated by a newer engagement-api."""
    known = latest_version(package)
    if current > known:
        raise SchemaError(
            f"database schema version {current} is newer than this engagement-api knows "
            f"({known}); upgrade engagement-api"
        )


def require_current(current: int, package: str) -> None:
    """Raise SchemaError unless the database's schema is exactly the one this code knows."""
    refuse_newer(current, package)
    known = latest_version(package)
    if current < known:
        raise SchemaError(
            f"database schema version {current} is older than {known}; run `engagement-api migrate`"
        )
