"""The small answers of this server as msgspec Structs: ingest, usage, health and the error body.

Each Struct is both what is sent (:func:`~engagement_api.api.responses.json_response` encodes a
Struct with msgspec: compact JSON, the fields in the order written here) and what the OpenAPI
document says is sent (:mod:`engagement_api.api.openapi.schemas` takes their JSON Schema from
``msgspec.json.schema_components``), so the documented shape is the shape on the wire. Their
docstrings and ``Meta`` descriptions are the schemas' descriptions.

The read endpoints' answers are trees built by :mod:`engagement_api.contract.response`, not
Structs.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from msgspec import UNSET, Meta, Struct, UnsetType


class Answer(Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """Base of the answers: immutable, no field beyond those declared (``additionalProperties:
    false`` in the schema; strict decoding in the tests), defaults left out of the JSON."""


class Accepted(Answer, frozen=True):
    """`/ingest/users` and `/ingest/tweets`: the batch is applied."""

    accepted: Annotated[int, Meta(ge=0, description="Records accepted (the whole batch).")]


class EventsAccepted(Answer, frozen=True):
    """`/ingest/events`: the batch is applied, or was already (`duplicate`)."""

    accepted: Annotated[int, Meta(ge=0, description="Events accepted (the whole batch).")]
    duplicate: Annotated[
        bool,
        Meta(description="The `Idempotency-Key` was applied before: nothing was applied now."),
    ]


class CountedUser(Answer, frozen=True):
    """A user counted in `GET /usage`: the billing unit is the @handle."""

    id: Annotated[str, Meta(pattern="^[0-9]{1,20}$", description="The user's ID.")]
    handle: Annotated[
        str | None,
        Meta(
            description="The user's @handle, without the @; null for a user missing from the "
            "catalog (never for usage this server counted: a counted user owns a loaded Post)."
        ),
    ]


class Usage(Answer, frozen=True):
    """`GET /usage`: the signing app's usage in one UTC month."""

    app: Annotated[str, Meta(description="The signing app's consumer key.")]
    month: Annotated[str, Meta(pattern="^[0-9]{4}-[0-9]{2}$")]
    users: Annotated[
        int,
        Meta(
            ge=0,
            description="Distinct users whose access token signed a 200 that asked for at least "
            "one Post they own, in that UTC month.",
        ),
    ]
    counted: Annotated[
        list[CountedUser],
        Meta(description="The users counted in `users`, by ID ascending (as numbers)."),
    ]


class Health(Answer, frozen=True):
    """`/healthz` and `/readyz`: `ok`, or `unavailable` with the reasons (`/readyz` only).
    With the counters in ClickHouse, `/readyz` also names each part (`catalog`, `counters`,
    `zookeeper`) and whether it is `ok` or `down`; with only ZooKeeper down it answers 200
    `degraded` (reads go on, ingest answers 503)."""

    status: Literal["ok", "degraded", "unavailable"]
    errors: list[str] | UnsetType = UNSET
    parts: dict[str, Literal["ok", "down"]] | UnsetType = UNSET


class Error(Answer, frozen=True):
    """Every error body: one message per problem found."""

    errors: Annotated[list[str], Meta(min_length=1)]


#: The answer Structs, in the order their schemas appear in the OpenAPI document.
ANSWERS: Final = (Error, Accepted, EventsAccepted, Usage, CountedUser, Health)

#: ``/healthz``, and ``/readyz`` when the store answers with a current schema.
HEALTHY: Final = Health("ok")


def unavailable(*messages: str) -> Health:
    """The ``/readyz`` answer when the store does not answer (or its schema is not current)."""
    return Health("unavailable", list(messages))
