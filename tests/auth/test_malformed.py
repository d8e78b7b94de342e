"""Garbage in the Authorization header: always a 401 with a clear reason, never another error."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, SIGNATURE_PLAINTEXT

from engagement_api.auth import Authenticator
from engagement_api.contract.errors import Unauthorized
from tests.auth.signing import BODY, TS, URL, World, sign
from tests.support import BESIDE_A_POOL

pytestmark = BESIDE_A_POOL

MALFORMED = "Malformed Authorization header"


def _reason(auth: Authenticator, headers: dict[str, str], url: str = URL) -> str:
    with pytest.raises(Unauthorized) as info:
        auth.authenticate("POST", url, headers, BODY)
    return info.value.reason


def _edit(headers: dict[str, str], pattern: str, replacement: str) -> dict[str, str]:
    new, count = re.subn(pattern, replacement, headers["Authorization"])
    assert count == 1, (pattern, headers)
    return {**headers, "Authorization": new}


RAW_HEADERS: list[tuple[str, dict[str, str], str]] = [
    ("no header", {}, "Unknown Authorization Type"),
    ("empty", {"Authorization": ""}, "Unknown Authorization Type"),
    ("blank", {"Authorization": "   "}, "Unknown Authorization Type"),
    ("basic", {"Authorization": "Basic dXNlcjpwYXNz"}, "Unknown Authorization Type"),
    ("digest", {"Authorization": 'Digest username="x"'}, "Unknown Authorization Type"),
    ("non-ASCII scheme", {"Authorization": "ÖAuth x=1"}, "Unknown Authorization Type"),
    ("OAuth alone", {"Authorization": "OAuth"}, MALFORMED),
    ("OAuth and spaces", {"Authorization": "OAuth    "}, MALFORMED),
    ("OAuth garbage", {"Authorization": "OAuth garbage"}, MALFORMED),
    ("OAuth commas", {"Authorization": "OAuth ,,,"}, MALFORMED),
    ("OAuth empty value", {"Authorization": "OAuth oauth_nonce="}, MALFORMED),
    ("OAuth unterminated quote", {"Authorization": 'OAuth oauth_nonce="abc'}, MALFORMED),
    ("OAuth non-ASCII", {"Authorization": 'OAuth oauth_consumer_key="ké"'}, MALFORMED),
    ("OAuth NUL", {"Authorization": 'OAuth oauth_consumer_key="k\x00"'}, MALFORMED),
    ("OAuth lone surrogate", {"Authorization": 'OAuth oauth_nonce="\udcff"'}, MALFORMED),
    (
        "OAuth percent-encoded junk",
        {"Authorization": 'OAuth oauth_consumer_key="%FF%FE", oauth_nonce="%00"'},
        MALFORMED,
    ),
    ("bearer empty", {"Authorization": "Bearer"}, "Bearer token not found"),
    ("bearer non-ASCII", {"Authorization": "Bearer tökén"}, "Bearer token not found"),
    ("bearer two words", {"Authorization": "Bearer abc def"}, "Bearer token not found"),
    ("bearer huge", {"Authorization": "Bearer " + "a" * 5000}, "Bearer token not found"),
    (
        "two different Authorization headers",
        {"Authorization": "Bearer abc", "authorization": "Bearer def"},
        MALFORMED,
    ),
]


@pytest.mark.parametrize(
    ("headers", "reason"), [c[1:] for c in RAW_HEADERS], ids=[c[0] for c in RAW_HEADERS]
)
def test_raw_headers(
    auth: Authenticator, world: World, headers: dict[str, str], reason: str
) -> None:
    assert _reason(auth, headers) == reason


REQUIRED = [
    "oauth_consumer_key",
    "oauth_signature",
    "oauth_signature_method",
    "oauth_timestamp",
    "oauth_nonce",
]

Params = list[tuple[str, str]]


def _params(headers: dict[str, str]) -> Params:
    return re.findall(r'(\w+)="([^"]*)"', headers["Authorization"])


def _rebuild(headers: dict[str, str], params: Params) -> dict[str, str]:
    return {**headers, "Authorization": "OAuth " + ", ".join(f'{k}="{v}"' for k, v in params)}


def _without(name: str) -> Callable[[Params], Params]:
    return lambda ps: [(k, v) for k, v in ps if k != name]


def _replace(name: str, value: str) -> Callable[[Params], Params]:
    return lambda ps: [(k, value if k == name else v) for k, v in ps]


def _add(name: str, value: str) -> Callable[[Params], Params]:
    return lambda ps: [*ps, (name, value)]


OOB = "Timestamp out of bounds"
EDITS: list[tuple[str, Callable[[Params], Params], str]] = [
    *[(f"missing {p}", _without(p), MALFORMED) for p in REQUIRED],
    *[(f"empty {p}", _replace(p, ""), MALFORMED) for p in REQUIRED],
    ("nothing left", lambda ps: [], MALFORMED),
    ("duplicate nonce", _add("oauth_nonce", "another"), MALFORMED),
    ("duplicate signature", _add("oauth_signature", "abc"), MALFORMED),
    ("duplicate token", _add("oauth_token", "abc"), MALFORMED),
    ("duplicate realm", lambda ps: [("realm", "a"), *ps, ("realm", "a")], MALFORMED),
    ("non-OAuth parameter", _add("foo", "bar"), MALFORMED),
    ("oauth_version 2.0", _replace("oauth_version", "2.0"), MALFORMED),
    ("timestamp not a number", _replace("oauth_timestamp", "12ab567890"), MALFORMED),
    ("negative timestamp", _replace("oauth_timestamp", "-123456789"), MALFORMED),
    ("unicode digits timestamp", _replace("oauth_timestamp", "%C2%B2" * 10), MALFORMED),
    ("9-digit timestamp", _replace("oauth_timestamp", "999999999"), OOB),
    ("11-digit timestamp", _replace("oauth_timestamp", f"{TS}0"), OOB),
    ("nonce too long", _replace("oauth_nonce", "n" * 129), MALFORMED),
    ("nonce with control char", _replace("oauth_nonce", "a%0Ab"), MALFORMED),
    ("nonce non-ASCII", _replace("oauth_nonce", "%C3%A9t%C3%A9"), MALFORMED),
    ("consumer key with dash", _replace("oauth_consumer_key", "a-b"), "Consumer key not found"),
    ("consumer key too long", _replace("oauth_consumer_key", "k" * 129), "Consumer key not found"),
    ("consumer key non-ASCII", _replace("oauth_consumer_key", "%C3%A9"), "Consumer key not found"),
    ("token with dash", _replace("oauth_token", "123-abc"), "Access token not found"),
    ("empty token", _replace("oauth_token", ""), "Access token not found"),
    ("body hash garbage", _add("oauth_body_hash", "%FF"), "Invalid signature"),
]


@pytest.mark.parametrize(("edit", "reason"), [c[1:] for c in EDITS], ids=[c[0] for c in EDITS])
def test_edited_oauth_headers(
    auth: Authenticator, world: World, edit: Callable[[Params], Params], reason: str
) -> None:
    headers = sign(world.a, world.token_a)
    assert _rebuild(headers, _params(headers)) == headers  # the editing round-trips
    assert _reason(auth, _rebuild(headers, edit(_params(headers)))) == reason


def test_realm_is_allowed_and_not_signed(auth: Authenticator, world: World) -> None:
    headers = sign(world.a, world.token_a)
    headers = _rebuild(headers, [("realm", "Engagement"), *_params(headers)])
    assert auth.authenticate("POST", URL, headers, BODY).user_id == 1001


def test_scheme_name_is_case_insensitive(auth: Authenticator, world: World) -> None:
    headers = _edit(sign(world.a, world.token_a), r"^OAuth ", "oauth  ")
    assert auth.authenticate("POST", URL, headers, BODY).user_id == 1001


@pytest.mark.parametrize("method", [SIGNATURE_HMAC_SHA256, SIGNATURE_PLAINTEXT])
def test_unsupported_signature_methods(auth: Authenticator, world: World, method: str) -> None:
    headers = sign(world.a, world.token_a, signature_method=method)
    assert _reason(auth, headers) == "Unsupported signature method"


@pytest.mark.parametrize(
    "url",
    [
        URL + "?ids=[1,2]",  # not URL-encoded
        URL + "?oauth_nonce=abc",  # OAuth parameters in two places
        URL + "?a=%zz",  # bad percent-encoding
        "not a url",
    ],
)
def test_urls_oauthlib_cannot_read(auth: Authenticator, world: World, url: str) -> None:
    assert _reason(auth, sign(world.a, world.token_a), url=url) == "Invalid signature"


def test_form_body_that_is_not_utf8(auth: Authenticator, world: World) -> None:
    headers = sign(world.a, world.token_a)
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    with pytest.raises(Unauthorized) as info:
        auth.authenticate("POST", URL, headers, b"a=\xff\xfe")
    assert info.value.reason == "Invalid signature"


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=300)
@given(
    scheme=st.sampled_from(["OAuth ", "oauth ", "Bearer ", "", "OAuth"]),
    rest=st.text(max_size=200),
)
def test_any_header_is_a_401_never_a_crash(
    auth: Authenticator, world: World, scheme: str, rest: str
) -> None:
    with pytest.raises(Unauthorized):
        auth.authenticate("POST", URL, {"Authorization": scheme + rest}, BODY)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=200)
@given(
    params=st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "oauth_consumer_key",
                    "oauth_token",
                    "oauth_signature",
                    "oauth_signature_method",
                    "oauth_timestamp",
                    "oauth_nonce",
                    "oauth_version",
                    "oauth_body_hash",
                    "realm",
                ]
            ),
            st.text(max_size=30) | st.just("HMAC-SHA1") | st.just(str(TS)),
        ),
        max_size=9,
    )
)
def test_any_parameter_soup_is_a_401_never_a_crash(
    auth: Authenticator, world: World, params: list[tuple[str, str]]
) -> None:
    header = "OAuth " + ", ".join(f'{k}="{v}"' for k, v in params)
    with pytest.raises(Unauthorized):
        auth.authenticate("POST", URL, {"Authorization": header}, BODY)
