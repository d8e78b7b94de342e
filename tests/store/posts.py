"""Posts that the store tests of the read road share: two sharing a video, one without media,
and one at the top of the ID range (its signed form is negative)."""

from __future__ import annotations

from datetime import timedelta

from engagement_api.domain import MediaItem, PostRecord, User
from engagement_api.store.protocols import CatalogStore
from tests.support import NOW

U64_MAX = 2**64 - 1


def seed_posts(store: CatalogStore) -> None:
    """Users 1 and U64_MAX; Posts 10 and 11 (user 1, video 7_10), 12 (user 1) and U64_MAX."""
    store.upsert_users([User(1, "alice"), User(U64_MAX, "edge")])
    store.upsert_posts(
        [
            PostRecord(10, 1, NOW - timedelta(days=1), (MediaItem("7_10", "video"),)),
            PostRecord(11, 1, NOW - timedelta(days=2), (MediaItem("7_10", "video"),)),
            PostRecord(12, 1, NOW - timedelta(days=3)),
            PostRecord(U64_MAX, U64_MAX, NOW),
        ]
    )
