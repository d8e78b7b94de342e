"""Issuing credentials: apps, access tokens, ingest keys. Shared by the CLI, the demo and the
benchmarks.

Everything issued is letters and digits only (spec section 2). Secrets that need not be
recovered (bearer tokens, ingest keys) are stored as SHA-256 digests and shown once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from engagement_api.auth.secrets import hash_secret, new_key
from engagement_api.clock import Clock
from engagement_api.domain import AccessToken
from engagement_api.store.protocols import CatalogStore, CredentialStore


class _TokenIssuer(CredentialStore, CatalogStore, Protocol):
    """A token is issued for a user of the catalog."""


class AdminError(ValueError):
    """An administrative request cannot be carried out (unknown app, unknown user...)."""


@dataclass(frozen=True)
class IssuedApp:
    name: str
    consumer_key: str
    consumer_secret: str
    bearer_token: str
    rate_limit: int


def create_app(store: CredentialStore, clock: Clock, name: str, rate_limit: int) -> IssuedApp:
    if not name.strip():
        raise AdminError("app name must not be empty")
    if rate_limit <= 0:
        raise AdminError("rate limit must be a positive integer")
    key, secret, bearer = new_key(25), new_key(50), new_key(80)
    store.create_app(key, name, secret, hash_secret(bearer), rate_limit, clock.now())
    return IssuedApp(name, key, secret, bearer, rate_limit)


def create_token(store: _TokenIssuer, clock: Clock, consumer_key: str, user_id: int) -> AccessToken:
    if store.get_app(consumer_key) is None:
        raise AdminError(f"no app with consumer key {consumer_key!r}")
    if user_id not in store.get_users([user_id]):
        raise AdminError(f"no user with id {user_id}; load users first")
    return store.create_token(new_key(50), new_key(45), consumer_key, user_id, clock.now())


def create_ingest_key(store: CredentialStore, clock: Clock) -> str:
    key = new_key(48)
    store.create_ingest_key(hash_secret(key), clock.now())
    return key
