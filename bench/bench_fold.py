"""Benchmark: decode + validate + fold of 1,000,000 generated NDJSON events.

Prints events/s of the ingest layer beside a baseline measured in the same run (``json.loads``
per line and a plain dict accumulation, no validation at all), and their ratio. Each figure is
the best of ``--repeat`` runs. The precise path (the one that explains bad lines) is timed on a
slice, for reference.

    .venv/bin/python bench/bench_fold.py [--events 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime

from engagement_api.domain import Post
from engagement_api.ingest import (
    Batch,
    Kind,
    referenced_post_ids,
    validate_events,
    validate_posts,
    validate_users,
)
from engagement_api.ingest.decode import numbered
from engagement_api.ingest.events import fold_precise
from engagement_api.ingest.generator import generate

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def make_data(events: int) -> tuple[bytes, dict[int, Post]]:
    """``events`` NDJSON event lines and the Posts they refer to."""
    synthetic = generate(users=500, tweets=20_000, days=30, now=NOW, seed=42, scale=8.0)
    lines = list(itertools.islice(synthetic.event_lines(), events))
    if len(lines) < events:
        raise SystemExit(f"the generator gave only {len(lines)} events")
    users = validate_users(numbered(synthetic.users), {})
    records = validate_posts(numbered(synthetic.tweets), {u.id for u in users}, {})
    posts = {
        r.id: Post(r.id, r.author_id, r.created_at, r.media or (), bool(r.protected), False)
        for r in records
    }
    return ("\n".join(lines) + "\n").encode(), posts


def baseline(data: bytes) -> int:
    """json.loads per line, sum counts per (tweet_id, type, hour prefix): no checks at all."""
    totals: dict[tuple[str, str, str], int] = {}
    get = totals.get
    for line in data.splitlines():
        event = json.loads(line)
        key = (event["tweet_id"], event["type"], event["at"][:13])
        totals[key] = get(key, 0) + event.get("count", 1)
    return len(totals)


def ingest(data: bytes, posts: dict[int, Post]) -> int:
    """What the server does with an events batch, short of the store."""
    batch = Batch(data, "ndjson", Kind.EVENTS)
    wanted = referenced_post_ids(batch)
    folded = validate_events(batch, {i: posts[i] for i in wanted if i in posts}, NOW)
    return len(folded.deltas)


def best(repeat: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    data, posts = make_data(args.events)
    n = args.events
    print(f"{n:,} events, {len(data) / 1e6:.1f} MB NDJSON, {len(posts):,} Posts")

    base = best(args.repeat, lambda: baseline(data))
    ours = best(args.repeat, lambda: ingest(data, posts))
    print(f"baseline (json.loads + dict sum, no checks): {n / base:>11,.0f} events/s")
    print(f"ingest (decode + validate + fold)          : {n / ours:>11,.0f} events/s")
    print(f"ratio ingest / baseline                    : {base / ours:>11.2f}x")

    part = min(n, 100_000)
    head = b"".join(data.splitlines(keepends=True)[:part])
    batch = Batch(head, "ndjson", Kind.EVENTS)
    records = batch.records
    slow = best(1, lambda: fold_precise(records, posts, NOW))
    print(f"precise path (explains bad lines), {part:,}  : {part / slow:>11,.0f} events/s")


if __name__ == "__main__":
    main()
