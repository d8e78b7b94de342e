"""The three read endpoints: POST /insights/engagement/{totals,28hr,historical}.

Order of the checks (spec §7): authentication (401, 403 app not enabled), then the request is
counted against the app's per-minute limit (429), then size (413), body (400), policy (403) and
availability (400). Every answer after authentication carries the ``x-per-minute-*`` headers;
a 200 under user context records the user's usage for the month.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engagement_api.api.body import Body, read_body
from engagement_api.api.responses import error_response, json_bytes_response
from engagement_api.api.state import AppState, state_of
from engagement_api.auth.authenticator import Claim
from engagement_api.auth.identity import Identity
from engagement_api.auth.oauth1 import Lookup
from engagement_api.contract.errors import ApiError, RateLimited
from engagement_api.contract.metrics import Endpoint
from engagement_api.contract.ratelimit import RateLimit, minute_of
from engagement_api.contract.request import EngagementRequest
from engagement_api.service.reading import Answer
from engagement_api.store.errors import StoreUnavailable
from engagement_api.store.protocols import Admission, AdmittingStore

PREFIX = "/insights/engagement"
#: Admissions tried for one request whose app or token changes meanwhile (then 503).
ADMISSIONS = 3


def _answer(state: AppState, endpoint: Endpoint, request: Request, body: Body) -> Response:
    """Every step here may touch the store: run in a worker thread, unless the store is local
    (SQLite: each call a few microseconds of file reads, and the metering file's upserts never
    wait behind a batch), where the hand-off to a thread and back would cost more than the
    answer and the request is answered on the event loop."""
    identity = state.authenticator.authenticate(
        request.method,
        lambda: str(request.url),  # (only OAuth 1.0a signs it)
        request.headers,
        None if body.too_large else body.data,
    )
    now = state.settings.clock.now()
    limit = state.meter.count(identity.app, endpoint, now)

    def answer() -> Answer:
        parsed = state.reader.parse(endpoint, body.check())
        return state.reader.respond(parsed, identity.user_id)

    return _counted(state, identity, limit, now, answer)


def _counted(
    state: AppState,
    identity: Identity,
    limit: RateLimit,
    now: datetime,
    answer: Callable[[], Answer],
) -> Response:
    """The answer of a request counted against its app's limit: 429 over it, else what
    ``answer`` gives (its errors answered), with the limit's headers either way; usage
    recorded after a 200."""
    headers = limit.headers()
    try:
        if limit.exceeded:
            raise RateLimited()
        done = answer()
    except ApiError as exc:
        return error_response(exc, headers)
    state.meter.record_usage(identity, done.authors, now)
    return json_bytes_response(done.json, headers)


def _admit(
    state: AppState, store: AdmittingStore, endpoint: Endpoint, request: Request, body: Body
) -> Response:
    """:func:`_answer` with one store call for all the request's store work but usage (see
    ``AdmittingStore``): the body is parsed first, its errors kept for their turn, so that the
    Posts it wants are read along with the app, the nonce and the count. The checks and their
    order are :func:`_answer`'s. An OAuth 1.0a signature is checked with the app and token the
    process remembers; should the admission find them changed, with them looked up anew."""
    authenticator = state.authenticator
    now = state.settings.clock.now()
    minute = minute_of(now)
    parsed: EngagementRequest | ApiError
    try:
        parsed = state.reader.parse(endpoint, body.check())
    except ApiError as exc:
        parsed = exc  # (answered in its turn, below)
    wanted = None if isinstance(parsed, ApiError) else state.reader.wanted(parsed)
    lookup: Lookup = store.remembered_app_and_token
    for _ in range(ADMISSIONS):
        claim = authenticator.claim(
            request.method,
            lambda: str(request.url),
            request.headers,
            None if body.too_large else body.data,
            lookup,
        )
        read = store.admit_and_read(_admission(endpoint, minute, claim), wanted)
        if read.current:
            break
        lookup = state.store.app_and_token  # changed since this process looked them up
    else:
        raise StoreUnavailable("the app's credentials changed at every attempt")
    identity = authenticator.admitted(claim, read.app, read.fresh)

    def answer() -> Answer:
        if isinstance(parsed, ApiError):
            raise parsed
        return state.reader.respond_read(parsed, identity.user_id, read)

    limit = RateLimit(identity.app.rate_limit, read.count, minute)
    return _counted(state, identity, limit, now, answer)


def _admission(endpoint: Endpoint, minute: int, claim: Claim) -> Admission:
    checked = claim.checked
    if checked is None:
        return Admission(endpoint.value, minute, claim.now, claim.bearer_hash)
    return Admission(
        endpoint.value,
        minute,
        claim.now,
        app=checked.app,
        nonce=checked.nonce,
        timestamp=checked.timestamp,
        token=checked.token,
    )


def _route(endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
    async def handle(request: Request) -> Response:
        state = state_of(request)
        body = await read_body(request, state.settings.max_body_bytes)
        if state.store.local:
            return _answer(state, endpoint, request, body)
        if state.admitting is not None:
            admitting = state.admitting
            return await admitting.cooperative.run(
                _admit, state, admitting, endpoint, request, body
            )
        return await run_in_threadpool(_answer, state, endpoint, request, body)

    handle.__name__ = f"engagement_{endpoint.name.lower()}"
    return handle


routes = [
    Route(PREFIX + endpoint.path, _route(endpoint), methods=["POST"]) for endpoint in Endpoint
]
