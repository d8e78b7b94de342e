"""A running stand-in, as a client's test suite sees it: the keys of ``engagement-api standin
--json`` as attributes, a ready client, and the control endpoints as methods (called over HTTP,
as from any language)."""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import Any

import httpx

from engagement_api.api.standin_server import StandinServer
from engagement_api.client import EngagementClient, OAuth1User
from engagement_api.clock import SystemClock


class Standin:
    """A stand-in served on a thread; stop it with :meth:`stop` (or use ``with``)."""

    def __init__(self, server: StandinServer) -> None:
        self.server = server
        info = server.info()
        self.base_url: str = str(info["base_url"])
        self.consumer_key: str = str(info["consumer_key"])
        self.consumer_secret: str = str(info["consumer_secret"])
        self.bearer_token: str = str(info["bearer_token"])
        self.access_token: str = str(info["access_token"])
        self.access_token_secret: str = str(info["access_token_secret"])
        self.user_id: str = str(info["user_id"])
        self.handle: str = str(info["handle"])
        self.ingest_key: str = str(info["ingest_key"])
        self.seed: int = server.data.seed
        self.now: datetime = server.data.now
        groups = info["post_ids"]
        assert isinstance(groups, dict)
        self.post_ids: dict[str, list[str]] = {k: list(v) for k, v in groups.items()}
        self._http = httpx.Client(base_url=self.base_url, timeout=30.0)

    @classmethod
    def start(cls, seed: int = 0, now: datetime | None = None, port: int = 0) -> Standin:
        """Seed and serve a stand-in on 127.0.0.1 (``now``: the wall time by default)."""
        frozen = now or SystemClock().now().replace(microsecond=0)
        server = StandinServer(seed, frozen, port=port)
        server.start()
        return cls(server)

    def stop(self) -> None:
        self._http.close()
        self.server.stop()

    def __enter__(self) -> Standin:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def client(self, **options: Any) -> EngagementClient:
        """Our client for the seeded user (OAuth 1.0a user context); ``options`` go to
        :class:`~engagement_api.client.EngagementClient` (``retry``, ``timeout``...)."""
        auth = OAuth1User(
            self.consumer_key, self.consumer_secret, self.access_token, self.access_token_secret
        )
        return EngagementClient(self.base_url, auth=auth, **options)

    # -- the control endpoints ---------------------------------------------------------------

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        response = self._http.request(method, "/_standin/" + path, json=body)
        response.raise_for_status()
        return response.json()

    def set_now(self, now: str) -> str:
        """Set the data clock (``2026-01-01T12:00:00Z``); the new "now"."""
        return str(self._call("POST", "clock", {"now": now})["now"])

    def advance(self, seconds: float) -> str:
        """Move the data clock; the new "now"."""
        return str(self._call("POST", "clock", {"advance_seconds": seconds})["now"])

    def fault_every(self, every: int, fault: str) -> None:
        """``fault`` on the Nth, 2Nth, ... read or ingest request from now on."""
        self._call("POST", "faults", {"every": every, "fault": fault})

    def fault_next(self, count: int, fault: str) -> None:
        """``fault`` on the next ``count`` read or ingest requests."""
        self._call("POST", "faults", {"next": count, "fault": fault})

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def requests(self) -> list[dict[str, Any]]:
        """The requests received, oldest first."""
        found: list[dict[str, Any]] = self._call("GET", "requests")
        return found

    def clear_requests(self) -> None:
        self._call("DELETE", "requests")

    def reset(self) -> None:
        """Back to the seeded state: data, data clock, request log and faults."""
        self._call("POST", "reset")
