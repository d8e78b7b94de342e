"""Credentials: flags over environment over the TOML file in the platform config dir."""

from __future__ import annotations

from pathlib import Path

import platformdirs
import pytest

from engagement_api.client import BearerAuth, OAuth1App, OAuth1User
from engagement_api.client.credentials import Credentials, CredentialsError, default_path, resolve

FILE = """
base_url = "http://file/insights/engagement"
consumer_key = "filekey"
consumer_secret = "filesecret"
access_token = "filetoken"
access_token_secret = "filetokensecret"
bearer_token = "filebearer"
"""


@pytest.fixture
def config_home(isolated_config: Path) -> Path:
    """platformdirs' config dir under the test's temporary directory (conftest.py)."""
    return isolated_config


def _write_default(text: str) -> Path:
    path = default_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_default_path_is_in_the_platform_config_dir(config_home: Path) -> None:
    assert default_path() == config_home / "engagement-api" / "credentials.toml"
    assert default_path() == platformdirs.user_config_path("engagement-api") / "credentials.toml"


@pytest.mark.parametrize(
    ("flags", "env", "expected_key", "expected_url"),
    [
        ({}, {}, "filekey", "http://file/insights/engagement"),
        (
            {},
            {"ENGAGEMENT_API_CONSUMER_KEY": "envkey"},
            "envkey",
            "http://file/insights/engagement",
        ),
        (
            {"consumer_key": "flagkey"},
            {"ENGAGEMENT_API_CONSUMER_KEY": "envkey"},
            "flagkey",
            "http://file/insights/engagement",
        ),
        (
            {"base_url": "http://flag"},
            {"ENGAGEMENT_API_BASE_URL": "http://env"},
            "filekey",
            "http://flag",
        ),
        (
            {},
            {"ENGAGEMENT_API_BASE_URL": "http://env", "ENGAGEMENT_API_CONSUMER_KEY": ""},
            "filekey",
            "http://env",
        ),
    ],
)
def test_precedence_flags_env_file(
    config_home: Path,
    flags: dict[str, str],
    env: dict[str, str],
    expected_key: str,
    expected_url: str,
) -> None:
    _write_default(FILE)
    got = resolve(Credentials(**flags), env)
    assert got.consumer_key == expected_key
    assert got.resolved_base_url() == expected_url
    assert got.access_token == "filetoken"


def test_field_by_field(config_home: Path) -> None:
    _write_default('consumer_key = "filekey"\n')
    got = resolve(
        Credentials(access_token="flagtoken"), {"ENGAGEMENT_API_CONSUMER_SECRET": "envsecret"}
    )
    assert (got.consumer_key, got.consumer_secret, got.access_token) == (
        "filekey",
        "envsecret",
        "flagtoken",
    )


def test_no_file_is_fine_and_an_explicit_file_must_exist(config_home: Path, tmp_path: Path) -> None:
    assert resolve(Credentials(), {}) == Credentials()
    assert resolve(Credentials(), {}).resolved_base_url().endswith("/insights/engagement")
    with pytest.raises(CredentialsError, match="not found"):
        resolve(Credentials(), {}, tmp_path / "missing.toml")
    with pytest.raises(CredentialsError, match="not found"):
        resolve(Credentials(), {"ENGAGEMENT_API_CREDENTIALS_FILE": str(tmp_path / "x.toml")})


def test_the_file_from_a_flag_or_the_variable(config_home: Path, tmp_path: Path) -> None:
    _write_default('consumer_key = "default"\n')
    other = tmp_path / "other.toml"
    other.write_text('consumer_key = "other"\n')
    assert resolve(Credentials(), {}, other).consumer_key == "other"
    env = {"ENGAGEMENT_API_CREDENTIALS_FILE": str(other)}
    assert resolve(Credentials(), env).consumer_key == "other"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("consumer_key = 1\n", "must be a string"),
        ("nope = 'x'\n", "unknown keys nope"),
        ("consumer_key = \n", "cannot read"),
    ],
)
def test_bad_files(config_home: Path, text: str, message: str) -> None:
    _write_default(text)
    with pytest.raises(CredentialsError, match=message):
        resolve(Credentials(), {})


def test_which_auth() -> None:
    full = Credentials(
        consumer_key="k",
        consumer_secret="s",
        access_token="t",
        access_token_secret="ts",
        bearer_token="b",
    )
    assert isinstance(full.make_auth(), OAuth1User)
    assert isinstance(Credentials(bearer_token="b").make_auth(), BearerAuth)
    assert isinstance(Credentials(consumer_key="k", consumer_secret="s").make_auth(), OAuth1App)
    assert isinstance(Credentials(**{**full.__dict__, "auth": "app"}).make_auth(), OAuth1App)
    assert isinstance(Credentials(**{**full.__dict__, "auth": "bearer"}).make_auth(), BearerAuth)
    with pytest.raises(CredentialsError, match="no credentials"):
        Credentials().make_auth()
    with pytest.raises(CredentialsError, match="access token"):
        Credentials(consumer_key="k", consumer_secret="s", auth="user").make_auth()
    with pytest.raises(CredentialsError, match="bearer"):
        Credentials(auth="bearer").make_auth()
    with pytest.raises(CredentialsError, match="auth must be"):
        Credentials(bearer_token="b", auth="magic").make_auth()
