"""docs/client.md cannot drift: its ```python blocks run in order, and its `engagement-api query`
lines run through the CLI, against the real app (signed with the real time: the server's
ManualClock stands at the moment the test starts)."""

from __future__ import annotations

import importlib.util
import re
import shlex
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from engagement_api.cli.query import query
from engagement_api.clock import ManualClock
from engagement_api.store import Store
from tests.client.e2e import DAVE_POSTS, World, world
from tests.support.harness import PREFIX, ThreadServer

DOC = Path(__file__).resolve().parents[2] / "docs" / "client.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(language: str) -> list[str]:
    return [code for lang, code in BLOCK.findall(DOC.read_text()) if lang == language]


@pytest.fixture
def live(
    thread_server: ThreadServer, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    clock = ManualClock(datetime.now(UTC))
    # (a long lookback: the docs' fixed dates stay valid whenever the tests run)
    with world(thread_server, store, clock, historical_lookback_days=36500) as made:
        app = made.api.app
        for name, value in {
            "BASE_URL": made.api.base_url + PREFIX,
            "CONSUMER_KEY": app.consumer_key,
            "CONSUMER_SECRET": app.consumer_secret,
            "ACCESS_TOKEN": made.dave[0],
            "ACCESS_TOKEN_SECRET": made.dave[1],
            "BEARER_TOKEN": app.bearer_token,
        }.items():
            monkeypatch.setenv(f"ENGAGEMENT_API_{name}", value)
        monkeypatch.chdir(tmp_path)
        (tmp_path / "post_ids.txt").write_text("".join(f" {p}\n" for p in DAVE_POSTS))
        yield made


def test_the_python_examples_run(live: World, capsys: pytest.CaptureFixture[str]) -> None:
    code = blocks("python")
    assert len(code) >= 6
    namespace: dict[str, object] = {"__name__": "docs_client"}
    for block in code:
        if "to_dataframe" in block and importlib.util.find_spec("pandas") is None:
            continue
        exec(compile(block, str(DOC), "exec"), namespace)
    printed = capsys.readouterr().out
    assert "['1100000000000000007']" in printed  # drop_unowned reported the other user's Post
    assert "Forbidden to access metrics: impressions" in printed
    assert Path("daily.csv").read_text().startswith("post_id,metric,day,hour,count\n")


def commands() -> list[str]:
    return [
        line
        for block in blocks("sh")
        for line in block.splitlines()
        if "engagement-api query" in line
    ]


def test_every_query_command_is_in_the_docs() -> None:
    text = DOC.read_text()
    assert isinstance(query, click.Group)
    for name in query.commands:
        assert f"engagement-api query {name}" in text


@pytest.mark.parametrize("line", commands())
def test_the_cli_examples_run(line: str, live: World) -> None:
    stdin = None
    if "|" in line:
        feeder, line = (part.strip() for part in line.split("|"))
        stdin = Path(shlex.split(feeder)[1]).read_text()
    args = shlex.split(line)
    assert args[:2] == ["engagement-api", "query"]
    if "--chart-out" in args and importlib.util.find_spec("matplotlib") is None:
        pytest.skip("matplotlib is not installed")
    result = CliRunner().invoke(query, args[2:], input=stdin)
    assert result.exit_code == 0, result.output + result.stderr
    assert result.stdout
