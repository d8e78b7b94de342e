"""The stand-in in this process: the command in the foreground until SIGTERM (as a terminal
or a test harness stops it), and the app under an ASGI server that is not uvicorn."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from engagement_api.api.standin import StandinApp
from engagement_api.cli.main import cli
from engagement_api.service.standin import SeededStandin
from tests.support.ports import reserve_port


def _stop_when_serving(port: int, done: threading.Event) -> None:
    """Wait until the stand-in answers on ``port``, then SIGTERM this process (the main thread,
    serving, handles it)."""
    with httpx.Client(timeout=5) as http:
        while not done.is_set():
            try:
                if http.get(f"http://127.0.0.1:{port}/_standin/clock").status_code == 200:
                    break
            except httpx.TransportError:
                done.wait(0.05)
    os.kill(os.getpid(), signal.SIGTERM)


@pytest.mark.parametrize("as_json", [True, False])
def test_the_command_serves_until_sigterm_then_cleans_up(as_json: bool) -> None:
    before = signal.getsignal(signal.SIGTERM)
    port = reserve_port()
    done = threading.Event()
    args = ["standin", "--port", str(port.number), "--now", "2025-06-01T12:00:00Z"]
    stopper = threading.Thread(target=_stop_when_serving, args=(port.number, done), daemon=True)
    port.release()  # the command binds it
    stopper.start()
    try:
        result = CliRunner().invoke(cli, [*args, "--json"] if as_json else args)
    finally:
        done.set()
        stopper.join(timeout=30)
    assert result.exit_code == 0, result.output
    if as_json:
        info = json.loads(result.stdout)
        assert info["base_url"] == f"http://127.0.0.1:{port.number}"
    else:
        assert f"Serving the stand-in on http://127.0.0.1:{port.number}" in result.stdout
    assert signal.getsignal(signal.SIGTERM) is before  # the handler given back


def test_under_another_asgi_server_timeout_and_reset_answer_500(tmp_path: Path) -> None:
    """httpx's ASGI transport has no connection to close: the two connection faults fall back
    to the nearest answer; the rest of the stand-in works the same."""
    app = StandinApp(SeededStandin(tmp_path, 0, datetime(2025, 6, 1, 12, tzinfo=UTC)))

    async def exchange() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://standin") as http:
            faulted = [
                await http.post(
                    "/insights/engagement/totals",
                    headers={"X-Standin-Fault": fault, "X-Standin-Delay": "0"},
                    json={},
                )
                for fault in ("timeout", "reset")
            ]
            return [*faulted, await http.get("/_standin/clock")]

    try:
        timeout, reset, clock = asyncio.run(exchange())
    finally:
        app.close()
    assert (timeout.status_code, timeout.json()) == (500, {"errors": ["Internal server error"]})
    assert reset.status_code == 500
    assert clock.json() == {"now": "2025-06-01T12:00:00Z"}
    assert [(r.fault, r.status) for r in app.requests] == [("timeout", 500), ("reset", 500)]
