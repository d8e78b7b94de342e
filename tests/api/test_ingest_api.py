"""POST /ingest/{users,tweets,events} over real HTTP (spec ingest.md): formats, atomic batches
with every bad line reported, exactly once per Idempotency-Key, credentials kept apart, 413.

"Nothing applied" is checked through the read API: the counts a caller sees do not move.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from engagement_api.ingest.batch import COLUMNAR_MIN_BYTES, Batch
from tests.support import NOW
from tests.support.harness import (
    ALICE,
    MAX_INGEST_BYTES,
    PHOTO,
    RECENT,
    Api,
    at,
    body,
)
from tests.support.model import Counts, Event, iso

NOT_AUTHENTICATED = "Your account could not be authenticated. Reason: "
KEY_REQUIRED = "Idempotency-Key header is required on /ingest/events"

#: What the read API shows of alice's two Posts: lifetime and a window around the events.
WATCHED = [RECENT, PHOTO]
TOTALS_ASK = body(WATCHED, ["impressions", "engagements", "favorites", "retweets", "replies"])
WINDOW_ASK = body(
    WATCHED,
    ["impressions", "engagements", "favorites", "url_clicks"],
    {"hourly": {"group_by": ["tweet.id", "engagement.type", "engagement.day", "engagement.hour"]}},
    start="2026-11-24T00:00:00Z",
)


def snapshot(api: Api) -> tuple[Any, Any]:
    """Everything the read API says about the watched Posts."""
    return api.read_ok("totals", TOTALS_ASK), api.read_ok("historical", WINDOW_ASK)


def expected_totals(events: list[Event]) -> dict[str, dict[str, str]]:
    counts = Counts(events)
    metrics = TOTALS_ASK["engagement_types"]
    return {str(p): {m: str(counts.totals_value(p, m)) for m in metrics} for p in WATCHED}


def ev(post: int, kind: str, moment: Any, count: int | None = None, **extra: Any) -> str:
    """One NDJSON line."""
    record: dict[str, Any] = {"tweet_id": str(post), "type": kind, "at": iso(moment), **extra}
    if count is not None:
        record["count"] = count
    return json.dumps(record)


GOOD = [
    Event(RECENT, "favorites", at(26, 10)),
    Event(RECENT, "impressions", at(26, 10, 5), 250),
    Event(PHOTO, "url_clicks", at(25, 22, 59, 59), 3),
    Event(PHOTO, "favorites", at(25, 23), -1),
    Event(RECENT, "replies", at(26, 12, 34)),  # 4 minutes ahead of the server clock
]


# -- formats -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["ndjson", "json"])
def test_events_are_counted_once_acknowledged(api: Api, fmt: str) -> None:
    response = api.ingest("events", [e.record() for e in GOOD], key="batch-1", fmt=fmt)
    assert response.status_code == 200
    assert response.json() == {"accepted": len(GOOD), "duplicate": False}
    totals, window = snapshot(api)
    assert totals == {"perTweet": expected_totals(GOOD)}
    hourly = window["hourly"]
    assert hourly[str(RECENT)]["impressions"]["2026-11-26"]["10"] == "250"
    assert hourly[str(PHOTO)]["url_clicks"]["2026-11-25"]["22"] == "3"
    assert hourly[str(PHOTO)]["favorites"]["2026-11-25"]["23"] == "-1"
    assert hourly[str(PHOTO)]["engagements"]["2026-11-25"] == {
        **{f"{h:02d}": "0" for h in range(24)},
        "22": "3",
    }


def test_event_fields_leniency(api: Api) -> None:
    """Integer IDs read exactly, pre-aggregated counts, the old type name, blank lines, a
    zoned timestamp, and fields the server does not know."""
    lines = [
        json.dumps(
            {"tweet_id": RECENT, "type": "favorites", "at": "2026-11-26T10:00:00Z", "count": 7}
        ),
        "",
        json.dumps(
            {
                "tweet_id": str(RECENT),
                "type": "media_clicks",
                "at": "2026-11-26T12:15:00+02:00",
                "source": "export",
            }
        ),
        "   ",
        json.dumps(
            {"tweet_id": str(RECENT), "type": "favorites", "at": "2026-11-26T10:30", "count": None}
        ),
    ]
    response = api.ingest("events", "\n".join(lines).encode(), key="lenient")
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 3, "duplicate": False}
    data = api.read_ok(
        "historical",
        body(
            [RECENT],
            ["favorites", "media_engagements", "engagements"],
            {"h": {"group_by": ["engagement.type", "engagement.hour"]}},
            start="2026-11-26T00:00:00Z",
        ),
    )
    assert data["h"]["favorites"]["10"] == "8"
    assert data["h"]["media_engagements"]["10"] == "1"  # 12:15+02:00 is 10:15 UTC
    assert data["h"]["engagements"]["10"] == "9"


@pytest.mark.parametrize("fmt", ["ndjson", "json"])
def test_users_and_tweets_are_upserts(api: Api, fmt: str) -> None:
    users = [{"id": "2001", "handle": "dora"}, {"id": 2002, "handle": "Eve_2"}]
    tweets = [
        {
            "id": "1400000000000000001",
            "author_id": "2001",
            "created_at": iso(NOW - timedelta(days=1)),
            "media": [{"media_key": "7_dora", "type": "video"}],
        },
        {"id": 1400000000000000002, "author_id": 2002, "created_at": iso(NOW)},
    ]
    for _ in range(2):  # loading the same records twice changes nothing
        for kind, records in (("users", users), ("tweets", tweets)):
            response = api.ingest(kind, records, fmt=fmt)
            assert response.status_code == 200, response.text
            assert response.json() == {"accepted": 2}
    api.send_events([Event(1400000000000000001, "video_views", NOW - timedelta(hours=1), 4)])
    data = api.read_ok(
        "totals",
        body(["1400000000000000001", "1400000000000000002"], ["video_views"]),
        auth="bearer",
    )
    assert data == {
        "perTweet": {
            "1400000000000000001": {"video_views": "4"},
            "1400000000000000002": {"video_views": "0"},
        }
    }


def test_a_post_update_keeps_the_fields_it_leaves_out(api: Api) -> None:
    post = {"id": str(RECENT), "author_id": str(ALICE), "created_at": iso(NOW - timedelta(days=10))}
    api.load("tweets", [{**post, "protected": True}])
    assert api.read("totals", body([RECENT]), auth="bearer").json() == {
        "errors": ["Tweet ID(s) are unavailable"]
    }
    api.load("tweets", [{**post, "protected": False}])
    api.send_events([Event(RECENT, "video_views", at(26, 1), 2)])  # media kept: still a video
    assert api.read_ok("totals", body([RECENT], ["video_views"]), auth="bearer") == {
        "perTweet": {str(RECENT): {"video_views": "2"}}
    }


# -- atomic batches: every bad line, nothing applied ---------------------------------------

BAD_EVENTS = "\n".join(
    [
        ev(RECENT, "favorites", at(26, 10)),
        ev(1869999999999999998, "favorites", at(26, 10)),
        ev(RECENT, "favorites", at(26, 10), 0),
        json.dumps({"tweet_id": str(RECENT), "type": "favorites"}),
        "",
        ev(RECENT, "likes", at(26, 10)),
        '{"tweet_id": ',
        ev(PHOTO, "video_views", at(26, 10)),
        ev(RECENT, "favorites", NOW + timedelta(minutes=5, seconds=1)),
        ev(RECENT, "favorites", at(1, 0)),
        ev(RECENT, "impressions", at(26, 10), -1),
        ev(RECENT, "engagements", at(26, 10)),
        json.dumps({"tweet_id": "12ab", "type": "favorites", "at": iso(at(26, 10)), "count": 1.0}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"tweet_id": str(RECENT), "type": "favorites", "at": "26/11/2026"}),
        ev(PHOTO, "impressions", at(26, 11), 9),
    ]
).encode()
BAD_EVENTS_ERRORS = [
    'line 2: tweet_id "1869999999999999998": Post not loaded',
    "line 3: count 0: must not be zero",
    "line 4: at: is required",
    'line 6: type "likes": is not an engagement type',
    "line 7: invalid JSON: Input data was truncated",
    'line 8: type "video_views": the Post has no video media',
    'line 9: at "2026-11-26T12:35:01Z": is more than 5 minutes in the future',
    'line 10: at "2026-11-01T00:00:00Z": precedes the Post\'s created_at 2026-11-16T12:30:00Z',
    "line 11: count -1: may be negative only for favorites, retweets, quote_tweets, replies",
    'line 12: type "engagements": is derived from the other types and is never sent',
    'line 13: tweet_id "12ab": must be a string of decimal digits',
    "line 13: count 1.0: must be an integer",
    "line 14: must be a JSON object, not an array",
    'line 15: at "26/11/2026": must be a date or date-time such as 2026-10-01T12:00:00Z',
]

BATCHES = [
    # (case, kind, body, content type, errors)
    ("events: every bad line", "events", BAD_EVENTS, "application/x-ndjson", BAD_EVENTS_ERRORS),
    (
        "events: JSON array elements are numbered",
        "events",
        json.dumps([json.loads(ev(RECENT, "favorites", at(26, 10))), 1, {}]).encode(),
        "application/json",
        [
            "line 2: must be a JSON object, not a number",
            "line 3: tweet_id: is required",
            "line 3: type: is required",
            "line 3: at: is required",
        ],
    ),
    (
        "events: a JSON array that does not parse",
        "events",
        b'[{"tweet_id": 1}, {]',
        "application/json",
        ["invalid JSON: JSON is malformed: object keys must be strings (byte 19)"],
    ),
    (
        "events: not an array",
        "events",
        b'{"tweet_id": "1"}',
        "application/json",
        ["must be a JSON array of objects, not an object"],
    ),
    (
        "tweets",
        "tweets",
        "\n".join(
            [
                json.dumps({"id": "5", "author_id": "99", "created_at": "2026-11-01"}),
                json.dumps({"id": "6", "author_id": str(ALICE)}),
                json.dumps({"id": str(RECENT), "author_id": "1002", "created_at": "2026-11-01"}),
                json.dumps({"id": "7", "author_id": str(ALICE), "created_at": "2026-11-01"}),
            ]
        ).encode(),
        "application/x-ndjson",
        [
            'line 1: author_id "99": User not loaded',
            "line 2: created_at: is required",
            'line 3: author_id "1002": differs from the loaded Post\'s author_id 1001',
            'line 3: created_at "2026-11-01": differs from the loaded Post\'s created_at '
            "2026-11-16T12:30:00Z",
        ],
    ),
    (
        "users",
        "users",
        json.dumps(
            [
                {"id": "7", "handle": "ALICE"},
                {"id": "8", "handle": "bad handle"},
                {"id": "x", "handle": "ok"},
                {"id": "9", "handle": "fine"},
            ]
        ).encode(),
        "application/json",
        [
            'line 1: handle "ALICE": is taken by user 1001',
            'line 2: handle "bad handle": must be 1 to 15 letters, digits or underscores',
            'line 3: id "x": must be a string of decimal digits',
        ],
    ),
]


@pytest.mark.parametrize(
    ("kind", "content", "content_type", "errors"),
    [case[1:] for case in BATCHES],
    ids=[case[0] for case in BATCHES],
)
def test_a_batch_with_bad_lines_is_refused_whole(
    api: Api, kind: str, content: bytes, content_type: str, errors: list[str]
) -> None:
    before = snapshot(api)
    response = api.ingest(kind, content, key="bad-batch", headers={"Content-Type": content_type})
    assert response.status_code == 400
    assert response.json() == {"errors": errors}
    assert snapshot(api) == before
    if kind == "users":  # the good line 4 was not applied either: handle "fine" is free
        api.load("users", [{"id": "10", "handle": "FINE"}])
    if kind == "tweets":  # nor was Post 7: a later load may give it another created_at
        api.load("tweets", [{"id": "7", "author_id": str(ALICE), "created_at": "2026-11-02"}])


def test_a_refused_batch_does_not_use_up_its_key(api: Api) -> None:
    """The producer fixes the batch and resends it under the same key."""
    fixed = b"\n".join(
        line
        for line in BAD_EVENTS.split(b"\n")
        if line
        in (
            ev(RECENT, "favorites", at(26, 10)).encode(),
            ev(PHOTO, "impressions", at(26, 11), 9).encode(),
        )
    )
    assert api.ingest("events", BAD_EVENTS, key="fix-me").status_code == 400
    response = api.ingest("events", fixed, key="fix-me")
    assert response.status_code == 200
    assert response.json() == {"accepted": 2, "duplicate": False}
    totals, _ = snapshot(api)
    assert totals["perTweet"] == expected_totals(
        [Event(RECENT, "favorites", at(26, 10)), Event(PHOTO, "impressions", at(26, 11), 9)]
    )


# -- exactly once ------------------------------------------------------------------------------


def test_replay_with_the_same_key_is_acknowledged_and_not_counted(api: Api) -> None:
    records = [e.record() for e in GOOD]
    first = api.ingest("events", records, key="once")
    assert first.status_code == 200
    assert first.json() == {"accepted": len(GOOD), "duplicate": False}
    after_first = snapshot(api)
    assert after_first[0] == {"perTweet": expected_totals(GOOD)}
    for _ in range(3):
        again = api.ingest("events", records, key="once")
        assert again.status_code == 200
        assert again.json() == {"accepted": len(GOOD), "duplicate": True}
    assert snapshot(api) == after_first
    # the same events under another key are another batch
    other = api.ingest("events", records, key="twice")
    assert other.json() == {"accepted": len(GOOD), "duplicate": False}
    assert snapshot(api)[0] == {"perTweet": expected_totals(GOOD + GOOD)}


@pytest.mark.parametrize(
    "change",
    ["another event", "same events as a JSON array", "one more byte"],
)
def test_same_key_with_another_body_is_a_conflict(api: Api, change: str) -> None:
    records = [e.record() for e in GOOD]
    assert api.ingest("events", records, key="k1").status_code == 200
    after = snapshot(api)
    if change == "another event":
        response = api.ingest("events", [*records, GOOD[0].record()], key="k1")
    elif change == "same events as a JSON array":
        response = api.ingest("events", records, key="k1", fmt="json")
    else:
        raw = b"".join(json.dumps(r).encode() + b"\n" for r in records) + b"\n"
        response = api.ingest("events", raw, key="k1")
    assert response.status_code == 409
    assert response.json() == {
        "errors": ["Idempotency-Key 'k1' was already used for a different batch"]
    }
    assert snapshot(api) == after


def test_concurrent_senders_of_one_batch_apply_it_once(api: Api) -> None:
    """Eight clients race to deliver the same batch under one key, and eight more deliver
    eight other batches: each batch is counted once."""
    records = [e.record() for e in GOOD]
    start = threading.Barrier(16)
    answers: dict[str, list[dict[str, Any]]] = {"same": [], "other": []}
    lock = threading.Lock()

    def send(key: str, group: str) -> None:
        start.wait(timeout=30)
        response = api.ingest("events", records, key=key)
        assert response.status_code == 200, response.text
        with lock:
            answers[group].append(response.json())

    threads = [threading.Thread(target=send, args=("shared", "same")) for _ in range(8)]
    threads += [threading.Thread(target=send, args=(f"own-{i}", "other")) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(a["duplicate"] for a in answers["same"]) == [False] + [True] * 7
    assert all(a == {"accepted": len(GOOD), "duplicate": False} for a in answers["other"])
    totals, _ = snapshot(api)
    assert totals == {"perTweet": expected_totals(GOOD * 9)}


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, KEY_REQUIRED),
        ({"Idempotency-Key": ""}, KEY_REQUIRED),
        (
            {"Idempotency-Key": "x" * 256},
            "Idempotency-Key must be 1 to 255 visible ASCII characters",
        ),
    ],
    ids=["missing", "empty", "too long"],
)
def test_events_need_an_idempotency_key(api: Api, headers: dict[str, str], message: str) -> None:
    before = snapshot(api)
    response = api.ingest("events", [e.record() for e in GOOD], headers=headers)
    assert response.status_code == 400
    assert response.json() == {"errors": [message]}
    assert snapshot(api) == before
    ok = api.ingest("events", [e.record() for e in GOOD], headers={"Idempotency-Key": "x" * 255})
    assert ok.status_code == 200


@pytest.mark.parametrize("kind", ["users", "tweets", "events"])
@pytest.mark.parametrize("content", [b"", b"\n \n"], ids=["empty", "blank"])
def test_an_empty_batch_is_refused(api: Api, kind: str, content: bytes) -> None:
    response = api.ingest(kind, content, key="empty-1")
    assert response.status_code == 400
    assert response.json() == {
        "errors": ["Request body is empty: send NDJSON, a JSON array or CSV"]
    }


def test_users_and_tweets_need_no_idempotency_key(api: Api) -> None:
    assert api.ingest("users", [{"id": "3001", "handle": "zed"}]).json() == {"accepted": 1}


# -- credentials are kept apart ------------------------------------------------------------


@pytest.mark.parametrize("kind", ["users", "tweets", "events"])
@pytest.mark.parametrize(
    ("auth", "header", "reason"),
    [
        ("bearer", None, "Ingest key not found"),  # the app's API bearer token
        ("disabled-bearer", None, "Ingest key not found"),
        ("alice", None, "Unknown Authorization Type"),  # OAuth 1.0a user context
        ("app", None, "Unknown Authorization Type"),
        (None, None, "Unknown Authorization Type"),
        (None, "Bearer " + "A" * 48, "Ingest key not found"),
        (None, "Basic aW5nZXN0OmtleQ==", "Unknown Authorization Type"),
    ],
)
def test_ingest_refuses_anything_but_an_ingest_key(
    api: Api, kind: str, auth: str | None, header: str | None, reason: str
) -> None:
    by_kind: dict[str, list[dict[str, Any]]] = {
        "users": [{"id": "4001", "handle": "mallory"}],
        "tweets": [{"id": "4002", "author_id": str(ALICE), "created_at": iso(NOW)}],
        "events": [e.record() for e in GOOD],
    }
    records = by_kind[kind]
    before = snapshot(api)
    headers = {"Authorization": header} if header else {}
    response = api.ingest(kind, records, key="creds", auth=auth, headers=headers)
    assert response.status_code == 401
    assert response.json() == {"errors": [NOT_AUTHENTICATED + reason]}
    assert snapshot(api) == before
    if kind == "tweets":
        assert api.read("totals", body([4002]), auth="bearer").json() == {
            "errors": ["Tweet ID(s) are unavailable"]
        }


@pytest.mark.parametrize("endpoint", ["totals", "28hr", "historical"])
def test_an_ingest_key_is_not_an_api_credential(api: Api, endpoint: str) -> None:
    response = api.read(endpoint, body(), auth="ingest")
    assert response.status_code == 401
    assert response.json() == {"errors": [NOT_AUTHENTICATED + "Bearer token not found"]}


# -- size limit --------------------------------------------------------------------------------


def _padded_events(size: int) -> bytes:
    """GOOD as NDJSON, padded with blank lines to exactly ``size`` bytes."""
    raw = b"".join(json.dumps(e.record()).encode() + b"\n" for e in GOOD)
    assert len(raw) <= size
    return raw + b"\n" * (size - len(raw))


def test_ingest_body_limit(make_api: Callable[..., Api]) -> None:
    limit = 2048
    api = make_api(max_ingest_bytes=limit)
    before = snapshot(api)
    too_large = {"errors": [f"Request body is larger than the limit of {limit} bytes"]}
    for kind in ("users", "tweets", "events"):
        response = api.ingest(kind, _padded_events(limit + 1), key="big")
        assert response.status_code == 413
        assert response.json() == too_large
        # streamed without Content-Length
        content = _padded_events(limit + 1)
        response = api.request(
            "POST",
            f"/ingest/{kind}",
            iter([content[:1000], content[1000:]]),
            auth="ingest",
            headers={"Content-Type": "application/x-ndjson", "Idempotency-Key": "big"},
        )
        assert response.status_code == 413
        assert response.json() == too_large
    assert snapshot(api) == before
    # precedence: 401 before 413, and 413 before the missing key's 400
    response = api.ingest("events", _padded_events(limit + 1), key="big", auth="bearer")
    assert response.status_code == 401
    response = api.ingest("events", _padded_events(limit + 1))
    assert response.status_code == 413
    # exactly the limit is read
    response = api.ingest("events", _padded_events(limit), key="big")
    assert response.status_code == 200
    assert response.json() == {"accepted": len(GOOD), "duplicate": False}
    assert snapshot(api)[0] == {"perTweet": expected_totals(GOOD)}


def test_default_ingest_limit_is_far_above_the_read_limit(api: Api) -> None:
    """The read endpoints' limit does not apply to ingest (64 MiB by default; 256 KiB here)."""
    events = [Event(RECENT, "impressions", at(26, h % 12), 1) for h in range(1500)]
    raw = b"".join(json.dumps(e.record()).encode() + b"\n" for e in events)
    assert api.settings.max_body_bytes < len(raw) < MAX_INGEST_BYTES
    response = api.ingest("events", raw, key="wide")
    assert response.status_code == 200
    assert response.json() == {"accepted": 1500, "duplicate": False}
    data = api.read_ok("totals", body([RECENT], ["impressions"]))
    assert data == {"perTweet": {str(RECENT): {"impressions": "1500"}}}


def test_ingest_paths_answer_405_and_404(api: Api) -> None:
    response = api.request("GET", "/ingest/users", auth="ingest")
    assert response.status_code == 405
    assert response.json() == {"errors": ["Method GET is not allowed on /ingest/users"]}
    response = api.request("POST", "/ingest/likes", b"[]", auth="ingest")
    assert response.status_code == 404
    assert response.json() == {"errors": ["No such path: /ingest/likes"]}


def test_a_large_batch_is_read_in_columns_with_the_same_answers(api: Api) -> None:
    """Over 256 KiB of plain NDJSON takes the columnar path: bad lines are still each named
    (400, nothing applied), and the fixed batch is counted once."""
    good = [
        Event(
            RECENT if i % 2 else PHOTO,
            "favorites" if i % 3 else "impressions",
            at(26, 8 + i % 3, i % 60),
            1 + i % 5,
        )
        for i in range(4_000)
    ]
    lines = [json.dumps(e.record()) for e in good]
    data = ("\n".join(lines) + "\n").encode()
    assert len(data) > COLUMNAR_MIN_BYTES
    assert Batch(data, "ndjson", "events").event_frame is not None  # the columnar path
    before = snapshot(api)
    bad = (
        data
        + (
            ev(RECENT, "favorites", at(26, 9), 0) + "\n" + ev(999, "favorites", at(26, 9)) + "\n"
        ).encode()
    )
    response = api.ingest("events", bad, key="large")
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            "line 4001: count 0: must not be zero",
            'line 4002: tweet_id "999": Post not loaded',
        ]
    }
    assert snapshot(api) == before
    for duplicate in (False, True):
        response = api.ingest("events", data, key="large")
        assert response.status_code == 200
        assert response.json() == {"accepted": len(good), "duplicate": duplicate}
    totals, _ = snapshot(api)
    assert totals["perTweet"] == expected_totals(good)
