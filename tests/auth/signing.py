"""Credentials of the auth tests, and request signing with independent client libraries.

Requests are signed with oauthlib's *client* (``oauthlib.oauth1.Client``) and with
requests-oauthlib, never with the server code under test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import requests
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_TYPE_AUTH_HEADER, Client
from requests_oauthlib import OAuth1

from engagement_api.auth import new_key
from tests.support import NOW

URL = "http://testserver/insights/engagement/totals"
BODY = b'{"tweet_ids": ["1001", "1002"], "engagement_types": ["favorites"]}'
JSON = "application/json"
TS = int(NOW.timestamp())


@dataclass(frozen=True)
class AppCreds:
    key: str
    secret: str
    bearer: str


@dataclass(frozen=True)
class TokenCreds:
    token: str
    secret: str
    user_id: int


@dataclass(frozen=True)
class World:
    """Two apps, a token each, a revoked token of app A, and an ingest key."""

    a: AppCreds
    b: AppCreds
    token_a: TokenCreds
    token_b: TokenCreds
    revoked_a: TokenCreds
    ingest_key: str


def sign(
    consumer: AppCreds | tuple[str, str],
    token: TokenCreds | tuple[str, str] | None = None,
    *,
    url: str = URL,
    method: Literal["GET", "POST"] = "POST",
    timestamp: int = TS,
    nonce: str | None = None,
    body: bytes | None = None,
    content_type: str = JSON,
    signature_method: str = SIGNATURE_HMAC_SHA1,
) -> dict[str, str]:
    """Headers signed by ``oauthlib.oauth1.Client`` (Authorization header form).

    With ``body`` given and a non-form content type, oauthlib's client adds ``oauth_body_hash``;
    with ``body=None`` the body is not signed at all (as requests-oauthlib does for JSON).
    """
    key, secret = (consumer.key, consumer.secret) if isinstance(consumer, AppCreds) else consumer
    token_key, token_secret = (
        (token.token, token.secret) if isinstance(token, TokenCreds) else (token or (None, None))
    )
    client = Client(
        key,
        client_secret=secret,
        resource_owner_key=token_key,
        resource_owner_secret=token_secret,
        signature_method=signature_method,
        signature_type=SIGNATURE_TYPE_AUTH_HEADER,
        timestamp=str(timestamp),
        nonce=nonce or new_key(32),
    )
    _uri, headers, _body = client.sign(
        url,
        http_method=method,
        body=None if body is None else body.decode(),
        headers={"Content-Type": content_type},
    )
    return {str(k): str(v) for k, v in headers.items()}


def sign_with_requests(
    consumer: AppCreds,
    token: TokenCreds | None = None,
    *,
    url: str = URL,
    body: bytes = BODY,
    timestamp: int = TS,
    nonce: str | None = None,
) -> tuple[str, dict[str, str]]:
    """(URL, headers) of a JSON POST prepared by requests with requests-oauthlib's ``OAuth1``."""
    auth = OAuth1(
        consumer.key,
        client_secret=consumer.secret,
        resource_owner_key=token.token if token else None,
        resource_owner_secret=token.secret if token else None,
        timestamp=str(timestamp),
        nonce=nonce or new_key(42),
    )
    prepared = requests.Request(
        "POST", url, data=body, headers={"Content-Type": JSON}, auth=auth
    ).prepare()
    headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in prepared.headers.items()}
    assert prepared.url is not None
    return prepared.url, headers
