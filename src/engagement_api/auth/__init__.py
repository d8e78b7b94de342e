"""Authentication: who is asking (spec §2).

Backends in the manner of Starlette's ``AuthenticationBackend``: each turns credentials into an
:class:`Identity` or refuses with :class:`~engagement_api.contract.errors.Unauthorized`; the
access policy decides afterwards what that identity may see.

- :mod:`~engagement_api.auth.oauth1` — OAuth 1.0a HMAC-SHA1 with oauthlib's signature functions
  (user context with ``oauth_token``, app-only without), timestamps against the injected clock,
  nonces per consumer key, no timing oracle for unknown keys.
- :mod:`~engagement_api.auth.bearer` — app bearer tokens and ingest keys, found by SHA-256 digest.
- :mod:`~engagement_api.auth.secrets` — issuing keys (letters and digits) and hashing secrets.
- :mod:`~engagement_api.auth.reasons` — every 401 reason, the spec's and ours.
"""

from engagement_api.auth.authenticator import DEFAULT_TIMESTAMP_WINDOW, Authenticator
from engagement_api.auth.identity import Identity, Scheme
from engagement_api.auth.secrets import KEY_ALPHABET, constant_time_equals, hash_secret, new_key

__all__ = [
    "DEFAULT_TIMESTAMP_WINDOW",
    "KEY_ALPHABET",
    "Authenticator",
    "Identity",
    "Scheme",
    "constant_time_equals",
    "hash_secret",
    "new_key",
]
