"""Dashboard sign-in, sessions and CSRF tokens; no HTTP in here (the dashboard's routes carry
the values in cookies and form fields).

- A session is a random ID (letters and digits) signed with the session secret:
  ``<id>.<HMAC-SHA256(secret, "session:" + id)>``. The store keeps only the ID's SHA-256 digest,
  with its role and expiry, so a session ends server-side (sign-out, expiry, the operator's
  admin key revoked) whatever the browser still holds; a forged or altered cookie is refused
  before the store is asked.
- A session's CSRF token is ``HMAC(secret, "csrf:" + digest of the session ID)``: the same for
  every form of the session, useless without the session cookie, and unknown to another
  origin. Forms shown before sign-in carry ``HMAC(secret, "csrf-anonymous:" + nonce)``, the
  nonce in a cookie of its own (a signed double submit).
- The secret is :attr:`Settings.session_secret` when set, else the one the store keeps (made on
  first use): every process on one database signs alike, and sessions outlive a restart.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from engagement_api.auth.secrets import constant_time_equals, hash_secret, new_key
from engagement_api.domain import DashboardSession
from engagement_api.settings import Settings
from engagement_api.store.protocols import CredentialStore, SessionStore

#: Most characters of an admin key or link token worth looking up (ours are 43 and 48).
MAX_SECRET_LENGTH = 128


class SessionBackend(SessionStore, CredentialStore, Protocol):
    """Sessions need the session store and the admin keys."""


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A session found for a cookie: its digest (the store's key) and what it may see."""

    digest: str
    session: DashboardSession

    @property
    def operator(self) -> bool:
        return self.session.operator


class Sessions:
    """Signs people in and out and checks their cookies and CSRF tokens."""

    def __init__(self, store: SessionBackend, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._secret: bytes | None = None

    def _key(self) -> bytes:
        if self._secret is None:
            secret = self.settings.session_secret or self.store.session_secret(new_key(64))
            self._secret = secret.encode("utf-8")
        return self._secret

    def _sign(self, purpose: str, value: str) -> str:
        message = f"{purpose}:{value}".encode()
        return hmac.new(self._key(), message, hashlib.sha256).hexdigest()

    # -- signing in and out ---------------------------------------------------------------------

    def sign_in_operator(self, admin_key: str) -> str | None:
        """A new session cookie value for a valid admin key, else None."""
        if not 0 < len(admin_key) <= MAX_SECRET_LENGTH:
            return None
        key_hash = hash_secret(admin_key)
        if not self.store.has_admin_key(key_hash):
            return None
        return self._start("operator", None, key_hash)

    def sign_in_with_link(self, token: str) -> str | None:
        """Spend a one-time link; a new owner session cookie value, or None when the link is
        unknown, used already or expired."""
        if not 0 < len(token) <= MAX_SECRET_LENGTH:
            return None
        user_id = self.store.spend_link(hash_secret(token), self.settings.clock.now())
        if user_id is None:
            return None
        return self._start("owner", user_id, None)

    def _start(self, role: str, user_id: int | None, key_hash: str | None) -> str:
        now = self.settings.clock.now()
        ends = now + timedelta(seconds=self.settings.session_lifetime)
        session_id = new_key(43)
        session = DashboardSession(role, user_id, key_hash, now, ends)
        self.store.create_session(hash_secret(session_id), session)
        return f"{session_id}.{self._sign('session', session_id)}"

    def find(self, cookie: str | None) -> SignedIn | None:
        """The live session a cookie value stands for, or None."""
        if not cookie or len(cookie) > 2 * MAX_SECRET_LENGTH:
            return None
        session_id, _, signature = cookie.partition(".")
        if not session_id or not constant_time_equals(signature, self._sign("session", session_id)):
            return None
        digest = hash_secret(session_id)
        session = self.store.get_session(digest, self.settings.clock.now())
        return None if session is None else SignedIn(digest, session)

    def sign_out(self, signed_in: SignedIn) -> None:
        self.store.end_session(signed_in.digest)

    # -- CSRF -----------------------------------------------------------------------------------

    def csrf_token(self, signed_in: SignedIn) -> str:
        return self._sign("csrf", signed_in.digest)

    def anonymous_csrf_token(self, nonce: str) -> str:
        return self._sign("csrf-anonymous", nonce)

    def check_csrf(self, signed_in: SignedIn, token: str | None) -> bool:
        return token is not None and constant_time_equals(token, self.csrf_token(signed_in))

    def check_anonymous_csrf(self, nonce: str | None, token: str | None) -> bool:
        if not nonce or token is None or len(nonce) > MAX_SECRET_LENGTH:
            return False
        return constant_time_equals(token, self.anonymous_csrf_token(nonce))

    @staticmethod
    def new_nonce() -> str:
        return new_key(32)
