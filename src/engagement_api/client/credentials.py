"""Where the query CLI finds its base URL and credentials: flags, then environment variables,
then a TOML file in the platform's config directory (platformdirs), field by field.

The file (``engagement-api query config-path`` prints where it is looked for)::

    base_url = "https://engagement.example.com/insights/engagement"
    consumer_key = "..."
    consumer_secret = "..."
    access_token = "..."          # with access_token_secret: OAuth 1.0a user context
    access_token_secret = "..."
    bearer_token = "..."          # app-only

Which signing is used: ``auth = "user" | "app" | "bearer"`` when given (flag, variable or
file), else user context when the four OAuth values are there, else bearer when a bearer token
is, else OAuth 1.0a app-only with the consumer key and secret.
"""

from __future__ import annotations

import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path

import httpx
import platformdirs

from engagement_api.client.auth import BearerAuth, OAuth1App, OAuth1User
from engagement_api.client.core import DEFAULT_BASE_URL

APP_NAME = "engagement-api"
FILE_NAME = "credentials.toml"
ENV_PREFIX = "ENGAGEMENT_API_"
FILE_VARIABLE = "ENGAGEMENT_API_CREDENTIALS_FILE"
AUTH_KINDS = ("user", "app", "bearer")


class CredentialsError(ValueError):
    """Credentials are missing, incomplete or unreadable."""


@dataclass(frozen=True)
class Credentials:
    base_url: str | None = None
    consumer_key: str | None = None
    consumer_secret: str | None = None
    access_token: str | None = None
    access_token_secret: str | None = None
    bearer_token: str | None = None
    auth: str | None = None

    @staticmethod
    def names() -> list[str]:
        return [f.name for f in fields(Credentials)]

    def over(self, fallback: Credentials) -> Credentials:
        """These values, each missing one taken from ``fallback``."""
        return Credentials(
            **{
                n: getattr(self, n) if getattr(self, n) is not None else getattr(fallback, n)
                for n in self.names()
            }
        )

    def resolved_base_url(self) -> str:
        return self.base_url or DEFAULT_BASE_URL

    def make_auth(self, clock: Callable[[], float] = time.time) -> httpx.Auth:
        kind = self.auth or self._default_kind()
        if kind not in AUTH_KINDS:
            raise CredentialsError(f"auth must be one of {', '.join(AUTH_KINDS)}, not {kind!r}")
        if kind == "bearer":
            if not self.bearer_token:
                raise CredentialsError("bearer auth needs a bearer token")
            return BearerAuth(self.bearer_token)
        if not (self.consumer_key and self.consumer_secret):
            raise CredentialsError(
                "no credentials: give a consumer key and secret (and an access token and secret "
                "for user context) or a bearer token, by flag, environment variable or "
                f"credentials file ({default_path()})"
            )
        if kind == "app":
            return OAuth1App(self.consumer_key, self.consumer_secret, clock=clock)
        if not (self.access_token and self.access_token_secret):
            raise CredentialsError("user context needs an access token and its secret")
        return OAuth1User(
            self.consumer_key,
            self.consumer_secret,
            self.access_token,
            self.access_token_secret,
            clock=clock,
        )

    def _default_kind(self) -> str:
        if self.consumer_key and self.access_token:
            return "user"
        if self.bearer_token:
            return "bearer"
        return "app"


def default_path() -> Path:
    """``credentials.toml`` in the platform's user config directory for engagement-api."""
    return platformdirs.user_config_path(APP_NAME) / FILE_NAME


def from_env(environ: Mapping[str, str]) -> Credentials:
    values = {n: environ.get(ENV_PREFIX + n.upper()) or None for n in Credentials.names()}
    return Credentials(**values)


def from_file(path: Path, *, required: bool) -> Credentials:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        if required:
            raise CredentialsError(f"credentials file not found: {path}") from None
        return Credentials()
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CredentialsError(f"cannot read credentials file {path}: {exc}") from exc
    unknown = sorted(set(data) - set(Credentials.names()))
    if unknown:
        raise CredentialsError(f"{path}: unknown keys {', '.join(unknown)}")
    for key, value in data.items():
        if not isinstance(value, str):
            raise CredentialsError(f"{path}: {key} must be a string")
    return Credentials(**data)


def resolve(
    flags: Credentials, environ: Mapping[str, str], file: Path | None = None
) -> Credentials:
    """Flags over environment over file. The file is ``file`` when given (it must exist), else
    ``$ENGAGEMENT_API_CREDENTIALS_FILE`` (it must exist), else :func:`default_path` if there."""
    if file is not None:
        stored = from_file(file, required=True)
    elif environ.get(FILE_VARIABLE):
        stored = from_file(Path(environ[FILE_VARIABLE]), required=True)
    else:
        stored = from_file(default_path(), required=False)
    return flags.over(from_env(environ).over(stored))
