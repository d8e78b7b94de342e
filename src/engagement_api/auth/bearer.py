"""``Authorization: Bearer <token>``: app bearer tokens and ingest keys, looked up by digest.

Decisions: both are stored as SHA-256 hex digests (:func:`~engagement_api.auth.secrets.hash_secret`)
and found by digest, so no plain secret is ever compared. A value that cannot be one we issued
(empty, longer than 1,024 characters, or not visible ASCII) is refused without a lookup: its
format is no secret. App bearer tokens and ingest keys live in separate tables, so neither opens
the other's door.
"""

from __future__ import annotations

from engagement_api.auth import reasons
from engagement_api.auth.secrets import hash_secret
from engagement_api.contract.errors import Unauthorized
from engagement_api.store.protocols import CredentialStore

MAX_BEARER_LENGTH = 1024


def _plausible(value: str) -> bool:
    """1 to 1,024 visible ASCII characters ("!" to "~": printable, not a space)."""
    return (
        0 < len(value) <= MAX_BEARER_LENGTH
        and value.isascii()
        and value.isprintable()
        and " " not in value
    )


def bearer_digest(token: str) -> str:
    """The digest a bearer token is looked up by; :class:`Unauthorized` ``Bearer token not
    found`` for a value that cannot be a token we issued."""
    if not _plausible(token):
        raise Unauthorized(reasons.BEARER_TOKEN_NOT_FOUND)
    return hash_secret(token)


def verify_ingest_key(store: CredentialStore, key: str) -> None:
    """Accept a known ingest key; :class:`Unauthorized` ``Ingest key not found`` otherwise."""
    if not (_plausible(key) and store.has_ingest_key(hash_secret(key))):
        raise Unauthorized(reasons.INGEST_KEY_NOT_FOUND)
