"""The PostgreSQL store: the production database, with the same behaviour as the SQLite one.

``postgresql://user@host:port/db`` (or ``postgres://``); pool size and statement timeout come
from the URL's query (``?pool_min=1&pool_max=10&pool_timeout=5&statement_timeout_ms=30000``,
see :mod:`engagement_api.store.postgres.pool`, which also maps the driver's errors). The
driver, psycopg 3, is imported only when this package is.

Writes are short transactions on pooled connections, retried on deadlock or serialization
failure.
"""

from __future__ import annotations

from engagement_api.store.migrations import migrations_for, refuse_newer, require_current
from engagement_api.store.postgres.admission import PostgresAdmission
from engagement_api.store.postgres.catalog import PostgresCatalog
from engagement_api.store.postgres.cooperative import Cooperative
from engagement_api.store.postgres.counters import PostgresCounters
from engagement_api.store.postgres.credentials import PostgresCredentials
from engagement_api.store.postgres.dashboard import PostgresDashboard
from engagement_api.store.postgres.ledger import PostgresLedger
from engagement_api.store.postgres.metering import PostgresMetering
from engagement_api.store.postgres.partitions import Partitions
from engagement_api.store.postgres.pool import Connection, PgPool, parse_url

MIGRATION_LOCK = 0x656E_6761_0002  # advisory lock key: one migrator at a time
MIGRATIONS = "engagement_api.store.postgres"  # the package whose sql/ holds the migrations


class PostgresStore(
    PostgresAdmission,
    PostgresCatalog,
    PostgresCounters,
    PostgresCredentials,
    PostgresMetering,
    PostgresLedger,
    PostgresDashboard,
):
    """Catalog, counters and credentials in one PostgreSQL database."""

    backend = "postgresql"
    local = False

    def __init__(self, url: str) -> None:
        self.url = url
        settings = parse_url(url)
        self._db = PgPool(settings)
        # What every read request runs: its rate count, nonce and usage, which never wait for
        # the WAL flush (see .metering), its app and token, and its Posts with their counts. They
        # are the same few statements with other values every time, so their plans are kept:
        # PostgreSQL otherwise plans a small read anew at each run (0.06 ms of its CPU for a
        # Post's facts and counts), as its plan cache judges a generic plan dearer for arrays.
        self._per_request = PgPool(
            settings,
            "engagement-api-per-request",
            session={"synchronous_commit": "off", "plan_cache_mode": "force_generic_plan"},
        )
        self._partitions = Partitions(self._db)
        self._remembered_grants = {}  # (see PostgresCredentials.remembered_app_and_token)
        # The read road's calls run on the event loop (no worker thread), at most as many at
        # once as the per-request pool has connections (see .cooperative).
        self.cooperative = Cooperative(settings.pool_max)

    def close(self) -> None:
        self._db.close()
        self._per_request.close()

    def ping(self) -> None:
        self._db.read(lambda conn: conn.execute("SELECT 1").fetchone())

    # -- schema ------------------------------------------------------------------------------

    @staticmethod
    def _version(conn: Connection) -> int:
        row = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
        if not row or not row[0]:
            return 0
        row = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0) if row else 0

    def schema_version(self) -> int:
        return self._db.read(self._version)

    def migrate(self) -> list[int]:
        def work(conn: Connection) -> list[int]:
            current = self._version(conn)
            refuse_newer(current, MIGRATIONS)
            if current == 0:
                conn.execute(
                    "CREATE TABLE schema_migrations (version integer PRIMARY KEY, "
                    "name text NOT NULL, applied_at bigint NOT NULL)"
                )
            applied = []
            for migration in migrations_for(MIGRATIONS):
                if migration.version <= current:
                    continue
                conn.execute(migration.sql.encode())  # the whole file, in this transaction
                conn.execute(
                    "INSERT INTO schema_migrations VALUES "
                    "(%s, %s, extract(epoch FROM now())::bigint)",
                    (migration.version, migration.name),
                )
                applied.append(migration.version)
            return applied

        applied = self._db.transact(work, lock=MIGRATION_LOCK)
        self._partitions.forget()
        return applied

    def check_schema(self) -> None:
        require_current(self.schema_version(), MIGRATIONS)
