"""`engagement-api query` through httpx.MockTransport (QueryHooks) and click's CliRunner."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner

from engagement_api.cli.query import QueryHooks, query
from tests.client.fake import FakeServer, floor_hour, ids_from
from tests.support import NOW

BASE = 5 * 10**18
IDS = ids_from(BASE, 30)
ENV = {
    "ENGAGEMENT_API_BASE_URL": "http://testserver/insights/engagement",
    "ENGAGEMENT_API_BEARER_TOKEN": "b",
}


@pytest.fixture
def server() -> FakeServer:
    fake = FakeServer(available=set(IDS))
    for i, post in enumerate(IDS):
        for back in range(0, 24 * 40, 5):
            fake.hourly[(post, "impressions", floor_hour(NOW) - timedelta(hours=back))] = i
        fake.hourly[(post, "favorites", floor_hour(NOW))] = 30 - i
    return fake


def run(
    server: FakeServer, *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> tuple[int, str, str]:
    hooks = QueryHooks(
        transport=server.transport(), wall_clock=NOW.timestamp, environ=ENV if env is None else env
    )
    result = CliRunner().invoke(query, list(args), obj=hooks, input=stdin)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_totals_json(server: FakeServer) -> None:
    code, out, _ = run(
        server,
        "totals",
        "--ids",
        f"{IDS[0]},{IDS[1]}",
        "--ids",
        str(IDS[2]),
        "--types",
        "favorites",
    )
    assert code == 0
    assert json.loads(out) == {
        "perTweet": {
            str(IDS[0]): {"favorites": "30"},
            str(IDS[1]): {"favorites": "29"},
            str(IDS[2]): {"favorites": "28"},
        }
    }


def test_ids_file_from_stdin_with_whitespace(server: FakeServer) -> None:
    text = "\n".join(f"  {i}\t" for i in IDS) + "\n\n"
    code, out, _ = run(
        server,
        "28hr",
        "--ids-file",
        "-",
        "--types",
        "favorites",
        "--group-by",
        "all=engagement.type",
        "--int-counts",
        stdin=text,
    )
    assert code == 0
    assert json.loads(out)["all"] == {"favorites": sum(30 - i for i in range(30))}
    assert len(server.bodies) == 2


def test_ids_file_on_disk(server: FakeServer, tmp_path: Path) -> None:
    path = tmp_path / "ids.txt"
    path.write_text(f"{IDS[0]}\r\n{IDS[1]}\n")
    code, out, _ = run(server, "totals", "--ids-file", str(path), "--types", "favorites")
    assert code == 0 and list(json.loads(out)["perTweet"]) == [str(IDS[0]), str(IDS[1])]


def test_historical_csv_over_60_days(server: FakeServer) -> None:
    code, out, _ = run(
        server,
        "historical",
        "--ids",
        ",".join(map(str, IDS)),
        "--types",
        "impressions",
        "--group-by",
        "tweet.id,engagement.type,engagement.day",
        "--start",
        "2026-09-27",
        "--end",
        "2026-11-26",
        "--format",
        "csv",
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 30 * 60
    assert rows[0].keys() == {"post_id", "metric", "day", "hour", "count"}
    assert len(server.bodies) == 2 * 3


def test_table_format(server: FakeServer) -> None:
    code, out, _ = run(
        server, "totals", "--ids", str(IDS[3]), "--types", "favorites", "--format", "table"
    )
    assert code == 0 and str(IDS[3]) in out and "27" in out


def test_top(server: FakeServer) -> None:
    code, out, _ = run(
        server,
        "top",
        "--metric",
        "impressions",
        "-n",
        "3",
        "--ids",
        ",".join(map(str, IDS)),
        "--start",
        "2026-10-01",
    )
    assert code == 0
    top = json.loads(out)
    assert [t["post_id"] for t in top["top"]] == [str(IDS[29]), str(IDS[28]), str(IDS[27])]
    assert [t["rank"] for t in top["top"]] == [1, 2, 3]
    code, out, _ = run(
        server,
        "top",
        "--metric",
        "favorites",
        "-n",
        "2",
        "--format",
        "csv",
        "--ids",
        ",".join(map(str, IDS)),
    )
    assert out.splitlines() == [
        "rank,post_id,metric,count",
        f"1,{IDS[0]},favorites,30",
        f"2,{IDS[1]},favorites,29",
    ]
    code, out, _ = run(server, "top", "--ids", str(IDS[0]), "--format", "table")
    assert code == 0 and "rank" in out


def test_drop_unowned_is_reported(server: FakeServer) -> None:
    server.owned = set(IDS[:2])
    code, out, err = run(
        server,
        "28hr",
        "--ids",
        ",".join(map(str, IDS[:4])),
        "--types",
        "favorites",
        "--drop-unowned",
    )
    assert code == 0
    assert list(json.loads(out)["perTweet"]) == [str(IDS[0]), str(IDS[1])]
    assert f"dropped 2 Post(s) not owned by the user: {IDS[2]}, {IDS[3]}" in err


def test_errors_are_one_line_each_without_traceback(server: FakeServer) -> None:
    server.owned = set()
    code, out, err = run(server, "28hr", "--ids", str(IDS[0]), "--types", "favorites")
    assert code == 1 and out == ""
    assert err == f"error: 403: Forbidden to access tweets: {IDS[0]}\n"
    code, _, err = run(server, "totals", "--ids", "1", env={})
    assert code == 1 and "no credentials" in err
    code, _, err = run(server, "totals")
    assert code == 2 and "--ids" in err


def test_terminal_chart(server: FakeServer) -> None:
    code, out, err = run(
        server,
        "28hr",
        "--ids",
        ",".join(map(str, IDS[:3])),
        "--types",
        "impressions,favorites",
        "--chart",
    )
    assert code == 0
    assert "_chart series" not in out and "perTweet" in json.loads(out)
    assert "impressions per hour" in err and "favorites per hour" in err
    assert "2026-11-26 12:00" in err


def test_png_chart(server: FakeServer, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / "chart.png"
    code, _, err = run(
        server,
        "historical",
        "--ids",
        str(IDS[5]),
        "--types",
        "impressions",
        "--start",
        "2026-10-01",
        "--end",
        "2026-11-20",
        "--chart-out",
        str(path),
        "--chart-interval",
        "day",
    )
    assert code == 0, err
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_png_chart_without_matplotlib(
    server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    real = importlib.import_module

    def no_matplotlib(name: str, package: str | None = None) -> ModuleType:
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", no_matplotlib)
    code, _, err = run(server, "28hr", "--ids", str(IDS[0]), "--chart-out", str(tmp_path / "c.png"))
    assert code == 1 and "pip install 'engagement-api[charts]'" in err


def test_chart_needs_a_free_grouping_slot(server: FakeServer) -> None:
    code, _, err = run(
        server,
        "28hr",
        "--ids",
        str(IDS[0]),
        "--chart",
        "--group-by",
        "engagement.type",
        "--group-by",
        "a=tweet.id,engagement.type",
        "--group-by",
        "b=engagement.type,tweet.id",
    )
    assert code == 2 and "at most 2" in err


def test_config_path() -> None:
    result = CliRunner().invoke(query, ["config-path"])
    assert result.exit_code == 0 and result.stdout.strip().endswith("credentials.toml")
