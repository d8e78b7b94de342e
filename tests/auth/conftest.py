"""Fixtures of the auth tests: credentials in a real store (see tests/auth/signing.py for the
signing helpers) and the authenticator under test."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engagement_api.auth import Authenticator, hash_secret, new_key
from engagement_api.clock import ManualClock
from engagement_api.store import Store
from tests.auth.signing import AppCreds, TokenCreds, World
from tests.support import NOW, SINGLE_DATABASE, backends

# Credentials and signatures are the catalog's alone: the ClickHouse configuration runs the same
# code on its PostgreSQL catalog.
backend = backends(SINGLE_DATABASE)


def _app(store: Store, name: str) -> AppCreds:
    creds = AppCreds(new_key(25), new_key(50), new_key(80))
    store.create_app(creds.key, name, creds.secret, hash_secret(creds.bearer), 100, NOW)
    return creds


def _token(store: Store, app: AppCreds, user_id: int) -> TokenCreds:
    creds = TokenCreds(new_key(40), new_key(45), user_id)
    store.create_token(creds.token, creds.secret, app.key, user_id, NOW - timedelta(days=1))
    return creds


@pytest.fixture
def world(store: Store) -> World:
    a = _app(store, "app a")
    b = _app(store, "app b")
    revoked = _token(store, a, 1003)
    store.revoke_token(revoked.token)
    ingest_key = new_key(48)
    store.create_ingest_key(hash_secret(ingest_key), NOW)
    return World(a, b, _token(store, a, 1001), _token(store, b, 2002), revoked, ingest_key)


@pytest.fixture
def auth(store: Store, clock: ManualClock) -> Authenticator:
    return Authenticator(store, clock)
