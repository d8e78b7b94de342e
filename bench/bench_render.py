"""Timing: the read answers' JSON, ``orjson.dumps(render(...))`` beside ``render_json(...)``.

Prints the median (and the best) of ``--runs`` runs of each, and their ratio, for:

- ``/historical``, 25 Posts x 8 metrics x 28 days, grouped by
  ``[tweet.id, engagement.type, engagement.day, engagement.hour]`` (134,400 leaves), with
  sparse counts (about 600 non-zero hourly rows, like the demo's) and dense ones (every hour);
- ``/totals``, 250 Posts x 5 metrics, groupings ``perTweet`` and ``byType``.

Both sides include counting the rows (``gather``), which they share; it is also printed alone.
The layouts and templates of a window are cached across answers (warm here after the first
run); ``cold`` is ``render_json`` with those caches cleared before each run.
A figure, not a test: nothing is asserted but that both give the same bytes.

    .venv/bin/python bench/bench_render.py [--runs 21]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from engagement_api.contract import response_json
from engagement_api.contract.groupings import DAY, HOUR, TWEET_ID, TYPE, Grouping
from engagement_api.contract.metrics import Endpoint, resolve
from engagement_api.contract.policy import Decision
from engagement_api.contract.request import AskedMetric, EngagementRequest
from engagement_api.contract.response import gather, render, time_axis
from engagement_api.contract.response_json import render_json
from engagement_api.contract.windows import Window

WINDOWED_METRICS = ["detail_expands", "engagements", "favorites", "impressions", "replies",
                    "retweets", "url_clicks", "video_views"]  # fmt: skip
TOTALS_METRICS = ["favorites", "quote_tweets", "replies", "retweets", "video_views"]
Case = tuple[
    EngagementRequest,
    Decision,
    dict[tuple[int, str], int] | None,
    list[tuple[int, str, int, int]] | None,
]


def make_request(
    endpoint: Endpoint,
    ids: tuple[int, ...],
    asked: list[str],
    groupings: Mapping[str, tuple[str, ...]],
    window: Window | None,
) -> EngagementRequest:
    metrics = []
    for name in sorted(asked):
        metric = resolve(name)
        assert metric is not None
        metrics.append(AskedMetric(name, metric))
    named = tuple(Grouping(name, levels) for name, levels in groupings.items())
    return EngagementRequest(endpoint, ids, tuple(metrics), named, window)


def historical(dense: bool, rng: random.Random) -> Case:
    ids = tuple(range(1_800_000_000_000_000_000, 1_800_000_000_000_000_025))
    window = Window(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 29, tzinfo=UTC))
    groupings = {"hourly": (TWEET_ID, TYPE, DAY, HOUR)}
    req = make_request(Endpoint.HISTORICAL, ids, WINDOWED_METRICS, groupings, window)
    hours = window.hours
    if dense:
        rows = [(pid, name, h, rng.randint(1, 500)) for pid in ids
                for name in WINDOWED_METRICS for h in hours]  # fmt: skip
    else:
        rows = [(rng.choice(ids), rng.choice(WINDOWED_METRICS), rng.choice(hours),
                 rng.randint(1, 20)) for _ in range(600)]  # fmt: skip
    return req, Decision(ids, (), (), (), (), frozenset()), None, rows


def totals(rng: random.Random) -> Case:
    ids = tuple(range(1_700_000_000_000_000_000, 1_700_000_000_000_000_250))
    groupings = {"perTweet": (TWEET_ID, TYPE), "byType": (TYPE,)}
    req = make_request(Endpoint.TOTALS, ids, TOTALS_METRICS, groupings, None)
    counts = {(pid, name): rng.randint(0, 100_000) for pid in ids for name in TOTALS_METRICS}
    return req, Decision(ids, (), (), (), (), frozenset()), counts, None


def timed_ms(work: Callable[[], object], runs: int) -> tuple[float, float]:
    """The median and the best of ``runs`` runs, in ms (after one untimed run)."""
    work()
    times = []
    for _ in range(runs):
        begin = time.perf_counter()
        work()
        times.append(time.perf_counter() - begin)
    return statistics.median(times) * 1000, min(times) * 1000


def cold_render_json(*args: Any) -> bytes:
    time_axis.cache_clear()
    response_json._suffix.cache_clear()
    return render_json(*args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=21)
    runs = parser.parse_args().runs
    rng = random.Random(42)
    cases = {
        "/historical 25x8x28d 4-level, sparse": historical(False, rng),
        "/historical 25x8x28d 4-level, dense": historical(True, rng),
        "/totals 250x5, perTweet + byType": totals(rng),
    }
    print(f"ms, median of {runs} runs (best in brackets); both sides include gather")
    heads = ("gather", "render+orjson", "render_json", "cold")
    print(f"{'case':38}" + "".join(f"{head:>17}" for head in heads) + f"{'ratio':>7}")
    for label, (req, dec, counts, rows) in cases.items():
        written = render_json(req, dec, counts, rows)
        if written != orjson.dumps(render(req, dec, counts, rows)):
            raise SystemExit(f"{label}: render_json differs from orjson.dumps(render(...))")
        shared = timed_ms(lambda: gather(req, dec, counts, rows), runs)  # noqa: B023
        old = timed_ms(lambda: orjson.dumps(render(req, dec, counts, rows)), runs)  # noqa: B023
        new = timed_ms(lambda: render_json(req, dec, counts, rows), runs)  # noqa: B023
        cold = timed_ms(lambda: cold_render_json(req, dec, counts, rows), runs)  # noqa: B023
        figures = "".join(f"{m:9.2f} ({b:5.2f})" for m, b in (shared, old, new, cold))
        print(f"{label:38}{figures}{old[0] / new[0]:6.1f}x  {len(written):,} bytes")


if __name__ == "__main__":
    main()
