"""The whole OpenAPI 3.1 document: info, tags, security schemes, and the parts assembled."""

from __future__ import annotations

from typing import Final

from engagement_api import __version__
from engagement_api.api.errors import method_not_allowed, not_found
from engagement_api.api.openapi import examples as ex
from engagement_api.api.openapi.operations import paths
from engagement_api.api.openapi.responses import headers_components, responses_components
from engagement_api.api.openapi.schemas import Json, schemas
from engagement_api.settings import Settings

DESCRIPTION: Final = f"""\
A self-hostable server for the X Enterprise Engagement API contract (three read endpoints), \
with its own batch ingest, usage reporting and operations endpoints.

**Errors.** Every error body is `{{"errors": ["<message>", ...]}}`. Unknown paths answer 404 \
(`{not_found("<path>").messages[0]}`), other methods on a known path 405 with an `Allow` \
header (`{method_not_allowed("<M>", "<path>").messages[0]}`); both use that body (see the \
`NotFound` and `MethodNotAllowed` responses).

**Authentication.** OAuth 1.0a (HMAC-SHA1) is not an OpenAPI security scheme type: it is \
described here as an `Authorization` header (`OAuth oauth_consumer_key="...", ...`). The \
signature covers the method, the URL (query included) and the `oauth_*` parameters, not a \
JSON body; the timestamp must be within the server's window (300 s by default) and each nonce \
is used once per consumer key. With `oauth_token` the request is in user context (the app acts \
for the token's user); without it, app-only.

**Rate limits.** Per app, endpoint and UTC minute on the three read endpoints. Every answer \
there after authentication carries `x-per-minute-limit`, `x-per-minute-remaining` and \
`x-per-minute-reset` (Unix seconds of the next minute); over the limit: 429 \
`{ex.RATE_LIMITED.messages[0]}`.
"""

TAGS: Final = (
    {"name": "engagement", "description": "The read API (X Engagement API contract)."},
    {"name": "ingest", "description": "Loading users, Posts and engagement events."},
    {"name": "usage", "description": "Per-app monthly usage."},
    {"name": "operations", "description": "Health, metrics and this document."},
)

SECURITY_SCHEMES: Final = {
    "oauth1User": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "OAuth 1.0a, HMAC-SHA1, **with** `oauth_token`: user context. "
        '`Authorization: OAuth oauth_consumer_key="...", oauth_token="...", '
        'oauth_signature_method="HMAC-SHA1", oauth_timestamp="...", oauth_nonce="...", '
        'oauth_version="1.0", oauth_signature="..."`.',
    },
    "oauth1App": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "OAuth 1.0a, HMAC-SHA1, without `oauth_token`: app-only.",
    },
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "The app's OAuth 2.0 bearer token: app-only.",
    },
    "ingestKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "An ingest key (`engagement-api ingest-keys create`); only on `/ingest/*`.",
    },
}


def document(settings: Settings) -> Json:
    """The OpenAPI 3.1 document of a server with these settings."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Engagement API",
            "version": __version__,
            "description": DESCRIPTION,
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "tags": [dict(tag) for tag in TAGS],
        "paths": paths(settings),
        "components": {
            "schemas": schemas(),
            "responses": responses_components(settings),
            "headers": headers_components(),
            "securitySchemes": {name: dict(scheme) for name, scheme in SECURITY_SCHEMES.items()},
        },
    }
