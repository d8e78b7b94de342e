"""The ``<why>`` of ``Your account could not be authenticated. Reason: <why>`` (spec §2).

The first seven are the spec's list. The last three are **ours**, for requests that are not
well-formed enough to look anything up, or that use the ingest path with other credentials:

- :data:`MALFORMED` — the ``OAuth`` header cannot be parsed, or is not printable ASCII,
  repeats a parameter, carries a parameter other than ``oauth_*``/``realm``, lacks one of
  ``oauth_consumer_key``, ``oauth_signature``, ``oauth_signature_method``,
  ``oauth_timestamp``, ``oauth_nonce``, has an ``oauth_version`` other than ``1.0``, a
  timestamp that is not a decimal integer, or a nonce that is not 1..128 printable ASCII
  characters; also several ``Authorization`` headers with different values.
- :data:`UNSUPPORTED_SIGNATURE_METHOD` — ``oauth_signature_method`` is not ``HMAC-SHA1``.
- :data:`INGEST_KEY_NOT_FOUND` — the ingest endpoint got a bearer value that is not an ingest key
  (for example an app's API bearer token).
"""

from __future__ import annotations

ACCESS_TOKEN_NOT_FOUND = "Access token not found"  # noqa: S105 (a message)
UNKNOWN_AUTHORIZATION_TYPE = "Unknown Authorization Type"
CONSUMER_KEY_NOT_FOUND = "Consumer key not found"
BEARER_TOKEN_NOT_FOUND = "Bearer token not found"  # noqa: S105 (a message)
INVALID_SIGNATURE = "Invalid signature"
TIMESTAMP_OUT_OF_BOUNDS = "Timestamp out of bounds"
NONCE_ALREADY_USED = "Nonce already used"

MALFORMED = "Malformed Authorization header"
UNSUPPORTED_SIGNATURE_METHOD = "Unsupported signature method"
INGEST_KEY_NOT_FOUND = "Ingest key not found"

#: The 403 for an authenticated app that is not enabled for the Engagement API.
APP_NOT_AUTHORIZED = "Your application id is not authorized."
