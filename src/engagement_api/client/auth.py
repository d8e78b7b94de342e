"""Signing as ``httpx.Auth`` classes: OAuth 1.0a user context, OAuth 1.0a app-only, bearer.

OAuth 1.0a signatures are made by oauthlib's ``Client`` (HMAC-SHA1, header form) over the
method, the URL and the ``oauth_*`` parameters; a JSON body is not part of the signature. Each
sending (retries included) is signed afresh, with a new nonce and timestamp.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from typing import Any, cast

import httpx
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_TYPE_AUTH_HEADER, Client

#: Gives the Unix time used for ``oauth_timestamp`` (injectable for tests).
WallClock = Callable[[], float]


class OAuth1(httpx.Auth):
    """OAuth 1.0a. With ``token``/``token_secret``: user context; without: app-only."""

    def __init__(
        self,
        consumer_key: str,
        consumer_secret: str,
        token: str | None = None,
        token_secret: str | None = None,
        *,
        clock: WallClock = time.time,
    ) -> None:
        if (token is None) != (token_secret is None):
            raise ValueError("give both token and token_secret, or neither")
        self.consumer_key = consumer_key
        self._consumer_secret = consumer_secret
        self.token = token
        self._token_secret = token_secret
        self._clock = clock

    @property
    def user_context(self) -> bool:
        return self.token is not None

    def __repr__(self) -> str:  # never show secrets
        kind = "user" if self.user_context else "app-only"
        return f"{type(self).__name__}(consumer_key={self.consumer_key!r}, {kind})"

    def authorization(self, method: str, url: str) -> str:
        client = Client(
            self.consumer_key,
            client_secret=self._consumer_secret,
            resource_owner_key=self.token,
            resource_owner_secret=self._token_secret,
            signature_method=SIGNATURE_HMAC_SHA1,
            signature_type=SIGNATURE_TYPE_AUTH_HEADER,
            timestamp=str(int(self._clock())),
        )
        # No body: a JSON body is not part of the OAuth 1.0a base string.
        _, headers, _ = client.sign(url, cast(Any, method))
        header: str = headers["Authorization"]
        return header

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self.authorization(request.method, str(request.url))
        yield request


class OAuth1User(OAuth1):
    """OAuth 1.0a user context: the app acts for the user who owns the access token."""

    def __init__(
        self,
        consumer_key: str,
        consumer_secret: str,
        token: str,
        token_secret: str,
        *,
        clock: WallClock = time.time,
    ) -> None:
        super().__init__(consumer_key, consumer_secret, token, token_secret, clock=clock)


class OAuth1App(OAuth1):
    """OAuth 1.0a app-only: signed with the consumer key and secret, no ``oauth_token``."""

    def __init__(
        self, consumer_key: str, consumer_secret: str, *, clock: WallClock = time.time
    ) -> None:
        super().__init__(consumer_key, consumer_secret, clock=clock)


class BearerAuth(httpx.Auth):
    """``Authorization: Bearer <token>`` (app-only)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "BearerAuth(...)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request
