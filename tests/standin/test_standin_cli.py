"""`engagement-api standin`: one child process with `--port 0 --json` (the form any language's
test suite starts), and the command's refusals in-process."""

from __future__ import annotations

import json
import select
import signal
import socket
import subprocess

import httpx
import pytest
from click.testing import CliRunner

from engagement_api.cli.main import cli
from engagement_api.cli.standin import describe
from tests.support.processes import CLI, kill_group

KEYS = {
    "base_url",
    "consumer_key",
    "consumer_secret",
    "bearer_token",
    "access_token",
    "access_token_secret",
    "user_id",
    "handle",
    "ingest_key",
    "seed",
    "now",
    "post_ids",
}


@pytest.mark.slow
def test_port_0_and_json_print_one_object_then_serve() -> None:
    proc = subprocess.Popen(
        [*CLI, "standin", "--port", "0", "--json", "--seed", "3", "--now", "2024-02-29T06:30:00Z"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready, "no output within 60 s"
        info = json.loads(proc.stdout.readline())
        assert set(info) == KEYS
        assert info["now"] == "2024-02-29T06:30:00Z" and info["seed"] == 3
        base = info["base_url"]
        assert base.startswith("http://127.0.0.1:") and not base.endswith(":0")
        assert all(info["post_ids"].values())
        with httpx.Client(base_url=base, timeout=30) as http:
            assert http.get("/_standin/info").json() == info
            answer = http.post(
                "/insights/engagement/totals",
                headers={"Authorization": f"Bearer {info['bearer_token']}"},
                json={
                    "tweet_ids": info["post_ids"]["owned"],
                    "engagement_types": ["favorites"],
                    "groupings": {"g": {"group_by": ["tweet.id", "engagement.type"]}},
                },
            )
            assert answer.status_code == 200
            assert set(answer.json()["g"]) == set(info["post_ids"]["owned"])
        proc.send_signal(signal.SIGTERM)  # uvicorn stops cleanly
        assert proc.wait(timeout=30) == 0
    finally:
        kill_group(proc)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()


def test_a_bad_now_is_refused() -> None:
    result = CliRunner().invoke(cli, ["standin", "--now", "tomorrow"])
    assert result.exit_code == 2
    assert "Invalid value for '--now': 'tomorrow' must be a date or date-time" in result.stderr


def test_a_port_in_use_is_a_one_line_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["standin", "--port", str(port)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: cannot listen on 127.0.0.1:{port}: ")
    assert "Traceback" not in result.output


def test_the_human_form_lists_every_key() -> None:
    info: dict[str, object] = {
        "base_url": "http://127.0.0.1:9",
        "consumer_key": "k",
        "post_ids": {"owned": ["1", "2"], "unowned": ["3"]},
    }
    assert describe(info).splitlines() == [
        "base_url: http://127.0.0.1:9",
        "consumer_key: k",
        "post_ids.owned: 1 2",
        "post_ids.unowned: 3",
        "Serving the stand-in on http://127.0.0.1:9 (Ctrl-C to stop)",
    ]
