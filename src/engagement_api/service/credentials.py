"""Issuing credentials: apps, access tokens, ingest keys, admin keys and dashboard sign-in
links. Shared by the CLI, the demo, the dashboard and the benchmarks.

Everything issued is letters and digits only (spec section 2). Secrets that need not be
recovered (bearer tokens, ingest keys, admin keys, link tokens) are stored as SHA-256
digests and shown once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from engagement_api.auth.secrets import hash_secret, new_key
from engagement_api.clock import Clock
from engagement_api.domain import AccessToken
from engagement_api.store.protocols import CatalogStore, CredentialStore, SessionStore


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


def create_admin_key(store: CredentialStore, clock: Clock) -> str:
    """A key that signs an operator in to the dashboard (shown once; stored hashed)."""
    key = new_key(48)
    store.create_admin_key(hash_secret(key), clock.now())
    return key


def revoke_admin_key(store: CredentialStore, admin_key: str) -> None:
    """Revoke the key; its dashboard sessions end with it."""
    if not store.revoke_admin_key(hash_secret(admin_key)):
        raise AdminError("no such admin key (or revoked already)")


class _LinkIssuer(SessionStore, CatalogStore, Protocol):
    """A link is made for a user of the catalog."""


#: Where a one-time link leads (``/dashboard/link/<token>``).
LINK_PATH = "/dashboard/link/"


@dataclass(frozen=True)
class IssuedLink:
    url: str
    user_id: int
    expires_at: datetime


def create_dashboard_link(
    store: _LinkIssuer, clock: Clock, user_id: int, base_url: str, ttl: int
) -> IssuedLink:
    """A one-time sign-in link for a Post owner: usable once, for ``ttl`` seconds."""
    if not base_url.startswith(("http://", "https://")):
        raise AdminError(f"base URL must start with http:// or https://, not {base_url!r}")
    if user_id not in store.get_users([user_id]):
        raise AdminError(f"no user with id {user_id}; load users first")
    token = new_key(43)
    now = clock.now()
    expires = now + timedelta(seconds=ttl)
    store.create_link(hash_secret(token), user_id, now, expires)
    return IssuedLink(base_url.rstrip("/") + LINK_PATH + token, user_id, expires)
