"""A read request's admission and read in one statement (mixed into PostgresStore).

Asked one thing at a time, a read request made three round trips (the bearer token's app, the
rate count, the Posts with their counts) and, under OAuth 1.0a, five (the app, the token, the
nonce, the count, the read). :meth:`PostgresAdmission.admit_and_read` makes them one statement
of data-modifying CTEs, each step on the previous one's result:

- ``a``: the app of the bearer token's digest (OAuth 1.0a: its app was looked up to check the
  signature, and comes as parameters);
- ``v`` (OAuth 1.0a): the app and the token still as the signature was checked with (they may
  come from what the process remembers: ``remembered_app_and_token``); else nothing is done
  and the request is checked again with them looked up anew;
- ``n`` (OAuth 1.0a): the nonce spent, as ``use_nonce`` spends it (the same upsert, which
  counts a nonce older than :data:`~engagement_api.store.protocols.NONCE_RETENTION` as
  unused);
- ``c``: the request counted, as ``count_request`` counts it, only if the app is enabled (and
  the nonce was new);
- ``ok``: the count within the app's limit, the gate of the read: the Posts and their counts
  (:func:`~engagement_api.store.postgres.counters.array_read`) are read only when it holds.

The answers are the same as those of the statements one by one, on the per-request pool
(autocommit, ``synchronous_commit = off``, kept plans). The steps that are not per request run
apart, as ``count_request`` and ``use_nonce`` run them: the older minutes' counts pruned at a
minute's first request, and the expired nonces deleted at most once a second per process.
"""

from __future__ import annotations

from typing import Any

from engagement_api.contract.ids import to_signed
from engagement_api.store.postgres.counters import (
    array_read,
    facts_and_counts,
    hourly_rows,
)
from engagement_api.store.postgres.credentials import NONCE_CONFLICT, forget_expired_nonces
from engagement_api.store.postgres.metering import PRUNE, RATE_CONFLICT
from engagement_api.store.postgres.pool import PgPool
from engagement_api.store.protocols import NONCE_RETENTION, Admission, Admitted, Wanted
from engagement_api.store.rows import APP_COLUMNS, app_from_row, lifetime_rows_of

_COUNT = (
    "c AS (INSERT INTO rate_counts AS r (consumer_key, endpoint, minute, count) "
    "SELECT {key}, %s::text, %s::bigint, 1 {where} " + RATE_CONFLICT + ")"
)
_BEARER = (
    f"WITH a AS (SELECT {APP_COLUMNS} FROM apps WHERE bearer_hash = %s), "  # noqa: S608
    + _COUNT.format(key="consumer_key", where="FROM a WHERE enabled")
    + ", ok AS (SELECT FROM a, c WHERE c.count <= a.rate_limit)"
)
_BEARER_SELECT = f"SELECT {APP_COLUMNS}, (SELECT count FROM c)"  # noqa: S608 (constants)
# v: the app (and the token) still as the signature was checked with; n: the nonce, if so
_OAUTH = (
    "WITH v AS (SELECT FROM apps a WHERE a.consumer_key = %s AND a.consumer_secret = %s "  # noqa: S608 (constants)
    "AND a.enabled = %s AND a.rate_limit = %s AND (%s::boolean OR EXISTS (SELECT FROM "
    "access_tokens t WHERE t.token = %s AND t.secret = %s AND t.consumer_key = a.consumer_key "
    "AND t.user_id = %s AND NOT t.revoked))), "
    "n AS (INSERT INTO oauth_nonces AS o (consumer_key, nonce, ts) "
    "SELECT %s, %s, %s WHERE EXISTS (SELECT FROM v) "
    + NONCE_CONFLICT
    + "), "
    + _COUNT.format(key="%s::text", where="WHERE %s AND EXISTS (SELECT FROM n)")
    + ", ok AS (SELECT FROM c WHERE c.count <= %s)"
)
_OAUTH_SELECT = "SELECT EXISTS (SELECT FROM v), EXISTS (SELECT FROM n), (SELECT count FROM c)"
_GATE = "EXISTS (SELECT FROM ok)"


class PostgresAdmission:
    """Needs ``_per_request`` (:class:`PgPool`) from the class it is mixed into."""

    _per_request: PgPool

    def admit_and_read(self, admission: Admission, wanted: Wanted | None) -> Admitted:
        app = admission.app
        params: list[Any]
        if app is None:
            head, select = _BEARER, _BEARER_SELECT
            params = [admission.bearer_hash, admission.endpoint, admission.minute]
        else:
            horizon = int(admission.now.timestamp()) - NONCE_RETENTION
            forget_expired_nonces(self._per_request, horizon)
            head, select = _OAUTH, _OAUTH_SELECT
            key = app.consumer_key
            token = admission.token
            params = [key, app.consumer_secret, app.enabled, app.rate_limit, token is None]
            if token is None:
                params += [None, None, None]
            else:
                params += [token.token, token.secret, to_signed(token.user_id)]
            params += [key, admission.nonce, admission.timestamp, horizon]
            params += [key, admission.endpoint, admission.minute, app.enabled, app.rate_limit]
        read = None if wanted is None or not wanted.post_ids else array_read(wanted, gate=_GATE)
        sources = ["a"] if app is None else []
        if read is not None:
            head += ", " + read.posts
            select += ", " + read.columns
            sources += read.items
            params += read.params
        # (S608: the statement is made of this module's and array_read's constants only)
        sql = head + " " + select + (" FROM " + ", ".join(sources) if sources else "")  # noqa: S608
        row = self._per_request.read(lambda conn: conn.execute(sql, params, binary=True).fetchone())
        if row is None:  # no app has this bearer token
            return Admitted(None, True, 0)
        if app is None:
            app, fresh, count = app_from_row(row[:6]), True, row[6] or 0
        elif not row[0]:  # the app or the token changed since they were looked up
            return Admitted(app, False, 0, current=False)
        else:
            fresh, count = bool(row[1]), row[2] or 0
        if count == 1:  # the minute's first request: drop the older minutes
            prune = (app.consumer_key, admission.endpoint, admission.minute)
            self._per_request.statements(lambda conn: conn.execute(PRUNE, prune))
        if read is None or wanted is None:
            return Admitted(app, fresh, count)
        facts, counts = facts_and_counts(read, row[7 if admission.app is None else 3 :])
        if wanted.hours is None:
            return Admitted(app, fresh, count, facts, lifetime_rows_of(counts))
        return Admitted(app, fresh, count, facts, hourly=hourly_rows(counts))
