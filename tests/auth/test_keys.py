"""Issuing keys, hashing secrets, and the identity value."""

from __future__ import annotations

import hashlib
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engagement_api.auth import KEY_ALPHABET, Identity, constant_time_equals, hash_secret, new_key
from engagement_api.domain import App
from tests.support import NOW


@pytest.mark.parametrize("length", [1, 25, 50, 128])
def test_new_key_is_letters_and_digits(length: int) -> None:
    key = new_key(length)
    assert len(key) == length
    assert set(key) <= set(string.ascii_letters + string.digits) == set(KEY_ALPHABET)


def test_new_keys_differ() -> None:
    assert len({new_key(32) for _ in range(100)}) == 100


def test_new_key_needs_a_length() -> None:
    with pytest.raises(ValueError):
        new_key(0)


def test_hash_secret_is_sha256_hex() -> None:
    assert hash_secret("abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


@given(st.text())
def test_hash_secret_matches_hashlib(value: str) -> None:
    expected = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    assert hash_secret(value) == expected


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [("abc", "abc", True), ("abc", "abd", False), ("", "a", False), ("é", "é", True)],
)
def test_constant_time_equals(a: str, b: str, equal: bool) -> None:
    assert constant_time_equals(a, b) is equal


@pytest.mark.parametrize(
    ("scheme", "user_id", "user_context"),
    [("oauth1_user", 5, True), ("oauth1_app", None, False), ("bearer", None, False)],
)
def test_identity(scheme: str, user_id: int | None, user_context: bool) -> None:
    app = App("key", "name", "secret", True, 10, NOW)
    identity = Identity(app, user_id, scheme)  # type: ignore[arg-type]  # a str: one of the Literal
    assert identity.is_user_context is user_context
    with pytest.raises(AttributeError):
        identity.user_id = 1  # type: ignore[misc]  # frozen: the very thing tested
