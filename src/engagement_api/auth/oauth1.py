"""OAuth 1.0a (HMAC-SHA1) verification with oauthlib's signature functions.

One request goes through four steps:

1. **Format** (:func:`parse_oauth_params`, ours): the header's parameters are parsed and checked
   for shape only — nothing is looked up, so nothing here depends on a secret. Failures answer
   ``Malformed Authorization header``, ``Unsupported signature method`` (anything but
   ``HMAC-SHA1``), ``Consumer key not found`` / ``Access token not found`` (a key or token that
   cannot be one we issued: not 1..128 ASCII letters/digits) or ``Timestamp out of bounds``
   (a decimal timestamp that is not 10 digits, which oauthlib refuses; every such value is
   outside any window around a clock between 2001 and 2286).
2. **Signature**, with oauthlib's RFC 5849 functions (``collect_parameters``, ``escape``,
   ``base_string_uri``, ``signature_base_string``, ``sign_hmac_sha1_with_client``; the
   parameters normalized as its ``normalize_parameters`` does, the escapes kept per text): the
   base string is made from the method, the URL as the server received it (scheme, host,
   port, path, query), the header's OAuth parameters (not ``oauth_signature`` or ``realm``)
   and the query's; a JSON body is not part of it (a form-encoded body is, per RFC 5849). The
   consumer key and the token are looked up together (``app_and_token``: one round trip where
   the store makes any), and the signature is computed whether
   they were found or not: unknown ones sign with random secrets fixed when the verifier is
   created, so unknown keys cost the same as known ones. These are the checks of oauthlib's
   ``ResourceEndpoint``/``SignatureOnlyEndpoint`` (which this module used before; the format
   checks of step 1 are theirs and stricter), without their per-request objects and second
   parse of the header.
3. **Reason**, by priority: ``Consumer key not found`` → ``Access token not found`` (unknown,
   revoked, or issued to another app) → ``Timestamp out of bounds`` → ``Invalid signature``
   (also: an ``oauth_body_hash`` that is not base64(SHA-1(body)), or a request oauthlib cannot
   read, such as a query string that is not URL-encoded or OAuth parameters in the query too).
4. **Nonce**, only once everything else holds, so a forged request cannot burn a nonce: left
   to the caller (:class:`~engagement_api.auth.Authenticator`: ``use_nonce`` per consumer key,
   or a store's admission of the request); a reuse answers ``Nonce already used``.

Whether the app is enabled is not decided here (see :class:`engagement_api.auth.Authenticator`).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from urllib.parse import urlparse

from oauthlib.common import safe_string_equals
from oauthlib.oauth1.rfc5849 import signature
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
#: Header parameters left out of the base string (RFC 5849 section 3.4.1.3.1).
_UNSIGNED = frozenset({"oauth_signature", "realm"})


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
class _Secrets:
    """What oauthlib's ``sign_hmac_sha1_with_client`` reads from a client."""

    client_secret: str
    resource_owner_secret: str | None


#: The base string URI of a URL (oauthlib's; pure): a server is reached at a few URLs only.
_base_string_uri = lru_cache(maxsize=256)(signature.base_string_uri)
#: oauthlib's percent-encoding (RFC 5849 section 3.6), kept per text: most parameters of a
#: client's requests (its key, token, method, version, query) are the same every time.
_escape = lru_cache(maxsize=4096)(oauth_utils.escape)


def normalized_parameters(params: list[tuple[str, str]]) -> str:
    """RFC 5849 section 3.4.1.3.2 as oauthlib's ``normalize_parameters`` does it (each name
    and value escaped, the pairs sorted, joined), with the escapes kept."""
    pairs = sorted([(_escape(name), _escape(value)) for name, value in params])
    return "&".join([f"{name}={value}" for name, value in pairs])


def _other_params(url: str, form_body: str) -> list[tuple[str, str]]:
    """The query's and the form body's parameters, as oauthlib collects them for the base
    string (one named ``realm`` kept, as RFC 5849 has it; ``oauth_*`` values unescaped);
    raises ValueError when the query is not URL-encoded, or when either holds OAuth parameters
    too (oauthlib refuses OAuth parameters from more than one place)."""
    query = urlparse(url).query
    found = signature.collect_parameters(
        uri_query=query, body=form_body, exclude_oauth_signature=False
    )
    if oauth_utils.filter_oauth_params(found):
        raise ValueError("OAuth parameters outside the Authorization header")
    return found


#: Finds an app by its consumer key and, unless None, an access token (``app_and_token``).
Lookup = Callable[[str, str | None], tuple[App | None, AccessToken | None]]


@dataclass(frozen=True, slots=True)
class Checked:
    """A request whose signature holds (steps 1-3): its app, its access token under user
    context, and the nonce still to spend (step 4)."""

    app: App
    token: AccessToken | None
    nonce: str
    timestamp: int


class OAuth1Verifier:
    """Verifies ``Authorization: OAuth ...`` requests against a credential store.

    Safe to share between threads: it keeps no per-request state.
    """

    def __init__(self, store: CredentialStore, timestamp_window: int) -> None:
        self._store = store
        self._window = timestamp_window
        # the secrets signed with for an unknown consumer key or token (see module doc)
        self._dummy_client_secret = new_key(50)
        self._dummy_token_secret = new_key(45)

    def check(
        self,
        method: str,
        url: str,
        params: str,
        content_type: str,
        body: bytes | None,
        now: datetime,
        lookup: Lookup | None = None,
    ) -> Checked:
        """Check one request but for its nonce; ``params`` is the header after ``OAuth``.

        ``body`` is None when it was too large to keep: the request will be refused with 413
        anyway, so an ``oauth_body_hash`` is not checked against it. ``lookup`` finds the app
        and the token (default: the store's ``app_and_token``; a caller that checks them again
        when it spends the nonce may pass one that remembers them).

        Returns the app, its access token under user context, and the nonce, which the caller
        spends (and answers ``Nonce already used`` for when it was used); raises
        :class:`Unauthorized` with the reason chosen as in the module docstring.
        """
        found = parse_oauth_params(params)
        form_body = ""
        if _FORM in content_type.lower():
            try:
                form_body = (body or b"").decode("utf-8")
            except UnicodeDecodeError:
                raise Unauthorized(reasons.INVALID_SIGNATURE) from None
        try:
            others = _other_params(url, form_body)
            base_uri = _base_string_uri(url)
        except (ValueError, TypeError, LookupError):
            # oauthlib cannot read the request (e.g. a query string that is not URL-encoded)
            raise Unauthorized(reasons.INVALID_SIGNATURE) from None

        key = found["oauth_consumer_key"]
        app, token = (lookup or self._store.app_and_token)(key, found.get("oauth_token"))
        token_secret: str | None = None
        if "oauth_token" in found:
            if token is None or token.revoked or not constant_time_equals(token.consumer_key, key):
                token = None
            token_secret = self._dummy_token_secret if token is None else token.secret
        # signed whatever was found, so that unknown keys cost the same as known ones
        signed = [(name, value) for name, value in found.items() if name not in _UNSIGNED]
        normalized = normalized_parameters(signed + others)
        # (types-oauthlib narrows the method to a Literal; oauthlib takes any)
        base = signature.signature_base_string(method, base_uri, normalized)  # type: ignore[arg-type]
        secrets = _Secrets(
            self._dummy_client_secret if app is None else app.consumer_secret, token_secret
        )
        valid = safe_string_equals(
            signature.sign_hmac_sha1_with_client(base, secrets), found["oauth_signature"]
        )

        if app is None:
            raise Unauthorized(reasons.CONSUMER_KEY_NOT_FOUND)
        if token_secret is not None and token is None:
            raise Unauthorized(reasons.ACCESS_TOKEN_NOT_FOUND)
        if abs(now.timestamp() - int(found["oauth_timestamp"])) > self._window:
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
        return Checked(app, token, found["oauth_nonce"], int(found["oauth_timestamp"]))
