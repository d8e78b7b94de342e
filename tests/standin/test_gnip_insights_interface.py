"""The public sample client ``gnip-insights-interface`` (PyPI, 0.2, 2017), run unchanged against a
stand-in frozen at 2025-06-01 (not today), its base URL from its credentials file
(``$HOME/.twitter_api_creds``), its output compared with counts summed from the seeded data set
(the generator's events, not read back from the server).

Its ``tweet_engagements.py`` script is run as installed. One thing of its environment is
adapted: it calls ``yaml.load(f)`` without a loader, which PyYAML 6 (required here by other
dev tools) refuses with a TypeError; the runner gives ``yaml.load`` PyYAML 5's default loader
back before running the script, as under the PyYAML 5.4.1 it was written against (with
PyYAML 5.4.1 the script runs as it is). Its code is not touched. It sleeps 1 s before each
request ("rate-limited to 1/s"), so one run is one request.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from engagement_api.contract.times import format_timestamp
from engagement_api.contract.windows import window_28hr
from engagement_api.ingest.generator import generate
from engagement_api.service.standin import DAYS, TWEETS, USERS
from engagement_api.testing.standin import Standin

SCRIPT = Path(sys.executable).with_name("tweet_engagements.py")
TYPES = ["impressions", "favorites", "retweets", "replies"]
RUNNER = """
import runpy, sys, yaml
if int(yaml.__version__.split(".")[0]) >= 6:  # PyYAML 5's default: yaml.load(f) worked
    _load = yaml.load
    yaml.load = lambda stream, Loader=yaml.FullLoader: _load(stream, Loader=Loader)
script = sys.argv[1]
sys.argv = sys.argv[1:]
runpy.run_path(script, run_name="__main__")
"""


def _run(home: Path, *args: str) -> dict[str, Any]:
    env = {**os.environ, "HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, str(SCRIPT), *args],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _seeded_counts(standin: Standin, since: str | None = None, until: str | None = None) -> Any:
    """Per Post and metric, the sum of the seeded events (in [since, until) when given)."""
    data = generate(users=USERS, tweets=TWEETS, days=DAYS, now=standin.now, seed=standin.seed)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for event in data.events():
        at = str(event["at"])
        if (since is None or at >= since) and (until is None or at < until):
            amount = event.get("count", 1)
            counts[str(event["tweet_id"])][str(event["type"])] += (
                amount if isinstance(amount, int) else 1
            )
    return counts


def test_gnip_insights_interface_reads_the_seeded_counts(
    engagement_standin: Standin, tmp_path: Path
) -> None:
    s = engagement_standin
    assert s.now.date() != date.today()
    (tmp_path / ".twitter_api_creds").write_text(
        "engagement:\n"
        f"  url: {s.base_url}/insights/engagement\n"
        f"  consumer_key: {s.consumer_key}\n"
        f"  consumer_secret: {s.consumer_secret}\n"
        f"  token: {s.access_token}\n"
        f"  token_secret: {s.access_token_secret}\n"
    )
    config = tmp_path / "config.yaml"
    config.write_text(
        "engagement:\n"
        f"  engagement_types: {json.dumps(TYPES)}\n"
        "  groupings:\n"
        "    perTweet:\n"
        "      group_by: [tweet.id, engagement.type]\n"
    )
    owned = s.post_ids["owned"]
    asked = [*owned, *s.post_ids["deleted"][:1]]

    totals = _run(tmp_path, "-T", "-c", str(config), "-i", *asked)
    seeded = _seeded_counts(s)
    assert totals["perTweet"] == {
        post: {metric: seeded[post][metric] for metric in TYPES} for post in owned
    }
    assert sum(totals["perTweet"][post]["impressions"] for post in owned) > 0
    assert totals["unavailable_tweet_ids"] == s.post_ids["deleted"][:1]
    assert totals["errors"] == ["1 Tweet ID(s) are unavailable"]

    window = window_28hr(s.now)
    recent = _seeded_counts(s, format_timestamp(window.start), format_timestamp(window.end))
    last_28 = _run(tmp_path, "-D", "-c", str(config), "-i", *owned)
    assert last_28["perTweet"] == {
        post: {metric: recent[post][metric] for metric in TYPES} for post in owned
    }
    assert sum(sum(counts.values()) for counts in last_28["perTweet"].values()) > 0
    assert (last_28["start"], last_28["end"]) == (
        format_timestamp(window.start),
        format_timestamp(window.end),
    )
    assert window.end - window.start == timedelta(hours=29)
    # what the server saw: its OAuth 1.0a user context, signed with the real time
    log = s.requests()
    assert [(r["path"], r["auth"], r["status"]) for r in log] == [
        ("/insights/engagement/totals", "oauth_user", 200),
        ("/insights/engagement/28hr", "oauth_user", 200),
    ]
