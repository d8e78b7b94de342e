"""Who is asking, before any page answers: the session cookie, the operator's pages, the CSRF
token of every form, and the error pages.

- No live session: a page answers 303 to the sign-in page; a form 403.
- An operator's page asked by a Post owner: 403.
- A form (POST) without its session's CSRF token, or with another: 403, nothing done.
- The contract's errors of a page (400, 403, 404) are shown as a page with the same status and
  messages; those of a CSV export as the contract's ``{"errors": [...]}`` body.

Every handler runs on a worker thread (each reads the store, often several times).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from engagement_api.contract.errors import ApiError, BadRequest, Forbidden, PayloadTooLarge
from engagement_api.dashboard.render import HEADERS, errors_json, page
from engagement_api.dashboard.state import DashboardState, dashboard_of
from engagement_api.service.sessions import SignedIn

SESSION_COOKIE = "ea_session"
NONCE_COOKIE = "ea_nonce"
COOKIE_PATH = "/"  # (also /dashboard.csv, which is not under /dashboard)
#: Largest form body read (the forms hold a key, a token, a few fields).
MAX_FORM_BYTES = 16 * 1024

OPERATORS_ONLY = "This page is for operators (sign in with an admin key)"
BAD_CSRF = "The form's CSRF token is missing or wrong: reload the page and try again"
SIGN_IN_FIRST = "Sign in first"


@dataclass(frozen=True)
class Context:
    """One request as a handler sees it (read on the event loop, handled on a thread)."""

    state: DashboardState
    request: Request
    who: SignedIn
    form: Mapping[str, str]
    csrf: str

    def base(self) -> dict[str, Any]:
        """What every page's layout shows: who is signed in, the sign-out form's token."""
        return {"who": self.who.session, "csrf": self.csrf, "path": self.request.url.path}

    def query(self, name: str) -> str | None:
        return self.request.query_params.get(name)


Handler = Callable[[Context], Response]


async def read_form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (what our forms send), first value of each
    field."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise PayloadTooLarge(f"Form too large: at most {MAX_FORM_BYTES} bytes")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise BadRequest("Form is not UTF-8") from None
    return {name: values[0] for name, values in fields.items()}


def error_page(
    error: ApiError, who: SignedIn | None = None, csrf: str = "", path: str = ""
) -> Response:
    context = {
        "who": None if who is None else who.session,
        "csrf": csrf,
        "path": path,
        "status": error.status,
        "messages": error.messages,
    }
    return page("error.html", context, error.status)


def session_cookie(response: Response, state: DashboardState, value: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=state.settings.session_lifetime,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=state.settings.public_url.startswith("https://"),
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, httponly=True, samesite="lax")


def _run(
    state: DashboardState,
    request: Request,
    form: Mapping[str, str] | None,
    handler: Handler,
    operator: bool,
    export: bool,
) -> Response:
    who = state.sessions.find(request.cookies.get(SESSION_COOKIE))
    if who is None:
        if form is not None:
            return error_page(Forbidden(SIGN_IN_FIRST))
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(
            f"/dashboard/sign-in?next={quote(target, safe='')}", 303, headers=HEADERS
        )
    csrf = state.sessions.csrf_token(who)
    try:
        if operator and not who.operator:
            raise Forbidden(OPERATORS_ONLY)
        if form is not None and not state.sessions.check_csrf(who, form.get("csrf")):
            raise Forbidden(BAD_CSRF)
        return handler(Context(state, request, who, form or {}, csrf))
    except ApiError as exc:
        if export:
            return errors_json(exc.messages, exc.status)
        return error_page(exc, who, csrf, request.url.path)


def guarded(
    handler: Handler, operator: bool = False, export: bool = False
) -> Callable[[Request], Awaitable[Response]]:
    """``handler`` behind the session, the operator check (``operator``) and, for POST, the
    CSRF check; ``export``: its errors as JSON (a CSV download)."""

    async def endpoint(request: Request) -> Response:
        state = dashboard_of(request)
        try:
            form = await read_form(request) if request.method == "POST" else None
        except ApiError as exc:
            return error_page(exc)
        return await run_in_threadpool(_run, state, request, form, handler, operator, export)

    endpoint.__name__ = handler.__name__
    return endpoint
