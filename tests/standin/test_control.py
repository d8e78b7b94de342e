"""The stand-in over real HTTP: its seeded groups, the two clocks, the control endpoints, the
request log, faults at the socket, reset, and determinism."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from engagement_api.ingest.generator import generate
from engagement_api.service.standin import DAYS, TWEETS, USERS, video_key
from engagement_api.testing.standin import Standin
from tests.standin.conftest import PREFIX, ask, oauth_header, read

FROZEN = datetime(2025, 6, 1, 12, tzinfo=UTC)


def control(standin: Standin, method: str, path: str, body: Any = None) -> httpx.Response:
    return httpx.request(method, f"{standin.base_url}/_standin/{path}", json=body, timeout=30)


def test_the_fixture_is_seeded_and_frozen_as_asked(engagement_standin: Standin) -> None:
    standin = engagement_standin
    assert standin.now == FROZEN  # --engagement-standin-now (pyproject addopts)
    assert standin.seed == 0
    info = control(standin, "GET", "info").json()
    assert info["base_url"] == standin.base_url
    assert info["now"] == "2025-06-01T12:00:00Z"
    for key in ("consumer_key", "consumer_secret", "bearer_token", "access_token", "user_id"):
        assert info[key] == getattr(standin, key)
    assert set(info["post_ids"]) == {
        "owned",
        "unowned",
        "older_than_90_days",
        "older_than_1800_days",
        "deleted",
        "protected",
        "shared_video",
    }
    assert all(info["post_ids"].values()), info["post_ids"]


def test_each_group_exercises_what_it_says(engagement_standin: Standin) -> None:
    s, ids = engagement_standin, engagement_standin.post_ids
    owned = read(s, "28hr", ask(ids["owned"], ["impressions", "favorites"]))
    assert owned.status_code == 200, owned.text
    assert set(owned.json()["g"]) == set(ids["owned"])
    unowned = read(s, "28hr", ask(ids["unowned"][:1], ["favorites"]))
    assert unowned.status_code == 403
    assert unowned.json() == {"errors": [f"Forbidden to access tweets: {ids['unowned'][0]}"]}

    gone = ids["deleted"][:1] + ids["protected"][:1]
    mixed = read(s, "totals", ask(ids["owned"][:1] + gone, ["favorites"]))
    assert mixed.json()["unavailable_tweet_ids"] == sorted(gone, key=int)
    old = read(s, "totals", ask(ids["older_than_90_days"][:1], ["impressions"]))
    assert old.json()["unsupported_for_impressions_engagements_tweet_ids"] == [
        ids["older_than_90_days"][0]
    ]
    ancient = read(s, "historical", ask(ids["older_than_1800_days"], ["video_views"]))
    assert ancient.status_code == 200
    body = ancient.json()
    assert body["unsupported_for_video_views_tweet_ids"] == sorted(
        ids["older_than_1800_days"], key=int
    )
    assert "errors" not in body  # no error entry of our own for video views over 1800 days


def test_oauth_is_checked_against_the_wall_clock_not_the_data_clock(
    engagement_standin: Standin,
) -> None:
    s = engagement_standin
    url = f"{s.base_url}{PREFIX}/totals"
    body = ask(s.post_ids["owned"][:1], ["favorites"])
    at_data_time = oauth_header(s, url, timestamp=int(FROZEN.timestamp()))
    refused = httpx.post(url, json=body, headers={"Authorization": at_data_time})
    assert refused.status_code == 401
    assert refused.json()["errors"][0].endswith("Timestamp out of bounds")
    header = oauth_header(s, url, nonce="the-same-nonce")  # the wall clock's time
    assert httpx.post(url, json=body, headers={"Authorization": header}).status_code == 200
    again = httpx.post(url, json=body, headers={"Authorization": header})
    assert again.status_code == 401
    assert again.json()["errors"][0].endswith("Nonce already used")


def test_the_data_clock_moves_only_when_told(engagement_standin: Standin) -> None:
    s = engagement_standin
    window = read(s, "28hr", ask(s.post_ids["owned"][:1], ["favorites"])).json()
    assert (window["start"], window["end"]) == ("2025-05-31T08:00:00Z", "2025-06-01T13:00:00Z")
    assert control(s, "GET", "clock").json() == {"now": "2025-06-01T12:00:00Z"}
    assert control(s, "POST", "clock", {"advance_seconds": 3600}).json() == {
        "now": "2025-06-01T13:00:00Z"
    }
    moved = read(s, "28hr", ask(s.post_ids["owned"][:1], ["favorites"])).json()
    assert moved["end"] == "2025-06-01T14:00:00Z"
    assert s.set_now("2025-07-04T00:00:00Z") == "2025-07-04T00:00:00Z"
    assert s.advance(-0.5) == "2025-07-03T23:59:59Z"


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("clock", {}, "Give exactly one of now, advance_seconds"),
        ("clock", {"now": "2025-01-01", "advance_seconds": 1}, "Give exactly one of"),
        ("clock", {"now": "yesterday"}, "now must be a date or date-time"),
        ("clock", {"advance_seconds": "60"}, "advance_seconds must be a number"),
        ("clock", {"advance_seconds": True}, "advance_seconds must be a number"),
        ("clock", {"advance_seconds": 10**12}, "advance_seconds must be a number"),
        ("clock", {"when": 1}, "Unknown field: when"),
        ("clock", [1], "Request body must be a JSON object"),
        ("faults", {"every": 2}, "fault is required"),
        ("faults", {"fault": "418", "every": 2}, "fault must be one of 429, 500, 502, 503"),
        ("faults", {"fault": "500"}, "Give exactly one of every, next"),
        ("faults", {"fault": "500", "every": 1, "next": 1}, "Give exactly one of every, next"),
        ("faults", {"fault": "500", "every": 0}, "every must be a whole number of at least 1"),
        ("faults", {"fault": "500", "next": 1.5}, "next must be a whole number of at least 1"),
    ],
)
def test_bad_control_bodies_are_400_naming_the_field(
    engagement_standin: Standin, path: str, body: Any, message: str
) -> None:
    response = control(engagement_standin, "POST", path, body)
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error.startswith(message)


def test_unknown_control_paths_and_methods(engagement_standin: Standin) -> None:
    assert control(engagement_standin, "GET", "nope").json() == {
        "errors": ["No such path: /_standin/nope"]
    }
    assert control(engagement_standin, "GET", "reset").status_code == 405
    raw = httpx.post(f"{engagement_standin.base_url}/_standin/clock", content=b"{", timeout=30)
    assert raw.json() == {"errors": ["Request body must be a JSON object"]}


def test_fault_schedules_count_read_and_ingest_requests_only(engagement_standin: Standin) -> None:
    s = engagement_standin
    body = ask(s.post_ids["owned"][:1], ["favorites"])
    assert control(s, "POST", "faults", {"every": 2, "fault": "503"}).json() == {
        "fault": "503",
        "every": 2,
        "seen": 0,
    }
    statuses = []
    for _ in range(4):
        statuses.append(read(s, "totals", body, auth="bearer").status_code)
        assert httpx.get(f"{s.base_url}/healthz").status_code == 200  # not counted
    assert statuses == [200, 503, 200, 503]
    s.fault_next(2, "502")  # replaces the schedule
    statuses = [read(s, "totals", body, auth="bearer").status_code for _ in range(3)]
    assert statuses == [502, 502, 200]
    s.fault_every(1, "500")
    s.clear_faults()
    assert control(s, "GET", "faults").json() == {"fault": None}
    assert read(s, "totals", body, auth="bearer").status_code == 200
    # the header: that request alone; a bad value or delay is a 400
    one = read(s, "totals", body, auth="bearer", headers={"X-Standin-Fault": "500"})
    assert (one.status_code, one.json()) == (500, {"errors": ["Internal server error"]})
    bad = read(s, "totals", body, auth="bearer", headers={"X-Standin-Fault": "teapot"})
    assert bad.status_code == 400 and "X-Standin-Fault must be one of" in bad.json()["errors"][0]
    slow = {"X-Standin-Fault": "timeout", "X-Standin-Delay": "soon"}
    assert read(s, "totals", body, auth="bearer", headers=slow).status_code == 400


def test_429_faults_carry_the_rate_limit_headers(engagement_standin: Standin) -> None:
    s = engagement_standin
    s.fault_next(1, "429")
    response = read(s, "totals", ask(s.post_ids["owned"][:1], ["favorites"]))
    assert response.status_code == 429
    assert response.json() == {"errors": ["Exceeded rate limit"]}
    assert response.headers["x-per-minute-limit"] == "100000"
    assert response.headers["x-per-minute-remaining"] == "0"
    assert response.headers["x-per-minute-reset"] == str(int(FROZEN.timestamp()) + 60)


def _raw_exchange(standin: Standin, headers: str) -> bytes:
    """One request on a plain socket; what came back before the server closed."""
    port = int(standin.base_url.rsplit(":", 1)[1])
    request = (
        f"POST {PREFIX}/totals HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Length: 2\r\n{headers}\r\n{{}}"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request.encode())
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def test_timeout_and_reset_close_the_connection_without_an_answer(
    engagement_standin: Standin,
) -> None:
    assert (
        _raw_exchange(engagement_standin, "X-Standin-Fault: timeout\r\nX-Standin-Delay: 0.2\r\n")
        == b""
    )
    with pytest.raises(ConnectionResetError):
        _raw_exchange(engagement_standin, "X-Standin-Fault: reset\r\n")
    faults = [(r["fault"], r["status"]) for r in engagement_standin.requests()]
    assert faults == [("timeout", None), ("reset", None)]


def test_the_request_log_says_who_sent_what(engagement_standin: Standin) -> None:
    s = engagement_standin
    body = ask(s.post_ids["owned"][:1], ["favorites"])
    read(s, "totals", body, auth="bearer")
    read(s, "totals", body, auth="user")
    read(s, "totals", body, auth="app")
    httpx.post(
        f"{s.base_url}/ingest/users",
        content=b'{"id": "5", "handle": "newcomer"}\n',
        headers={"Authorization": f"Bearer {s.ingest_key}", "Content-Type": "application/x-ndjson"},
    )
    httpx.get(f"{s.base_url}/usage")
    httpx.post(f"{s.base_url}{PREFIX}/totals", headers={"Authorization": "Bearer nope"}, json={})
    control(s, "GET", "clock")  # control requests are not logged
    log = s.requests()
    assert [(r["method"], r["path"], r["auth"], r["app"], r["status"]) for r in log] == [
        ("POST", f"{PREFIX}/totals", "bearer", s.consumer_key, 200),
        ("POST", f"{PREFIX}/totals", "oauth_user", s.consumer_key, 200),
        ("POST", f"{PREFIX}/totals", "oauth_app", s.consumer_key, 200),
        ("POST", "/ingest/users", "ingest", None, 200),
        ("GET", "/usage", "none", None, 401),
        ("POST", f"{PREFIX}/totals", "bearer", None, 401),
    ]
    assert log[0]["body"] == httpx.Request("POST", "/", json=body).content.decode()
    s.clear_requests()
    assert s.requests() == []


def test_reset_brings_back_the_seeded_state(engagement_standin: Standin) -> None:
    s = engagement_standin
    post = s.post_ids["owned"][0]
    body = ask([post], ["favorites"])
    before = read(s, "totals", body, auth="bearer").json()
    event = (
        f'{{"tweet_id": "{post}", "type": "favorites", "at": "2025-06-01T11:00:00Z", "count": 5}}\n'
    )
    loaded = httpx.post(
        f"{s.base_url}/ingest/events",
        content=event.encode(),
        headers={
            "Authorization": f"Bearer {s.ingest_key}",
            "Content-Type": "application/x-ndjson",
            "Idempotency-Key": "standin-reset-test",
        },
    )
    assert loaded.status_code == 200, loaded.text
    after = read(s, "totals", body, auth="bearer").json()
    assert int(after["g"][post]["favorites"]) == int(before["g"][post]["favorites"]) + 5
    s.advance(86400)
    s.fault_every(3, "500")
    s.reset()
    assert control(s, "GET", "clock").json() == {"now": "2025-06-01T12:00:00Z"}
    assert control(s, "GET", "faults").json() == {"fault": None}
    assert s.requests() == []
    assert read(s, "totals", body, auth="bearer").json() == before


def _answers(standin: Standin) -> list[bytes]:
    ids = standin.post_ids
    every = [i for group in ids.values() for i in group]
    types = ["impressions", "favorites", "retweets", "video_views", "engagements"]
    hourly = {
        "h": {"group_by": ["tweet.id", "engagement.type", "engagement.day", "engagement.hour"]}
    }
    requests = [
        (
            "totals",
            {
                "tweet_ids": every[:250],
                "engagement_types": ["favorites", "video_views"],
                "groupings": {"g": {"group_by": ["tweet.id", "engagement.type"]}},
            },
            "bearer",
        ),
        ("totals", ask(ids["owned"] + ids["older_than_90_days"], types), "user"),
        (
            "28hr",
            {"tweet_ids": ids["owned"], "engagement_types": types, "groupings": hourly},
            "user",
        ),
        (
            "historical",
            {"tweet_ids": ids["owned"], "engagement_types": types, "groupings": hourly},
            "user",
        ),
    ]
    return [
        read(standin, e, b, auth=a, headers={"Accept-Encoding": "identity"}).content
        for e, b, a in requests
    ]


def test_same_seed_and_now_give_byte_identical_answers(engagement_standin: Standin) -> None:
    with Standin.start(seed=0, now=FROZEN) as twin:
        assert twin.consumer_key == engagement_standin.consumer_key
        assert twin.post_ids == engagement_standin.post_ids
        assert _answers(twin) == _answers(engagement_standin)
    with Standin.start(seed=1, now=FROZEN) as other:
        assert other.consumer_key != engagement_standin.consumer_key
        assert other.post_ids["owned"] != engagement_standin.post_ids["owned"]


def test_shared_video_counts_every_carrier_on_totals(engagement_standin: Standin) -> None:
    """Expected from the generator's data (the seeded Posts' media and events), not read back:
    a shared video's /totals views are the views of every Post that carries it."""
    s = engagement_standin
    data = generate(users=USERS, tweets=TWEETS, days=DAYS, now=s.now, seed=s.seed)
    video_of = {str(t["id"]): video_key(t) for t in data.tweets}
    views: dict[str, int] = {}
    for event in data.events():
        if event["type"] == "video_views":
            key = video_of[str(event["tweet_id"])]
            amount = event.get("count", 1)
            views[str(key)] = views.get(str(key), 0) + (amount if isinstance(amount, int) else 1)
    post = s.post_ids["shared_video"][0]
    key = video_of[post]
    assert key is not None
    assert sum(1 for k in video_of.values() if k == key) > 1  # carried by another Post too
    answer = read(s, "totals", ask([post], ["video_views"]), auth="bearer").json()
    assert views.get(key, 0) > 0  # the group's first is its most watched shared video
    assert answer["g"][post]["video_views"] == str(views[key])
