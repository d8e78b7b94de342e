"""Storage: small contracts (catalog, counters, credentials, metering, schema), one package per
backend (``sqlite/``, ``postgres/``), chosen by the database URL's scheme (``backends.py``).

The store imports nothing of ``api``, ``cli`` or ``service``; each backend maps its driver's
errors onto :mod:`engagement_api.store.errors` in one place.
"""

from engagement_api.store.backends import SUPPORTED_BACKENDS, open_store
from engagement_api.store.errors import (
    IdempotencyConflict,
    SchemaError,
    StoreError,
    StoreUnavailable,
)
from engagement_api.store.protocols import (
    CatalogStore,
    CounterStore,
    CredentialStore,
    MeteringStore,
    SchemaStore,
    Store,
)

__all__ = [
    "SUPPORTED_BACKENDS",
    "CatalogStore",
    "CounterStore",
    "CredentialStore",
    "IdempotencyConflict",
    "MeteringStore",
    "SchemaError",
    "SchemaStore",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "open_store",
]
