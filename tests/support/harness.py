"""The real app in uvicorn on a thread, a small world of users and Posts, and request helpers.

Requests go over real HTTP (httpx) to a real uvicorn server on a loopback port; OAuth 1.0a
signatures are made with oauthlib's *client* (an independent implementation) at the time of
the test's ManualClock, so time-dependent rules are testable without sleeping.
"""

from __future__ import annotations

import gzip
import itertools
import json
import socket
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import httpx
import uvicorn
from oauthlib.oauth1 import SIGNATURE_TYPE_AUTH_HEADER, Client

from engagement_api.api.app import create_app
from engagement_api.clock import ManualClock
from engagement_api.service import credentials
from engagement_api.settings import Settings
from engagement_api.store import Store
from tests.support import NOW
from tests.support.model import Event, iso

PREFIX = "/insights/engagement"
ENDPOINTS = ("totals", "28hr", "historical")

#: The API tests' body limits (``make_api``'s defaults): small, so that 413 is cheap to provoke
#: (requests of the world stay far below).
MAX_BODY_BYTES = 16 * 1024
MAX_INGEST_BYTES = 1024 * 1024  # above COLUMNAR_MIN_BYTES: large batches take the columnar path

# -- the world ---------------------------------------------------------------------------------

ALICE = 1001
BOB = 1002
CAROL = 1003  # owns nothing

#: alice's Post with a video that two of bob's Posts carry too
RECENT = 1_100_000_000_000_000_001
PHOTO = 1_100_000_000_000_000_002
OLD = 1_100_000_000_000_000_003  # 100 days old: no impressions/engagements on /totals
ANCIENT = 1_100_000_000_000_000_004  # 2000 days old, with a video: no video views
DELETED = 1_100_000_000_000_000_005
PROTECTED = 1_100_000_000_000_000_006
BOB_POST = 1_100_000_000_000_000_007  # carries alice's video
BOB_DELETED = 1_100_000_000_000_000_008  # carries alice's video, deleted
BOB_PROTECTED = 1_100_000_000_000_000_009
GIF = 1_100_000_000_000_000_010
BIG = 2**64 - 1  # alice's, the largest ID there is
UNKNOWN = 1_100_000_000_000_000_999  # never loaded

VIDEO = "7_1100000000000000001"

USERS = [
    {"id": str(ALICE), "handle": "alice"},
    {"id": str(BOB), "handle": "bob"},
    {"id": str(CAROL), "handle": "carol"},
]


def _post(
    pid: int, author: int, age: timedelta, media: Sequence[tuple[str, str]] = (), **flags: bool
) -> dict[str, Any]:
    return {
        "id": str(pid),
        "author_id": str(author),
        "created_at": iso(NOW - age),
        "media": [{"media_key": key, "type": kind} for key, kind in media],
        **flags,
    }


POSTS = [
    _post(RECENT, ALICE, timedelta(days=10), [(VIDEO, "video")]),
    _post(PHOTO, ALICE, timedelta(days=3), [("3_photo", "photo")]),
    _post(OLD, ALICE, timedelta(days=100)),
    _post(ANCIENT, ALICE, timedelta(days=2000), [("7_ancient", "video")]),
    _post(DELETED, ALICE, timedelta(days=5), deleted=True),
    _post(PROTECTED, ALICE, timedelta(days=5), protected=True),
    _post(BOB_POST, BOB, timedelta(days=20), [(VIDEO, "video")]),
    _post(BOB_DELETED, BOB, timedelta(days=4), [(VIDEO, "video")], deleted=True),
    _post(BOB_PROTECTED, BOB, timedelta(days=4), protected=True),
    _post(GIF, ALICE, timedelta(days=2), [("16_gif", "animated_gif")]),
    _post(BIG, ALICE, timedelta(days=1)),
]

#: Posts of alice that the read API can show.
ALICE_AVAILABLE = (RECENT, PHOTO, OLD, ANCIENT, GIF, BIG)
#: Every Post carrying alice's video (deleted ones included: those views happened).
VIDEO_CARRIERS = (RECENT, BOB_POST, BOB_DELETED)

# -- the server on a thread --------------------------------------------------------------------


class ThreadServer:
    """uvicorn on a free loopback port, in a daemon thread, serving whichever ASGI app is
    plugged in (one server for the whole session; each test plugs in its own app)."""

    def __init__(self) -> None:
        # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted sockets only when the listening
        # socket says TCP explicitly (else every response waits ~40 ms for a delayed ACK).
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.app: Any = None
        #: One client for the session: making an httpx.Client loads CA certificates (slow).
        self.http = httpx.Client(timeout=30.0)
        config = uvicorn.Config(
            self._dispatch,
            interface="asgi3",
            log_level="warning",
            lifespan="off",
            access_log=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    async def _dispatch(self, scope: Any, receive: Any, send: Any) -> None:
        if self.app is None:
            raise RuntimeError("no app plugged in")
        await self.app(scope, receive, send)

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        pause = threading.Event()
        for _ in range(int(timeout / 0.01)):
            if self._server.started or not self._thread.is_alive():
                break
            pause.wait(0.01)
        if not self._server.started:
            raise AssertionError("uvicorn did not start")

    def stop(self) -> None:
        self.http.close()
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()

    @contextmanager
    def serving(self, app: Any) -> Iterator[None]:
        self.app = app
        try:
            yield
        finally:
            self.app = None


# -- the harness -------------------------------------------------------------------------------

_nonces = itertools.count()


@dataclass
class Api:
    """A running server and what a test needs to talk to it."""

    base_url: str
    store: Store
    clock: ManualClock
    settings: Settings
    http: httpx.Client
    ingest_key: str
    app: credentials.IssuedApp
    disabled_app: credentials.IssuedApp
    tokens: dict[str, tuple[credentials.IssuedApp, str, str]] = field(default_factory=dict)

    @property
    def token(self) -> tuple[str, str]:
        """alice's access token and secret (user context; alice owns most Posts of the world)."""
        _, token, secret = self.tokens["alice"]
        return token, secret

    # -- signing -------------------------------------------------------------------------------

    def oauth_header(
        self,
        url: str,
        *,
        app: credentials.IssuedApp | None = None,
        token: tuple[str, str] | None = None,
        method: str = "POST",
        body: bytes | None = None,
        timestamp: int | None = None,
        nonce: str | None = None,
    ) -> str:
        """``Authorization: OAuth ...`` from oauthlib's client, at the ManualClock's time.

        With ``body`` the client adds ``oauth_body_hash`` (the body-hash extension)."""
        app = app or self.app
        client = Client(
            app.consumer_key,
            client_secret=app.consumer_secret,
            resource_owner_key=token[0] if token else None,
            resource_owner_secret=token[1] if token else None,
            signature_type=SIGNATURE_TYPE_AUTH_HEADER,
            timestamp=str(int(self.clock.now().timestamp()) if timestamp is None else timestamp),
            nonce=nonce or f"n{next(_nonces)}{uuid.uuid4().hex}",
        )
        headers = {"Content-Type": "application/json"} if body is not None else {}
        _, signed, _ = client.sign(
            url, cast(Any, method), body=None if body is None else body.decode(), headers=headers
        )
        header: str = signed["Authorization"]
        return header

    def auth_header(self, auth: str | None, url: str, method: str = "POST") -> dict[str, str]:
        """The Authorization header for a named caller:

        - ``alice``, ``bob``, ``carol``: OAuth 1.0a user context through the enabled app;
        - ``app``: OAuth 1.0a app-only (no ``oauth_token``), ``bearer``: the app's bearer token;
        - ``disabled``, ``disabled-bearer``: the same for an app that is not enabled;
        - ``ingest``: the ingest key as a bearer token; ``None``: no header.
        """
        if auth is None:
            return {}
        if auth in self.tokens:
            app, token, secret = self.tokens[auth]
            return {
                "Authorization": self.oauth_header(
                    url, app=app, token=(token, secret), method=method
                )
            }
        if auth == "app":
            return {"Authorization": self.oauth_header(url, method=method)}
        if auth == "bearer":
            return {"Authorization": f"Bearer {self.app.bearer_token}"}
        if auth == "disabled-bearer":
            return {"Authorization": f"Bearer {self.disabled_app.bearer_token}"}
        if auth == "ingest":
            return {"Authorization": f"Bearer {self.ingest_key}"}
        raise ValueError(auth)

    # -- requests ------------------------------------------------------------------------------

    def url(self, path: str) -> str:
        return self.base_url + path

    def request(
        self,
        method: str,
        path: str,
        content: bytes | Iterable[bytes] | None = None,
        *,
        auth: str | None = "alice",
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        url = self.url(path)
        sent = {**self.auth_header(auth, url, method), **(headers or {})}
        if content is not None:
            sent.setdefault("Content-Type", "application/json")
        return self.http.request(method, url, content=content, headers=sent)

    def read(
        self,
        endpoint: str,
        body: Mapping[str, Any] | bytes,
        *,
        auth: str | None = "alice",
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """POST one of the three read endpoints (``body`` a dict is sent as JSON)."""
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self.request("POST", f"{PREFIX}/{endpoint}", content, auth=auth, headers=headers)

    def read_ok(self, endpoint: str, body: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
        response = self.read(endpoint, body, **kwargs)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    def ingest(
        self,
        kind: str,
        records: Sequence[object] | bytes,
        *,
        key: str | None = None,
        fmt: str = "ndjson",
        auth: str | None = "ingest",
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """POST /ingest/<kind> with records as NDJSON (``fmt="ndjson"``) or a JSON array."""
        if isinstance(records, bytes):
            content = records
        elif fmt == "ndjson":
            content = b"".join(json.dumps(r).encode() + b"\n" for r in records)
        else:
            content = json.dumps(list(records)).encode()
        content_type = "application/x-ndjson" if fmt == "ndjson" else "application/json"
        sent = {"Content-Type": content_type, **(headers or {})}
        if key is not None:
            sent["Idempotency-Key"] = key
        return self.request("POST", f"/ingest/{kind}", content, auth=auth, headers=sent)

    def load(self, kind: str, records: Sequence[object]) -> None:
        response = self.ingest(kind, records)
        assert response.status_code == 200, response.text
        assert response.json() == {"accepted": len(records)}

    def send_events(self, events: Sequence[Event], key: str | None = None) -> dict[str, Any]:
        """Ingest events (as NDJSON, under a fresh key unless one is given); asserts 200."""
        response = self.ingest(
            "events", [e.record() for e in events], key=key or f"k-{uuid.uuid4().hex}"
        )
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data


@contextmanager
def build_api(
    server: ThreadServer, store: Store, clock: ManualClock, **settings: Any
) -> Iterator[Api]:
    """Plug a new app into the server, issue credentials, load the world over HTTP; yield."""
    config = Settings(database_url=store.url, clock=clock, **settings)
    with server.serving(create_app(config, store)):
        app = credentials.create_app(store, clock, "engagement app", 1000)
        disabled = credentials.create_app(store, clock, "disabled app", 1000)
        api = Api(
            base_url=server.base_url,
            store=store,
            clock=clock,
            settings=config,
            http=server.http,
            ingest_key=credentials.create_ingest_key(store, clock),
            app=app,
            disabled_app=disabled,
        )
        api.load("users", USERS)
        api.load("tweets", POSTS)
        for name, user, issuer in (
            ("alice", ALICE, app),
            ("bob", BOB, app),
            ("carol", CAROL, app),
            ("disabled", ALICE, disabled),
        ):
            token = credentials.create_token(store, clock, issuer.consumer_key, user)
            api.tokens[name] = (issuer, token.token, token.secret)
        assert store.set_app_enabled(disabled.consumer_key, False)
        yield api


@contextmanager
def raw_response(api: Api, request: httpx.Request) -> Iterator[tuple[httpx.Response, bytes]]:
    """Send ``request`` and give the response with its body exactly as on the wire."""
    response = api.http.send(request, stream=True)
    try:
        yield response, b"".join(response.iter_raw())
    finally:
        response.close()


def gunzip_json(data: bytes) -> Any:
    return json.loads(gzip.decompress(data))


# -- request bodies ----------------------------------------------------------------------------

PER_TWEET = {"perTweet": {"group_by": ["tweet.id", "engagement.type"]}}


def body(
    tweet_ids: Sequence[int | str] = (RECENT,),
    engagement_types: Sequence[str] = ("favorites",),
    groupings: Mapping[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "tweet_ids": [str(t) for t in tweet_ids],
        "engagement_types": list(engagement_types),
        "groupings": PER_TWEET if groupings is None else groupings,
        **extra,
    }


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A moment in November 2026 (the tests' NOW is the 26th, 12:30 UTC)."""
    return NOW.replace(day=day, hour=hour, minute=minute, second=second)
