"""Large event batches through the Loader, on every backend: the columnar path end to end,
exactly once, every bad line listed, and the ledger deciding replays before validation.

"Large" is what the Loader treats differently: a batch of COLUMNAR_MIN_BYTES (256 KiB) or more
goes the columnar way, and one of more than PIECE_BYTES (8 MiB) is validated in pieces. The
batches here are a few times the first (LINES); only the test of pieces crosses the second, on
SQLite alone: pieces are the Loader's (validation and the catalog's Post look-ups per piece),
and what reaches the store is one batch of folded deltas, of the same shape as the others'."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import timedelta

import pytest

from engagement_api.clock import ManualClock
from engagement_api.contract.errors import Conflict
from engagement_api.contract.metrics import METRICS
from engagement_api.domain import PostRecord, User
from engagement_api.ingest import Batch, BatchRejected, Format
from engagement_api.ingest.batch import COLUMNAR_MIN_BYTES
from engagement_api.service.loading import PIECE_BYTES, EventSource, Loader
from engagement_api.store import Store
from tests.support import NOW

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
        at = (CREATED + timedelta(seconds=(i * 37 + seed) % 200_000)).strftime("%Y-%m-%dT%H:%M:%SZ")
        count = 1 + i % 4
        out.append(json.dumps({"tweet_id": str(pid), "type": kind, "at": at, "count": count}))
        code = FAV if kind == "favorites" else IMP
        sums[(pid, code)] += count
        if kind == "favorites":
            sums[(pid, ENG)] += count
    return ("\n".join(out) + "\n").encode(), sums


#: About 1 MB (85 bytes a line): 4 x COLUMNAR_MIN_BYTES, so that a third of it (the several
#: files' batches) still takes the columnar path; far below PIECE_BYTES (one piece).
LINES = 12_000


def test_a_large_batch_is_applied_once_and_counted_exactly(store: Store) -> None:
    _seed(store)
    loader = Loader(store, store, ManualClock(NOW))
    data, sums = _batch(LINES)
    assert 3 * COLUMNAR_MIN_BYTES < len(data) < PIECE_BYTES
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
    loader = Loader(store, store, ManualClock(NOW))
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
    loader = Loader(store, store, ManualClock(NOW))
    data, sums = _batch(LINES)
    loader.load_events(data, Format.NDJSON, key="k-1")
    # a server whose clock says the events are in the future would refuse the batch
    loader = Loader(store, store, ManualClock(CREATED))
    again = loader.load_events(data, Format.NDJSON, key="k-1")
    assert (again.accepted, again.duplicate) == (LINES, True)
    assert store.totals(POSTS, [FAV, IMP, ENG]) == dict(sums)
    with pytest.raises(BatchRejected):
        loader.load_events(data, Format.NDJSON, key="k-2")


@pytest.mark.parametrize("backend", ["sqlite"])  # (see the module's docstring)
def test_a_file_in_pieces_with_progress_adds_up_and_numbers_lines_in_the_whole_file(
    store: Store,
) -> None:
    _seed(store)
    loader = Loader(store, store, ManualClock(NOW))
    lines = 200_000  # 17 MB: just over 2 x PIECE_BYTES
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


def test_several_files_are_applied_in_order_each_once_while_the_next_is_validated(
    store: Store,
) -> None:
    _seed(store)
    loader = Loader(store, store, ManualClock(NOW))
    batches = [_batch(LINES // 3, seed=s) for s in range(3)]
    assert all(Batch(data, Format.NDJSON, "events").event_frame is not None for data, _ in batches)
    small = _batch(40, seed=9)  # the row paths, between two columnar batches
    datas = [batches[0][0], small[0], batches[1][0], batches[0][0], batches[2][0]]
    read: list[int] = []

    def source(i: int) -> EventSource:
        def get() -> tuple[bytes, Format, str | None]:
            read.append(i)
            return datas[i], Format.NDJSON, None

        return get

    results = list(loader.load_event_files(source(i) for i in range(len(datas))))
    assert read == [0, 1, 2, 3, 4]
    assert [(r.accepted, r.duplicate) for r in results] == [
        (LINES // 3, False),
        (40, False),
        (LINES // 3, False),
        (LINES // 3, True),  # the first file again: validated before the first was applied,
        (LINES // 3, False),  # and still counted once (the ledger decides in the transaction)
    ]
    assert results[3].key == results[0].key
    expected = batches[0][1] + small[1] + batches[1][1] + batches[2][1]
    assert store.totals(POSTS, [FAV, IMP, ENG]) == dict(expected)


def test_a_bad_file_stops_the_run_after_the_files_before_it(store: Store) -> None:
    _seed(store)
    loader = Loader(store, store, ManualClock(NOW))
    good, sums = _batch(LINES // 3)
    bad = good + b'{"tweet_id": "999", "type": "favorites", "at": "2026-11-25T10:00:00Z"}\n'
    later, _ = _batch(LINES // 3, seed=5)
    read: list[bytes] = []

    def source(data: bytes, key: str) -> EventSource:
        def get() -> tuple[bytes, Format, str | None]:
            read.append(data)
            return data, Format.NDJSON, key

        return get

    run = loader.load_event_files(
        [source(good, "f-1"), source(bad, "f-2"), source(later, "f-3"), source(later, "f-4")]
    )
    first = next(run)
    assert (first.key, first.duplicate) == ("f-1", False)
    with pytest.raises(BatchRejected) as caught:
        next(run)
    assert [(e.line, e.field) for e in caught.value.errors] == [(LINES // 3 + 1, "tweet_id")]
    assert len(read) <= 3  # at most the file after the bad one was read, never the fourth
    assert [store.get_batch(k) is not None for k in ("f-1", "f-2", "f-3", "f-4")] == [
        True,
        False,
        False,
        False,
    ]
    assert store.totals(POSTS, [FAV, IMP, ENG]) == dict(sums)
