"""App bearer tokens and ingest keys."""

from __future__ import annotations

import pytest

from engagement_api.auth import Authenticator
from engagement_api.contract.errors import Forbidden, Unauthorized
from engagement_api.store import Store
from tests.auth.signing import BODY, URL, World, sign


def _bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


@pytest.mark.parametrize(
    "url", [URL, URL + "?a=1&b=%5B2%5D", URL + "?ids=[1,2]", "http://other:8080/x?y"]
)
def test_valid_bearer_on_any_url(auth: Authenticator, world: World, url: str) -> None:
    identity = auth.authenticate("POST", url, _bearer(world.a.bearer), BODY)
    assert identity.app.consumer_key == world.a.key
    assert (identity.user_id, identity.scheme, identity.is_user_context) == (None, "bearer", False)


@pytest.mark.parametrize(
    "headers",
    [
        {"authorization": "bearer {}"},
        {"AUTHORIZATION": "BEARER   {}  "},
        {"Authorization": "Bearer\t{}"},
    ],
)
def test_bearer_spelling(auth: Authenticator, world: World, headers: dict[str, str]) -> None:
    filled = {k: v.format(world.b.bearer) for k, v in headers.items()}
    assert auth.authenticate("POST", URL, filled, BODY).app.consumer_key == world.b.key


@pytest.mark.parametrize(
    "make",
    [
        lambda w: "NoSuchBearerToken",
        lambda w: w.a.bearer[:-1],
        lambda w: w.a.secret,  # a consumer secret is not a bearer token
        lambda w: w.ingest_key,  # nor is an ingest key
    ],
    ids=["unknown", "truncated", "consumer secret", "ingest key"],
)
def test_unknown_bearer(auth: Authenticator, world: World, make: object) -> None:
    assert callable(make)
    with pytest.raises(Unauthorized) as info:
        auth.authenticate("POST", URL, _bearer(make(world)), BODY)
    assert info.value.reason == "Bearer token not found"


def test_bearer_of_disabled_app(auth: Authenticator, store: Store, world: World) -> None:
    store.set_app_enabled(world.a.key, False)
    with pytest.raises(Forbidden) as info:
        auth.authenticate("POST", URL, _bearer(world.a.bearer), BODY)
    assert info.value.messages == ["Your application id is not authorized."]


# -- ingest ----------------------------------------------------------------------------------


def test_ingest_key_accepted(auth: Authenticator, world: World) -> None:
    auth.authenticate_ingest(_bearer(world.ingest_key))
    auth.authenticate_ingest({"authorization": f"bearer {world.ingest_key}"})


INGEST_REFUSALS: list[tuple[str, object, str]] = [
    ("API bearer token", lambda w: _bearer(w.a.bearer), "Ingest key not found"),
    ("unknown key", lambda w: _bearer("nope"), "Ingest key not found"),
    ("empty bearer", lambda w: {"Authorization": "Bearer"}, "Ingest key not found"),
    ("OAuth signature", lambda w: sign(w.a, w.token_a), "Unknown Authorization Type"),
    ("no header", lambda w: {}, "Unknown Authorization Type"),
    ("basic", lambda w: {"Authorization": "Basic abc"}, "Unknown Authorization Type"),
]


@pytest.mark.parametrize(
    ("make", "reason"), [c[1:] for c in INGEST_REFUSALS], ids=[c[0] for c in INGEST_REFUSALS]
)
def test_ingest_refusals(auth: Authenticator, world: World, make: object, reason: str) -> None:
    assert callable(make)
    with pytest.raises(Unauthorized) as info:
        auth.authenticate_ingest(make(world))
    assert info.value.reason == reason
