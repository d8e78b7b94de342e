"""Large event batches through the Loader, on every backend: the columnar path end to end,
exactly once, every bad line listed, and the ledger deciding replays before validation."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import timedelta

import pytest

from engagement_api.clock import ManualClock
from engagement_api.contract.errors import Conflict
from engagement_api.contract.metrics import METRICS
from engagement_api.ingest import Batch, BatchRejected, Format
from engagement_api.loading import PIECE_BYTES, Loader
from engagement_api.store import PostRecord, Store, User
from tests.conftest import NOW

FAV = METRICS["favorites"].code
IMP = METRICS["impressions"].code
ENG = METRICS["engagements"].code
POSTS = [1_000 + i for i in range(20)]
CREATED = NOW - timedelta(days=3)


def _seed(store: Store) -> None:
    store.upsert_users([User(1, "author")])
    store.upsert_posts([PostRecord(pid, 1, CREATED, ()) for pid in POSTS])


def _batch(lines: int, seed: int = 0) -> tuple[bytes, Counter[tuple[int, int]]]:
    """Plain NDJSON of ``lines`` events and the (Post, metric) totals they add."""
    out, sums = [], Counter[tuple[int, int]]()
    for i in range(lines):
        pid = POSTS[(i * 7 + seed) % len(POSTS)]
        kind = "favorites" if i % 3 == 0 else "impressions"
        at = (CREATED + timedelta(seconds=(i * 37 + seed) % 200_000)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        count = 1 + i % 4
        out.append(json.dumps({"tweet_id": str(pid), "type": kind, "at": at, "count": count}))
        code = FAV if kind == "favorites" else IMP
        sums[(pid, code)] += count
        if kind == "favorites":
            sums[(pid, ENG)] += count
    return ("\n".join(out) + "\n").encode(), sums


LINES = 60_000  # about 5 MB: the columnar path (and one piece for a progress bar)


def test_a_large_batch_is_applied_once_and_counted_exactly(store: Store) -> None:
    _seed(store)
    loader = Loader(store, ManualClock(NOW))
    data, sums = _batch(LINES)
    assert 256 * 1024 < len(data) < PIECE_BYTES
    assert Batch(data, Format.NDJSON, "events").event_frame is not None  # the columnar path
    first = loader.load_events(data, Format.NDJSON)
    assert (first.accepted, first.duplicate) == (LINES, False)
    assert first.key == "sha256:" + hashlib.sha256(data).hexdigest()
    again = loader.load_events(data, Format.NDJSON)
    assert (again.accepted, again.duplicate, again.key) == (LINES, True, first.key)
    assert store.totals(POSTS, [FAV, IMP, ENG]) == dict(sums)
    with pytest.raises(Conflict):
        loader.load_events(_batch(LINES, seed=1)[0], Format.NDJSON, key=first.key)
    assert store.totals(POSTS, [FAV, IMP, ENG]) == dict(sums)


def test_a_large_bad_batch_lists_its_bad_line_and_applies_nothing(store: Store) -> None:
    _seed(store)
    loader = Loader(store, ManualClock(NOW))
    data, _ = _batch(LINES)
    bad = data + b'{"tweet_id": "999", "type": "favorites", "at": "2026-11-25T10:00:00Z"}\n'
    with pytest.raises(BatchRejected) as caught:
        loader.load_events(bad, Format.NDJSON, key="k-bad")
    assert [(e.line, e.field) for e in caught.value.errors] == [(LINES + 1, "tweet_id")]
    assert store.get_batch("k-bad") is None
    assert store.totals(POSTS, [FAV, IMP, ENG]) == {}


def test_a_replay_is_a_duplicate_even_when_the_batch_would_no_longer_validate(
    store: Store,
) -> None:
    _seed(store)
    loader = Loader(store, ManualClock(NOW))
    data, sums = _batch(LINES)
    loader.load_events(data, Format.NDJSON, key="k-1")
    # a server whose clock says the events are in the future would refuse the batch
    loader = Loader(store, ManualClock(CREATED))
    again = loader.load_events(data, Format.NDJSON, key="k-1")
    assert (again.accepted, again.duplicate) == (LINES, True)
    assert store.totals(POSTS, [FAV, IMP, ENG]) == dict(sums)
    with pytest.raises(BatchRejected):
        loader.load_events(data, Format.NDJSON, key="k-2")


def test_a_file_in_pieces_with_progress_adds_up_and_numbers_lines_in_the_whole_file(
    store: Store,
) -> None:
    _seed(store)
    loader = Loader(store, ManualClock(NOW))
    lines = 250_000
    data, sums = _batch(lines)
    assert len(data) > 2 * PIECE_BYTES  # three pieces or more
    bad = data + b'{"tweet_id": "999", "type": "favorites", "at": "2026-11-25T10:00:00Z"}\n'
    with pytest.raises(BatchRejected) as caught:
        loader.load_events(bad, Format.NDJSON, key="p-bad", progress=lambda _: None)
    assert [(e.line, e.field) for e in caught.value.errors] == [(lines + 1, "tweet_id")]
    seen: list[int] = []
    result = loader.load_events(data, Format.NDJSON, key="p", progress=seen.append)
    assert (result.accepted, result.duplicate) == (lines, False)
    assert len(seen) >= 3 and sum(seen) == len(data)
    assert store.totals(POSTS, [FAV, IMP, ENG]) == dict(sums)
