"""Work done in child processes by tests/store/test_postgres.py (importable, so ``spawn`` works).

Each function opens its own store on the URL it is given, waits at the barrier so every process
starts together, and reports what it saw through its return value or the queue.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from engagement_api.domain import MediaItem, PostRecord
from engagement_api.store import open_store

NOW = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)

Delta = dict[tuple[int, int, int], int]


def batch_deltas(seed: int, posts: int, metrics: tuple[int, ...], hours: tuple[int, ...]) -> Delta:
    """A batch touching every (post, metric, hour) given, in an order of its own."""
    rng = random.Random(seed)
    keys = [(p, m, h) for p in range(1, posts + 1) for m in metrics for h in hours]
    rng.shuffle(keys)
    return {k: rng.randint(-2, 9) for k in keys}


def apply_same_key(url: str, barrier: Any, deltas: Delta) -> bool:
    store = open_store(url)
    try:
        barrier.wait(timeout=30)
        return store.apply_batch("same-key", "checksum", len(deltas), 1, deltas, NOW)
    finally:
        store.close()


def apply_many(
    url: str, barrier: Any, jobs: list[tuple[str, int]], shape: dict[str, Any]
) -> list[str]:
    """Apply the batch of each (key, seed); replays of a key come back False. Returns the keys
    this process applied."""
    store = open_store(url)
    applied = []
    try:
        barrier.wait(timeout=30)
        for key, seed in jobs:
            deltas = batch_deltas(seed, shape["posts"], shape["metrics"], shape["hours"])
            if store.apply_batch(key, f"sum-{seed}", len(deltas), 1, deltas, NOW):
                applied.append(key)
        return applied
    finally:
        store.close()


def toggle_videos(url: str, barrier: Any, posts: int, rounds: int) -> int:
    """Move Posts between videos while batches are applied."""
    store = open_store(url)
    rng = random.Random(7)
    try:
        barrier.wait(timeout=30)
        for _ in range(rounds):
            pid = rng.randint(1, posts)
            media = rng.choice([(), (MediaItem("v_a", "video"),), (MediaItem("v_b", "video"),)])
            store.upsert_posts([PostRecord(pid, 1, NOW, media)])
        return rounds
    finally:
        store.close()
