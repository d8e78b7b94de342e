"""The one entry point the web layer calls: who is asking, or why not."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import NamedTuple

from engagement_api.auth import headers as hdr
from engagement_api.auth import reasons
from engagement_api.auth.bearer import bearer_digest, verify_ingest_key
from engagement_api.auth.identity import Identity, Scheme
from engagement_api.auth.oauth1 import Checked, Lookup, OAuth1Verifier
from engagement_api.clock import Clock
from engagement_api.contract.errors import Forbidden, Unauthorized
from engagement_api.domain import App
from engagement_api.store.protocols import CredentialStore

DEFAULT_TIMESTAMP_WINDOW = 300


class Claim(NamedTuple):
    """A read request's credentials, proven as far as they can be before the store's last
    word: a bearer token's digest (its app still to be found), or an OAuth 1.0a request whose
    signature holds (``checked``: its nonce still to be spent). ``now``: the authenticator's
    clock when the request was checked. (A named tuple: one per read request, made in C.)"""

    scheme: Scheme
    now: datetime
    bearer_hash: str | None = None
    checked: Checked | None = None


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
        claim = self.claim(method, url, headers, body)
        checked = claim.checked
        if checked is None:
            app = self._store.app_by_bearer(claim.bearer_hash or "")
            fresh = True
        else:
            app = checked.app
            fresh = self._store.use_nonce(
                app.consumer_key, checked.nonce, checked.timestamp, claim.now
            )
        return self.admitted(claim, app, fresh)

    def claim(
        self,
        method: str,
        url: str | Callable[[], str],
        headers: Mapping[str, str],
        body: bytes | None,
        lookup: Lookup | None = None,
    ) -> Claim:
        """:meth:`authenticate`'s checks that need no more of the store than the OAuth 1.0a
        app and token (looked up to check the signature); raises :class:`Unauthorized` as it
        does. The bearer token's app and the nonce are :meth:`admitted`'s, once the store has
        looked the one up (``app_by_bearer``) and spent the other (``use_nonce``), or done
        both with the request's other work (``AdmittingStore`` of the store's protocols).
        ``lookup``: see :meth:`OAuth1Verifier.check`.
        """
        now = self._clock.now()
        scheme, rest = hdr.split_scheme(hdr.authorization(headers) or "")
        if scheme == "oauth":
            signed_url = url if isinstance(url, str) else url()
            checked = self._oauth1.check(
                method, signed_url, rest, hdr.content_type(headers), body, now, lookup
            )
            kind: Scheme = "oauth1_app" if checked.token is None else "oauth1_user"
            return Claim(kind, now, checked=checked)
        if scheme == "bearer":
            return Claim("bearer", now, bearer_hash=bearer_digest(rest))
        raise Unauthorized(reasons.UNKNOWN_AUTHORIZATION_TYPE)

    def admitted(self, claim: Claim, app: App | None, fresh: bool) -> Identity:
        """The caller of a :meth:`claim`, given the app its bearer token found (None: none)
        and whether its nonce was new; raises :class:`Unauthorized` (``Bearer token not
        found``, ``Nonce already used``), then :class:`Forbidden` for an app not enabled."""
        if app is None:
            raise Unauthorized(reasons.BEARER_TOKEN_NOT_FOUND)
        if not fresh:
            raise Unauthorized(reasons.NONCE_ALREADY_USED)
        token = claim.checked.token if claim.checked is not None else None
        identity = Identity(app, None if token is None else token.user_id, claim.scheme)
        if not app.enabled:
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
