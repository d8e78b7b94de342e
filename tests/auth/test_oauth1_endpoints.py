"""The verifier accepts exactly the signatures oauthlib's own server endpoints accept.

The verifier makes the base string itself from oauthlib's signature functions (it no longer goes
through ``ResourceEndpoint``/``SignatureOnlyEndpoint``). Here both judge the same requests, signed
by oauthlib's client over URLs with awkward queries (repeated, empty, encoded and ``realm``
parameters), form bodies and a realm in the header, then sent as signed or changed on the way.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oauthlib.oauth1 import (
    SIGNATURE_TYPE_AUTH_HEADER,
    Client,
    RequestValidator,
    ResourceEndpoint,
    SignatureOnlyEndpoint,
)
from oauthlib.oauth1.rfc5849 import signature

from engagement_api.auth import Authenticator, new_key
from engagement_api.auth.oauth1 import normalized_parameters
from engagement_api.contract.errors import Unauthorized
from tests.auth.signing import JSON, TS, URL, World

FORM = "application/x-www-form-urlencoded"


class _Knows(RequestValidator):
    """oauthlib's side: the world's app A and its token, every check but the secrets lenient
    (the verifier's stricter format checks are tested elsewhere)."""

    def __init__(self, world: World) -> None:
        super().__init__()
        self.secrets = {world.a.key: world.a.secret}
        self.tokens = {world.token_a.token: world.token_a.secret}

    allowed_signature_methods = ("HMAC-SHA1",)
    enforce_ssl = False
    timestamp_lifetime = 10**11
    dummy_client = "dummy-client"
    dummy_access_token = "dummy-token"

    def check_client_key(self, client_key: str) -> bool:
        return True

    def check_access_token(self, request_token: str) -> bool:
        return True

    def check_nonce(self, nonce: str) -> bool:
        return True

    def validate_timestamp_and_nonce(self, *args: Any, **kwargs: Any) -> bool:
        return True

    def validate_client_key(self, client_key: str, request: Any) -> bool:
        return client_key in self.secrets

    def validate_access_token(self, client_key: str, token: str, request: Any) -> bool:
        return token in self.tokens

    def validate_realms(self, *args: Any, **kwargs: Any) -> bool:
        return True

    def get_client_secret(self, client_key: str, request: Any) -> str:
        return self.secrets.get(client_key, "dummy")

    def get_access_token_secret(self, client_key: str, token: str, request: Any) -> str:
        return self.tokens.get(token, "dummy")


names = st.sampled_from(["a", "b", "realm", "ids", "x y", "é", "", "a+b"])
values = st.sampled_from(["1", "2", "", "a b", "%", "=", "&", "é", "1,2", "~*'"])
pairs = st.lists(st.tuples(names, values), max_size=4)


@settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=150, deadline=None
)
@given(
    query=pairs,
    form=st.none() | pairs,
    realm=st.none() | st.sampled_from(["Example", "api.example.com", ""]),
    user=st.booleans(),
    change=st.sampled_from([None, "query", "form", "method", "reorder"]),
)
def test_same_verdict_as_oauthlibs_endpoints(
    auth: Authenticator,
    world: World,
    query: list[tuple[str, str]],
    form: list[tuple[str, str]] | None,
    realm: str | None,
    user: bool,
    change: str | None,
) -> None:
    url = URL + ("?" + urlencode(query, quote_via=quote) if query else "")
    body = urlencode(form) if form is not None else None
    content_type = FORM if form is not None else JSON
    client = Client(
        world.a.key,
        client_secret=world.a.secret,
        resource_owner_key=world.token_a.token if user else None,
        resource_owner_secret=world.token_a.secret if user else None,
        signature_type=SIGNATURE_TYPE_AUTH_HEADER,
        realm=realm,
        timestamp=str(TS),
        nonce=new_key(32),
    )
    _, signed, _ = client.sign(
        url, http_method="POST", body=body, headers={"Content-Type": content_type}
    )
    headers = {str(k): str(v) for k, v in signed.items()}
    method = "POST"
    changed = True
    if change == "query":
        url += ("&" if query else "?") + "added=1"
    elif change == "form" and body is not None:
        body += "&added=1"
    elif change == "method":
        method = "PUT"
    else:  # as signed, or the query in another order (the base string sorts it)
        changed = False
        if change == "reorder" and query:
            url = URL + "?" + urlencode(query[::-1], quote_via=quote)
    data = body.encode() if body is not None else b"{}"

    try:
        auth.authenticate(method, url, headers, data)
        ours = True
    except Unauthorized as exc:
        assert exc.reason == "Invalid signature"
        ours = False
    assert ours == (not changed)

    knows = _Knows(world)
    try:
        if user:
            theirs, _ = ResourceEndpoint(knows).validate_protected_resource_request(
                url, http_method=method, body=body or "", headers=headers
            )
        else:
            theirs, _ = SignatureOnlyEndpoint(knows).validate_request(
                url, http_method=method, body=body or "", headers=headers
            )
    except ValueError:  # oauthlib cannot read the request
        theirs = False
    # oauthlib's endpoints drop every "realm" parameter when the header has a realm, where RFC
    # 5849 (3.4.1.3.1) and oauthlib's own client drop only the header's: they refuse what the
    # client signed. The verifier follows the RFC and the clients there.
    quirk = "realm" in headers["Authorization"] and any(
        name == "realm" for name, _ in [*query, *(form or [])]
    )
    if not quirk:
        assert ours == theirs


@pytest.mark.parametrize("url", [URL + "?a=1&a=2&a=1", URL + "?b=&a", URL + "?realm=x&a=%7E"])
def test_repeated_empty_and_realm_query_parameters(
    auth: Authenticator, world: World, url: str
) -> None:
    client = Client(world.a.key, client_secret=world.a.secret, timestamp=str(TS))
    _, signed, _ = client.sign(url, http_method="POST", headers={"Content-Type": JSON})
    identity = auth.authenticate("POST", url, {str(k): str(v) for k, v in signed.items()}, b"{}")
    assert identity.app.consumer_key == world.a.key


@given(st.lists(st.tuples(st.text(max_size=8), st.text(max_size=8)), max_size=8))
def test_parameters_normalized_as_oauthlib_does(params: list[tuple[str, str]]) -> None:
    # (types-oauthlib says a dict; oauthlib takes the list of pairs its endpoints pass)
    assert normalized_parameters(params) == signature.normalize_parameters(params)  # type: ignore[arg-type]
