"""The command-line tests' database: a SQLite file in the test's temporary directory (not yet
created; the commands under test make and migrate it)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"
