"""Keys we issue and how we keep and compare them.

Decisions:

- Every key, secret and token this server issues is made of ASCII letters and digits only
  (spec §2), drawn with :mod:`secrets`, so it can follow a command-line option without being
  read as one.
- Secrets that need not be recovered (app bearer tokens, ingest keys) are stored as SHA-256 hex
  digests (:func:`hash_secret`); the store looks them up by digest, so the plain value is never
  compared with anything.
- Where we do compare secret-derived values ourselves, :func:`constant_time_equals` is used.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

#: The alphabet of every key, secret and token we issue.
KEY_ALPHABET = string.ascii_letters + string.digits


def new_key(length: int) -> str:
    """A fresh random key of ``length`` letters and digits."""
    if length < 1:
        raise ValueError("a key needs at least one character")
    return "".join(secrets.choice(KEY_ALPHABET) for _ in range(length))


def hash_secret(value: str) -> str:
    """The SHA-256 hex digest of ``value`` (UTF-8), as bearer tokens and ingest keys are kept."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def constant_time_equals(a: str, b: str) -> bool:
    """Compare two strings in time that does not depend on where they differ."""
    return hmac.compare_digest(
        a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass")
    )


def is_issued_key_format(value: str, max_length: int = 128) -> bool:
    """True when ``value`` could be a key we issued: 1..``max_length`` ASCII letters/digits."""
    return 0 < len(value) <= max_length and value.isascii() and value.isalnum()
