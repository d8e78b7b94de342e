"""docs/standin.md's two examples, run as written: the pytest one in a pytest of its own (the
plugin found through its entry point, as by any user), the shell one with bash."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "standin.md"


def _block(heading: str, language: str) -> str:
    """The first ``language`` code block after ``## heading``."""
    text = DOC.read_text()
    section = text[text.index(f"## {heading}\n") :]
    found = re.search(rf"```{language}\n(.*?)```", section, re.S)
    assert found, f"no {language} block under {heading}"
    return found.group(1)


def _env() -> dict[str, str]:
    """The test's environment with this Python's scripts (engagement-api) first on PATH."""
    scripts = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": scripts + os.pathsep + os.environ.get("PATH", "")}


def test_the_pytest_example_is_20_lines_or_so() -> None:
    lines = _block("A pytest example", "python").strip().splitlines()
    assert 15 <= len(lines) <= 30


@pytest.mark.slow
def test_the_pytest_example_passes(tmp_path: Path) -> None:
    example = tmp_path / "test_my_client.py"
    example.write_text(_block("A pytest example", "python"))
    first = example.read_text().splitlines()[0]
    options = first.split("pytest", 1)[1].split()  # as its first line says to run it
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *options, example.name],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout


@pytest.mark.slow
def test_the_shell_example_prints_what_the_doc_says(tmp_path: Path) -> None:
    done = subprocess.run(
        ["bash", "-c", _block("A shell example", "sh")],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == [
        '{"fault":"503","every":2,"seen":0}',
        "200",
        "503",
        '{"now":"2025-01-16T12:00:00Z"}',
        "[200, 503]",
    ]
