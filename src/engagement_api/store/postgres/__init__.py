"""The PostgreSQL backend (``postgresql://``): the production database. Needs psycopg 3
(``pip install 'engagement-api[postgres]'``)."""

from engagement_api.store.postgres.store import PostgresStore

__all__ = ["PostgresStore"]
