"""Helpers of the stand-in tests; the ``engagement_standin`` fixture is the package's own
pytest plugin (engagement_api.testing.plugin), loaded by its entry point as for any user, and
frozen at 2025-06-01T12:00:00Z by the suite's addopts (pyproject.toml)."""

from __future__ import annotations

import itertools
import uuid
from typing import Any, cast

import httpx
from oauthlib.oauth1 import SIGNATURE_TYPE_AUTH_HEADER, Client

from engagement_api.testing.standin import Standin

PREFIX = "/insights/engagement"
PER_TWEET = {"g": {"group_by": ["tweet.id", "engagement.type"]}}
_nonces = itertools.count()


def oauth_header(
    standin: Standin,
    url: str,
    *,
    user: bool = True,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> str:
    """OAuth 1.0a from oauthlib's client (an independent implementation), at the wall clock's
    time unless ``timestamp`` is given."""
    client = Client(
        standin.consumer_key,
        client_secret=standin.consumer_secret,
        resource_owner_key=standin.access_token if user else None,
        resource_owner_secret=standin.access_token_secret if user else None,
        signature_type=SIGNATURE_TYPE_AUTH_HEADER,
        timestamp=None if timestamp is None else str(timestamp),
        nonce=nonce or f"n{next(_nonces)}{uuid.uuid4().hex}",
    )
    _, signed, _ = client.sign(url, cast(Any, "POST"), headers={"Content-Type": "application/json"})
    header: str = signed["Authorization"]
    return header


def read(
    standin: Standin,
    endpoint: str,
    body: dict[str, Any],
    auth: str = "user",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    url = f"{standin.base_url}{PREFIX}/{endpoint}"
    if auth == "bearer":
        sent = {"Authorization": f"Bearer {standin.bearer_token}"}
    else:
        sent = {"Authorization": oauth_header(standin, url, user=auth == "user")}
    return httpx.post(url, json=body, headers={**sent, **(headers or {})}, timeout=30)


def ask(ids: list[str], types: list[str]) -> dict[str, Any]:
    return {"tweet_ids": ids, "engagement_types": types, "groupings": PER_TWEET}
