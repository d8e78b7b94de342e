"""Docs that cannot drift: every command, setting and the two README commands are documented."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from engagement_api.cli.main import cli
from engagement_api.settings import setting_names

ROOT = Path(__file__).resolve().parent.parent


def _commands(group: click.Group, prefix: str) -> list[str]:
    found = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            found.extend(_commands(command, path))
        else:
            found.append(path)
    return found


@pytest.mark.parametrize("command", _commands(cli, "engagement-api"))
def test_every_cli_command_is_in_the_cli_docs(command: str) -> None:
    assert command in (ROOT / "docs" / "cli.md").read_text()


@pytest.mark.parametrize("variable", setting_names())
def test_every_setting_is_in_the_operations_docs(variable: str) -> None:
    assert variable in (ROOT / "docs" / "operations.md").read_text()


def test_readme_has_the_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.parametrize(
    "page",
    [
        "contract.md",
        "ingest.md",
        "cli.md",
        "operations.md",
        "client.md",
        "architecture.md",
        "dashboard.md",
        "standin.md",
    ],
)
def test_readme_links_every_docs_page(page: str) -> None:
    assert f"docs/{page}" in (ROOT / "README.md").read_text()
    assert (ROOT / "docs" / page).is_file()
