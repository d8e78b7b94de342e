"""``post_facts`` (what the read road reads of each Post, in one statement) agrees with
``get_posts`` on every backend, for loaded, hidden and missing Posts and the whole ID range."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engagement_api.contract.policy import PostFacts
from engagement_api.domain import MediaItem, PostRecord, User
from engagement_api.store import Store
from tests.support import SINGLE_DATABASE, backends

# What this module tests is the catalog's alone: the ClickHouse configuration runs the same code
# on its PostgreSQL catalog.
backend = backends(SINGLE_DATABASE)

CREATED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_post_facts_are_what_get_posts_says(store: Store) -> None:
    store.upsert_users([User(1, "a"), User(2**64 - 1, "b")])
    records = [
        PostRecord(10, 1, CREATED, (MediaItem("7_10", "video"),)),
        PostRecord(11, 1, CREATED - timedelta(days=400), protected=True),
        PostRecord(12, 2**64 - 1, CREATED, deleted=True),
        PostRecord(2**64 - 1, 2**64 - 1, CREATED, protected=True, deleted=True),
        PostRecord(2**63, 1, CREATED + timedelta(seconds=1)),
    ]
    store.upsert_posts(records)
    wanted = [10, 11, 12, 2**64 - 1, 2**63, 999]  # 999 was never loaded
    posts = store.get_posts(wanted)
    facts = store.post_facts(wanted)
    assert facts == {
        p.id: PostFacts(p.id, p.author_id, p.created_at, p.available) for p in posts.values()
    }
    assert sorted(facts) == [10, 11, 12, 2**63, 2**64 - 1]
    assert [facts[i].available for i in (10, 11, 12, 2**63, 2**64 - 1)] == [
        True,
        False,
        False,
        True,
        False,
    ]
    assert store.post_facts([]) == {}


def test_post_facts_of_many_posts_in_chunks(store: Store) -> None:
    store.upsert_users([User(1, "a")])
    store.upsert_posts([PostRecord(i, 1, CREATED) for i in range(1, 1201)])
    facts = store.post_facts(range(1, 1301))
    assert len(facts) == 1200
    assert facts[1200] == PostFacts(1200, 1, CREATED, True)
