"""The batch-level API: what a batch refers to, batches versus numbered records."""

from __future__ import annotations

import pytest

from engagement_api.ingest import (
    Batch,
    BatchRejected,
    Kind,
    referenced_author_ids,
    referenced_handles,
    referenced_ids,
    referenced_post_ids,
    validate_events,
    validate_posts,
    validate_users,
)
from engagement_api.ingest.decode import numbered

from .builders import NOW, PLAIN, catalog, event, event_batch, ndjson


def test_referenced_post_ids_reads_valid_ids_only() -> None:
    values = [
        event(tweet_id="20"),
        event(tweet_id=21),
        event(tweet_id=" 022 "),
        event(tweet_id="x"),
        event(tweet_id=True),
        event(tweet_id=1),
        event(tweet_id=[1]),
        event(tweet_id=2**64),
        "junk",
    ]
    expected = {20, 21, 22, 1}
    assert referenced_post_ids(numbered(values)) == expected
    assert referenced_post_ids(event_batch(*values)) == expected
    typed = event_batch(*values[:3])
    assert typed.event_rows is not None
    assert referenced_post_ids(typed) == {20, 21, 22}


def test_referenced_ids_of_catalog_batches() -> None:
    tweets = Batch(
        ndjson({"id": "5", "author_id": 42}, {"id": 6, "author_id": "x"}), "ndjson", Kind.TWEETS
    )
    assert referenced_ids(tweets, "id") == {5, 6}
    assert referenced_author_ids(tweets) == {42}
    users = Batch(ndjson({"id": 1, "handle": "Alice"}, {"id": 2, "handle": 3}), "ndjson")
    assert referenced_handles(users) == {"alice"}


def test_decode_errors_are_bad_lines_for_every_kind() -> None:
    data = b'{"id":"1","handle":"a"}\n{oops\n'
    with pytest.raises(BatchRejected) as caught:
        validate_users(Batch(data, "ndjson", Kind.USERS), {})
    assert [e.line for e in caught.value.errors] == [2]
    with pytest.raises(BatchRejected):
        validate_posts(Batch(data, "ndjson", Kind.TWEETS), set(), {})
    with pytest.raises(BatchRejected):
        validate_events(Batch(data, "ndjson", Kind.EVENTS), {}, NOW)


def test_a_batch_decodes_once() -> None:
    batch = event_batch(event(), event(count=2))
    assert batch.event_rows is batch.event_rows
    assert batch.decoded is batch.decoded
    assert validate_events(batch, catalog(), NOW).events == 2
    assert repr(batch).startswith("<Batch ndjson events")


def test_deeply_nested_json_is_a_bad_line_not_a_crash() -> None:
    data = b'{"tweet_id":"1060976163948904448","x":' + b"[" * 100_000 + b"]" * 100_000 + b"}\n"
    with pytest.raises(BatchRejected):
        validate_events(Batch(data, "ndjson", Kind.EVENTS), catalog(), NOW)
    with pytest.raises(BatchRejected):
        validate_events(Batch(b"[" * 100_000, "json", Kind.EVENTS), catalog(), NOW)


def test_bytes_and_records_give_the_same_answer() -> None:
    values = [event(), event(type="impressions", count=50), event(tweet_id=PLAIN, count=-1)]
    assert validate_events(event_batch(*values), catalog(), NOW) == validate_events(
        numbered(values), catalog(), NOW
    )
