"""OAuth 1.0a (HMAC-SHA1) verification on oauthlib's server side.

One request goes through four steps:

1. **Format** (:func:`parse_oauth_params`, ours): the header's parameters are parsed and checked
   for shape only — nothing is looked up, so nothing here depends on a secret. Failures answer
   ``Malformed Authorization header``, ``Unsupported signature method`` (anything but
   ``HMAC-SHA1``), ``Consumer key not found`` / ``Access token not found`` (a key or token that
   cannot be one we issued: not 1..128 ASCII letters/digits) or ``Timestamp out of bounds``
   (a decimal timestamp that is not 10 digits, which oauthlib refuses; every such value is
   outside any window around a clock between 2001 and 2286).
2. **oauthlib**: :class:`~oauthlib.oauth1.ResourceEndpoint` when ``oauth_token`` is present (user
   context), :class:`~oauthlib.oauth1.SignatureOnlyEndpoint` otherwise (app-only), with a fresh
   :class:`_Validator` per request that records what it finds. oauthlib builds the signature base
   string from the method, the URL as the server received it (scheme, host, port, path, query)
   and the OAuth parameters; a JSON body is not part of it (a form-encoded body is, per RFC 5849).
   Unknown consumer keys and tokens are swapped for oauthlib's dummy client/token, whose secrets
   are random values fixed when the verifier is created, so unknown keys cost the same as known
   ones. Our validator never ends the flow early: the timestamp is checked against the injected
   clock (oauthlib's own ``time.time()`` check gets a lifetime too large to matter) and only
   recorded.
3. **Reason**, by priority: ``Consumer key not found`` → ``Access token not found`` (unknown,
   revoked, or issued to another app) → ``Timestamp out of bounds`` → ``Invalid signature``
   (also: an ``oauth_body_hash`` that is not base64(SHA-1(body)), or a request oauthlib cannot
   read, such as a query string that is not URL-encoded or OAuth parameters in the query too).
4. **Nonce**, only once everything else holds, so a forged request cannot burn a nonce:
   :meth:`CredentialStore.use_nonce` per consumer key; a reuse answers ``Nonce already used``.

Whether the app is enabled is not decided here (see :class:`engagement_api.auth.Authenticator`).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from oauthlib.common import Request
from oauthlib.oauth1 import RequestValidator, ResourceEndpoint, SignatureOnlyEndpoint
from oauthlib.oauth1.rfc5849 import utils as oauth_utils

from engagement_api.auth import reasons
from engagement_api.auth.secrets import constant_time_equals, is_issued_key_format, new_key
from engagement_api.contract.errors import Unauthorized
from engagement_api.domain import AccessToken, App
from engagement_api.store.protocols import CredentialStore

SIGNATURE_METHOD = "HMAC-SHA1"
MAX_KEY_LENGTH = 128
MAX_NONCE_LENGTH = 128

_REQUIRED = (
    "oauth_consumer_key",
    "oauth_signature",
    "oauth_signature_method",
    "oauth_timestamp",
    "oauth_nonce",
)
_FORM = "application/x-www-form-urlencoded"
#: Dummy keys contain "-", which no key we issue does, so they never name a real app or token.
_DUMMY_CLIENT = "dummy-client"
_DUMMY_TOKEN = "dummy-token"  # noqa: S105 (a name, never a secret)
#: oauthlib compares timestamps with time.time() against this; make that check never decide.
_NO_LIFETIME = 10**11


def _printable_ascii(value: str) -> bool:
    """Every character " " to "~", or a tab (checked in C: a header is hundreds of them)."""
    return value.isascii() and value.replace("\t", " ").isprintable()


def valid_nonce(nonce: str) -> bool:
    """Real clients send 32-42 letters and digits, or decimal digits; accept 1..128 printable
    ASCII characters (" " to "~")."""
    return 0 < len(nonce) <= MAX_NONCE_LENGTH and nonce.isascii() and nonce.isprintable()


def parse_oauth_params(params: str) -> dict[str, str]:
    """The parameters after ``OAuth `` as a dict (``oauth_*`` values percent-decoded), checked
    for shape as described in the module docstring; raises :class:`Unauthorized`."""
    if not _printable_ascii(params):
        raise Unauthorized(reasons.MALFORMED)
    found: dict[str, str] = {}
    # The same splitting as oauthlib's parse_authorization_header, but duplicates are refused
    # instead of silently keeping the last one.
    for item in oauth_utils.parse_http_list(params):
        name, sep, value = item.partition("=")
        if not sep or not name or not value or name in found:
            raise Unauthorized(reasons.MALFORMED)
        if not (name.startswith("oauth_") or name == "realm"):
            raise Unauthorized(reasons.MALFORMED)
        if value[0] == '"' and value[-1] == '"':
            value = value[1:-1]
        found[name] = oauth_utils.unescape(value) if name.startswith("oauth_") else value
    if not all(found.get(name) for name in _REQUIRED):
        raise Unauthorized(reasons.MALFORMED)
    if found["oauth_signature_method"] != SIGNATURE_METHOD:
        raise Unauthorized(reasons.UNSUPPORTED_SIGNATURE_METHOD)
    if found.get("oauth_version", "1.0") != "1.0":
        raise Unauthorized(reasons.MALFORMED)
    timestamp = found["oauth_timestamp"]
    if not (timestamp.isascii() and timestamp.isdigit()) or not valid_nonce(found["oauth_nonce"]):
        raise Unauthorized(reasons.MALFORMED)
    if not is_issued_key_format(found["oauth_consumer_key"], MAX_KEY_LENGTH):
        raise Unauthorized(reasons.CONSUMER_KEY_NOT_FOUND)
    if "oauth_token" in found and not is_issued_key_format(found["oauth_token"], MAX_KEY_LENGTH):
        raise Unauthorized(reasons.ACCESS_TOKEN_NOT_FOUND)
    if len(timestamp) != 10:
        raise Unauthorized(reasons.TIMESTAMP_OUT_OF_BOUNDS)
    return found


def body_hash(body: bytes) -> str:
    """The OAuth body-hash extension's value: base64(SHA-1(body))."""
    return base64.b64encode(hashlib.sha1(body, usedforsecurity=False).digest()).decode("ascii")


@dataclass(frozen=True, slots=True)
class _Dummies:
    client_secret: str
    token_secret: str


class _Validator(RequestValidator):
    """oauthlib's callbacks for one request; the findings stay on this object.

    A new one is made per request, so concurrent requests never share state.
    """

    def __init__(
        self, store: CredentialStore, now: datetime, window: int, dummies: _Dummies
    ) -> None:
        super().__init__()
        self._store = store
        self._now = now
        self._window = window
        self._dummies = dummies
        self.app: App | None = None
        self.token: AccessToken | None = None
        self.timestamp_ok = False
        self.client_checked = False

    # -- format and policy knobs -------------------------------------------------------------

    @property
    def allowed_signature_methods(self) -> tuple[str, ...]:
        return (SIGNATURE_METHOD,)

    @property
    def enforce_ssl(self) -> bool:
        # TLS is terminated in front of the server when it is used at all; the URL oauthlib
        # sees is the one the server received, whatever its scheme.
        return False

    @property
    def timestamp_lifetime(self) -> int:
        return _NO_LIFETIME

    @property
    def dummy_client(self) -> str:
        return _DUMMY_CLIENT

    @property
    def dummy_access_token(self) -> str:
        return _DUMMY_TOKEN

    def check_client_key(self, client_key: str) -> bool:
        return is_issued_key_format(client_key, MAX_KEY_LENGTH)

    def check_access_token(self, request_token: str) -> bool:
        return is_issued_key_format(request_token, MAX_KEY_LENGTH)

    def check_nonce(self, nonce: str) -> bool:
        return valid_nonce(nonce)

    # -- lookups (exactly one store read per key, known or not) ------------------------------

    def validate_timestamp_and_nonce(
        self,
        client_key: str,
        timestamp: Any,
        nonce: str,
        request: Request,
        request_token: str | None = None,
        access_token: str | None = None,
    ) -> bool:
        # Only recorded: the nonce is used after the signature is verified (see module doc).
        self.timestamp_ok = abs(self._now.timestamp() - int(timestamp)) <= self._window
        return True

    def validate_client_key(self, client_key: str, request: Request) -> bool:
        self.client_checked = True
        self.app = self._store.get_app(client_key)
        return self.app is not None

    def validate_access_token(self, client_key: str, token: str, request: Request) -> bool:
        found = self._store.get_token(token)
        ok = (
            found is not None
            and not found.revoked
            and constant_time_equals(found.consumer_key, client_key)
        )
        self.token = found if ok else None
        return ok

    def validate_realms(
        self,
        client_key: str,
        token: str,
        request: Request,
        uri: str | None = None,
        realms: list[str] | None = None,
    ) -> bool:
        return True

    def get_client_secret(self, client_key: str, request: Request) -> str:
        if self.app is not None and client_key == self.app.consumer_key:
            return self.app.consumer_secret
        return self._dummies.client_secret

    def get_access_token_secret(self, client_key: str, token: str, request: Request) -> str:
        if self.token is not None and token == self.token.token:
            return self.token.secret
        return self._dummies.token_secret


class OAuth1Verifier:
    """Verifies ``Authorization: OAuth ...`` requests against a credential store.

    Safe to share between threads: it keeps no per-request state.
    """

    def __init__(self, store: CredentialStore, timestamp_window: int) -> None:
        self._store = store
        self._window = timestamp_window
        self._dummies = _Dummies(client_secret=new_key(50), token_secret=new_key(45))

    def verify(
        self,
        method: str,
        url: str,
        params: str,
        content_type: str,
        body: bytes | None,
        now: datetime,
    ) -> tuple[App, AccessToken | None]:
        """Check one request; ``params`` is the header after ``OAuth``.

        ``body`` is None when it was too large to keep: the request will be refused with 413
        anyway, so an ``oauth_body_hash`` is not checked against it.

        Returns the app and, under user context, its access token; raises
        :class:`Unauthorized` with the reason chosen as in the module docstring.
        """
        found = parse_oauth_params(params)
        user_context = "oauth_token" in found
        headers = {"Authorization": "OAuth " + params}
        form_body = ""
        if _FORM in content_type.lower():
            headers["Content-Type"] = _FORM
            try:
                form_body = (body or b"").decode("utf-8")
            except UnicodeDecodeError:
                raise Unauthorized(reasons.INVALID_SIGNATURE) from None

        validator = _Validator(self._store, now, self._window, self._dummies)
        valid: bool
        request: Request | None
        try:
            if user_context:
                valid, request = ResourceEndpoint(validator).validate_protected_resource_request(
                    url, http_method=method, body=form_body, headers=headers, realms=[]
                )
            else:
                valid, request = SignatureOnlyEndpoint(validator).validate_request(
                    url, http_method=method, body=form_body, headers=headers
                )
        except (ValueError, TypeError, LookupError):
            # oauthlib could not read the request (e.g. a query string that is not URL-encoded).
            raise Unauthorized(reasons.INVALID_SIGNATURE) from None

        if request is None or not validator.client_checked:
            raise Unauthorized(reasons.INVALID_SIGNATURE)
        if validator.app is None:
            raise Unauthorized(reasons.CONSUMER_KEY_NOT_FOUND)
        if user_context and validator.token is None:
            raise Unauthorized(reasons.ACCESS_TOKEN_NOT_FOUND)
        if not validator.timestamp_ok:
            raise Unauthorized(reasons.TIMESTAMP_OUT_OF_BOUNDS)
        if not valid:
            raise Unauthorized(reasons.INVALID_SIGNATURE)
        sent_hash = found.get("oauth_body_hash")
        if (
            sent_hash is not None
            and body is not None
            and not constant_time_equals(sent_hash, body_hash(body))
        ):
            raise Unauthorized(reasons.INVALID_SIGNATURE)

        app = validator.app
        if not self._store.use_nonce(
            app.consumer_key, found["oauth_nonce"], int(found["oauth_timestamp"]), now
        ):
            raise Unauthorized(reasons.NONCE_ALREADY_USED)
        return app, validator.token
