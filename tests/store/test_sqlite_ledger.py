"""The batch ledger of a SQLite catalog beside the ClickHouse counters (store/sqlite/ledger.py):
the ``clickhouse`` configuration of the shared suite has a PostgreSQL catalog, so this is where
the SQLite ledger meets the protocol of store/split.py. A SQLite file of the test's own and a
database on the run's shared cluster; every count is checked against what was sent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engagement_api.contract.metrics import METRICS
from engagement_api.domain import MediaItem, PostRecord, User
from engagement_api.store import IdempotencyConflict, open_store
from engagement_api.store.deltas import DeltaTable
from engagement_api.store.split import SplitStore, encode_deltas
from engagement_api.store.sqlite import SqliteStore
from tests.support import NOW

FAV = METRICS["favorites"].code
VIEWS = METRICS["video_views"].code
HOUR = int(NOW.timestamp()) // 3600
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)
#: Posts 10 and 11 carry the same video, 12 a video of its own, 13 none.
POSTS = [
    PostRecord(10, 1, NOW, (MediaItem("7_shared", "video"),)),
    PostRecord(11, 1, NOW, (MediaItem("7_shared", "video"),)),
    PostRecord(12, 1, NOW, (MediaItem("7_own", "video"),)),
    PostRecord(13, 1, NOW, ()),
]


@pytest.fixture
def split(tmp_path: Path, ch_url: str) -> Iterator[SplitStore]:
    store = open_store(f"sqlite:///{tmp_path / 'catalog.db'}", ch_url)
    assert isinstance(store, SplitStore) and isinstance(store.catalog, SqliteStore)
    store.migrate()
    store.upsert_users([User(1, "a")])
    store.upsert_posts(POSTS)
    yield store
    store.close()


def test_a_batch_counts_once_and_its_key_holds_its_checksum(split: SplitStore) -> None:
    deltas = {(10, FAV, HOUR): 3, (11, FAV, HOUR): 2, (10, FAV, HOUR - 5): 1}
    assert split.apply_batch("b-1", "c1", 6, 100, deltas, NOW) is True
    assert split.pending() == []
    record = split.get_batch("b-1")
    assert record is not None and (record.checksum, record.events, record.size) == ("c1", 6, 100)
    assert split.totals([10, 11, 12], [FAV]) == {(10, FAV): 4, (11, FAV): 2}
    # the same batch again: a duplicate, nothing written
    assert split.apply_batch("b-1", "c1", 6, 100, deltas, NOW) is False
    # the same key with other content: refused, nothing written
    with pytest.raises(IdempotencyConflict):
        split.apply_batch("b-1", "c2", 1, 10, {(12, FAV, HOUR): 9}, NOW)
    assert split.totals([10, 11, 12], [FAV]) == {(10, FAV): 4, (11, FAV): 2}
    assert sorted(split.hourly([10, 11, 12], [FAV], HOUR - 6, HOUR + 1)) == [
        (10, FAV, HOUR - 5, 1),
        (10, FAV, HOUR, 3),
        (11, FAV, HOUR, 2),
    ]


def test_a_claim_left_pending_is_finished_by_finish_stale(split: SplitStore) -> None:
    table = DeltaTable.from_mapping({(10, FAV, HOUR): 5, (13, FAV, HOUR - 1): 7})
    claim = split.catalog.claim_batch("lost", "c", 2, 50, encode_deltas(table), 77, LONG_AGO)
    assert claim is not None
    assert (claim.key, claim.checksum, claim.events, claim.size, claim.batch_id) == (
        "lost",
        "c",
        2,
        50,
        77,
    )
    assert split.pending() == [claim]
    assert split.catalog.pending_batches(LONG_AGO) == [claim]  # claimed at LONG_AGO exactly
    assert split.catalog.pending_batches(datetime(2019, 1, 1, tzinfo=UTC)) == []
    # claimed again under the same key and checksum: the claim that is there, not a new one
    again = split.catalog.claim_batch("lost", "c", 2, 50, encode_deltas(table), 78, NOW)
    assert again == claim
    with pytest.raises(IdempotencyConflict):  # a pending claim holds its checksum too
        split.catalog.claim_batch("lost", "other", 2, 50, encode_deltas(table), 79, NOW)
    assert split.get_batch("lost") is None
    assert split.totals([10, 13], [FAV]) == {}  # a claim alone counts nothing

    assert split.finish_stale(older_than=0) == 1
    assert split.pending() == []
    assert split.get_batch("lost") is not None
    assert split.totals([10, 13], [FAV]) == {(10, FAV): 5, (13, FAV): 7}
    assert split.catalog.finish_batch("lost", NOW) is False  # nothing pending to move
    assert split.finish_stale(older_than=0) == 0
    # the client's resend is a duplicate; the finished key still refuses other content
    assert split.apply_batch("lost", "c", 2, 50, dict(table), NOW) is False
    with pytest.raises(IdempotencyConflict):
        split.catalog.claim_batch("lost", "other", 2, 50, encode_deltas(table), 80, NOW)
    assert split.totals([10, 13], [FAV]) == {(10, FAV): 5, (13, FAV): 7}


def test_video_views_are_summed_over_the_posts_sharing_the_video(split: SplitStore) -> None:
    assert sorted(split.catalog.video_sharers([10, 12, 13, 99])) == [
        (10, 10),
        (10, 11),
        (12, 12),
    ]
    assert sorted(split.catalog.video_sharers([11])) == [(11, 10), (11, 11)]
    assert split.catalog.video_sharers([]) == []
    deltas = {(10, VIEWS, HOUR): 4, (11, VIEWS, HOUR - 2): 6, (12, VIEWS, HOUR): 1}
    assert split.apply_batch("views", "v", 11, 30, deltas, NOW) is True
    assert split.video_totals([10, 11, 12, 13]) == {10: 10, 11: 10, 12: 1}
    assert split.lifetime([10, 11, 12, 13], [VIEWS, FAV]) == {
        (10, VIEWS): 10,
        (11, VIEWS): 10,
        (12, VIEWS): 1,
    }
    assert split.totals([10, 11, 12], [VIEWS]) == {(10, VIEWS): 4, (11, VIEWS): 6, (12, VIEWS): 1}
