"""Storage: small protocols (catalog, counters, credentials) and one module per backend."""

from engagement_api.store.base import open_store
from engagement_api.store.protocols import (
    AccessToken,
    App,
    BatchRecord,
    Deltas,
    IdempotencyConflict,
    MediaItem,
    Post,
    PostRecord,
    Store,
    StoreError,
    StoreUnavailable,
    User,
)

__all__ = [
    "AccessToken",
    "App",
    "BatchRecord",
    "Deltas",
    "IdempotencyConflict",
    "MediaItem",
    "Post",
    "PostRecord",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "User",
    "open_store",
]
