"""Who is asking: what every authentication backend returns (Starlette-style), and what the
access policy then decides on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from engagement_api.domain import App

#: How the request was signed: OAuth 1.0a with an access token (user context), OAuth 1.0a
#: without one (app-only), or the app's OAuth 2.0 bearer token (app-only).
Scheme = Literal["oauth1_user", "oauth1_app", "bearer"]


@dataclass(frozen=True)
class Identity:
    """An authenticated caller.

    ``user_id`` is the owner of the access token that signed the request (user context) and
    ``None`` under app-only authentication.
    """

    app: App
    user_id: int | None
    scheme: Scheme

    @property
    def is_user_context(self) -> bool:
        """True when an access token signed the request (the app acts for ``user_id``)."""
        return self.scheme == "oauth1_user"
