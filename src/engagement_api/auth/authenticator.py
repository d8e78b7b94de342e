"""The one entry point the web layer calls: who is asking, or why not."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from engagement_api.auth import headers as hdr
from engagement_api.auth import reasons
from engagement_api.auth.bearer import verify_bearer, verify_ingest_key
from engagement_api.auth.identity import Identity
from engagement_api.auth.oauth1 import OAuth1Verifier
from engagement_api.clock import Clock
from engagement_api.contract.errors import Forbidden, Unauthorized
from engagement_api.store.protocols import CredentialStore

DEFAULT_TIMESTAMP_WINDOW = 300


class Authenticator:
    """Authenticates read requests (OAuth 1.0a or app bearer) and ingest requests (ingest keys).

    ``timestamp_window`` is the allowed distance, in seconds, between ``oauth_timestamp`` and
    ``clock.now()``, both ways (spec §2: ±300 s). The store must remember nonces at least that
    long. One instance is shared by every worker thread: it holds no per-request state, and
    "now" is read once per request from the injected clock.
    """

    def __init__(
        self,
        store: CredentialStore,
        clock: Clock,
        timestamp_window: int = DEFAULT_TIMESTAMP_WINDOW,
    ) -> None:
        if timestamp_window <= 0:
            raise ValueError("timestamp_window must be a positive number of seconds")
        self._store = store
        self._clock = clock
        self._oauth1 = OAuth1Verifier(store, timestamp_window)

    def authenticate(
        self,
        method: str,
        url: str | Callable[[], str],
        headers: Mapping[str, str],
        body: bytes | None,
    ) -> Identity:
        """The caller of a read request.

        ``url`` is the full URL as the server received it (scheme, host, port, path, query),
        or a function that makes it (called only for OAuth 1.0a, which signs it);
        ``headers`` may be any mapping, names are matched case-insensitively. Raises
        :class:`Unauthorized` (401, ``Unknown Authorization Type`` when there is no
        ``Authorization`` header or it is neither ``OAuth`` nor ``Bearer``), and, only once the
        credentials are proven, :class:`Forbidden` ``Your application id is not authorized.``
        for an app that is not enabled (the nonce is spent by then, as for any verified
        request).
        """
        value = hdr.authorization(headers)
        scheme, rest = hdr.split_scheme(value or "")
        if scheme == "oauth":
            signed_url = url if isinstance(url, str) else url()
            app, token = self._oauth1.verify(
                method, signed_url, rest, hdr.content_type(headers), body, self._clock.now()
            )
            identity = (
                Identity(app, None, "oauth1_app")
                if token is None
                else Identity(app, token.user_id, "oauth1_user")
            )
        elif scheme == "bearer":
            identity = Identity(verify_bearer(self._store, rest), None, "bearer")
        else:
            raise Unauthorized(reasons.UNKNOWN_AUTHORIZATION_TYPE)
        if not identity.app.enabled:
            raise Forbidden(reasons.APP_NOT_AUTHORIZED)
        return identity

    def authenticate_ingest(self, headers: Mapping[str, str]) -> None:
        """Accept ``Authorization: Bearer <ingest key>``; raise :class:`Unauthorized` otherwise.

        No header or another scheme (OAuth included): ``Unknown Authorization Type``; a bearer
        value that is not an ingest key (an app's API bearer token, say): ``Ingest key not
        found``.
        """
        scheme, rest = hdr.split_scheme(hdr.authorization(headers) or "")
        if scheme != "bearer":
            raise Unauthorized(reasons.UNKNOWN_AUTHORIZATION_TYPE)
        verify_ingest_key(self._store, rest)
