"""What the store raises on purpose. Each backend maps its driver's errors onto these in one
place (``sqlite/connection.py``, ``postgres/pool.py``); the API answers ``StoreUnavailable``
with 503 and the contract's body.

    StoreError
    ├── StoreUnavailable      the database cannot be reached, is closed or locked out (503)
    ├── IdempotencyConflict   a batch key was applied before with a different body (409)
    └── SchemaError           the schema is missing, older or newer than this code knows
"""

from __future__ import annotations


class StoreError(Exception):
    """Base of everything the store raises on purpose."""


class StoreUnavailable(StoreError):
    """The database cannot be reached (answered 503 by the API)."""


class IdempotencyConflict(StoreError):
    """A batch key was applied before with a different body."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"Idempotency-Key {key!r} was already used for a different batch")


class SchemaError(StoreError):
    """The database schema is missing, older or newer than this code knows."""
