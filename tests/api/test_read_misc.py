"""The read endpoints over real HTTP: video views only on Posts with a video at ingest, and a
Post deleted after ingest that becomes unavailable but keeps its counts."""

from __future__ import annotations

from datetime import timedelta

from tests.support import NOW
from tests.support.harness import (
    ALICE,
    GIF,
    PHOTO,
    RECENT,
    Api,
    at,
    body,
)
from tests.support.model import (
    Event,
    iso,
)

# -- misc ------------------------------------------------------------------------------------


def test_video_views_only_on_posts_with_video_at_ingest(api: Api) -> None:
    response = api.ingest(
        "events", [Event(GIF, "video_views", at(26, 1)).record()], key="gif-views"
    )
    assert response.status_code == 400
    assert response.json() == {
        "errors": ['line 1: type "video_views": the Post has no video media']
    }
    api.send_events([Event(GIF, "media_views", at(26, 1), 3)])
    data = api.read_ok(
        "historical", body([GIF], ["media_views", "video_views"], start="2026-11-26T00:00Z")
    )
    assert data["perTweet"] == {str(GIF): {"media_views": "3", "video_views": "0"}}


def test_deleted_after_ingest_becomes_unavailable_but_keeps_its_counts(api: Api) -> None:
    api.send_events(
        [Event(PHOTO, "favorites", at(26, 1), 2), Event(RECENT, "favorites", at(26, 1))]
    )
    ask = body([PHOTO, RECENT], ["favorites"])
    assert api.read_ok("totals", ask)["perTweet"] == {
        str(RECENT): {"favorites": "1"},
        str(PHOTO): {"favorites": "2"},
    }
    api.load(
        "tweets",
        [
            {
                "id": str(PHOTO),
                "author_id": str(ALICE),
                "created_at": iso(NOW - timedelta(days=3)),
                "deleted": True,
            }
        ],
    )
    assert api.read_ok("totals", ask) == {
        "perTweet": {str(RECENT): {"favorites": "1"}},
        "errors": ["1 Tweet ID(s) are unavailable"],
        "unavailable_tweet_ids": [str(PHOTO)],
    }
    api.load(
        "tweets",
        [
            {
                "id": str(PHOTO),
                "author_id": str(ALICE),
                "created_at": iso(NOW - timedelta(days=3)),
                "deleted": False,
            }
        ],
    )
    assert api.read_ok("totals", ask)["perTweet"][str(PHOTO)] == {"favorites": "2"}
