"""Signing in (an operator with an admin key; a Post owner with a one-time link) and out.

The sign-in forms come before any session, so their CSRF token is tied to a nonce cookie of
their own (:mod:`engagement_api.service.sessions`). A one-time link's page only shows a button:
the link is spent by the form it posts (so a link previewer that fetches it does not spend it).
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from engagement_api.contract.errors import ApiError, Forbidden
from engagement_api.dashboard.guard import (
    BAD_CSRF,
    COOKIE_PATH,
    NONCE_COOKIE,
    SESSION_COOKIE,
    Context,
    clear_session_cookie,
    error_page,
    guarded,
    read_form,
    session_cookie,
)
from engagement_api.dashboard.render import HEADERS, page
from engagement_api.dashboard.state import DashboardState, dashboard_of

WRONG_KEY = "That admin key is not valid (or was revoked)"
LINK_SPENT = "This sign-in link was used already or has expired: ask the operator for a new one"


def _next(target: str | None) -> str:
    """Where to go after sign-in: a dashboard path of ours, never another site."""
    if target and target.startswith("/dashboard") and "//" not in target and "\\" not in target:
        return target
    return "/dashboard"


def _anonymous_form(
    state: DashboardState,
    request: Request,
    template: str,
    context: Mapping[str, object],
    status: int = 200,
) -> Response:
    nonce = request.cookies.get(NONCE_COOKIE) or state.sessions.new_nonce()
    csrf = state.sessions.anonymous_csrf_token(nonce)
    full = {"who": None, "csrf": csrf, "path": request.url.path, **context}
    response = page(template, full, status)
    response.set_cookie(
        NONCE_COOKIE, nonce, path=COOKIE_PATH, httponly=True, samesite="lax", max_age=3600
    )
    return response


def _signed_in(state: DashboardState, request: Request, cookie: str, target: str) -> Response:
    previous = state.sessions.find(request.cookies.get(SESSION_COOKIE))
    if previous is not None:
        state.sessions.sign_out(previous)
    response = RedirectResponse(target, 303, headers=HEADERS)
    session_cookie(response, state, cookie)
    response.delete_cookie(NONCE_COOKIE, path=COOKIE_PATH)
    return response


def _sign_in_page(state: DashboardState, request: Request) -> Response:
    target = _next(request.query_params.get("next"))
    if state.sessions.find(request.cookies.get(SESSION_COOKIE)) is not None:
        return RedirectResponse(target, 303, headers=HEADERS)
    return _anonymous_form(state, request, "sign_in.html", {"next": target, "problem": None})


def _sign_in(state: DashboardState, request: Request, form: Mapping[str, str]) -> Response:
    target = _next(form.get("next"))
    if not state.sessions.check_anonymous_csrf(request.cookies.get(NONCE_COOKIE), form.get("csrf")):
        return error_page(Forbidden(BAD_CSRF))
    cookie = state.sessions.sign_in_operator(form.get("admin_key", "").strip())
    if cookie is None:
        context = {"next": target, "problem": WRONG_KEY}
        return _anonymous_form(state, request, "sign_in.html", context, 401)
    return _signed_in(state, request, cookie, target)


def _link_page(state: DashboardState, request: Request) -> Response:
    return _anonymous_form(state, request, "link.html", {})


def _use_link(state: DashboardState, request: Request, form: Mapping[str, str]) -> Response:
    if not state.sessions.check_anonymous_csrf(request.cookies.get(NONCE_COOKIE), form.get("csrf")):
        return error_page(Forbidden(BAD_CSRF))
    cookie = state.sessions.sign_in_with_link(request.path_params["token"])
    if cookie is None:
        return error_page(Forbidden(LINK_SPENT))
    return _signed_in(state, request, cookie, "/dashboard")


async def sign_in(request: Request) -> Response:
    state = dashboard_of(request)
    if request.method == "GET":
        return await run_in_threadpool(_sign_in_page, state, request)
    try:
        form = await read_form(request)
    except ApiError as exc:
        return error_page(exc)
    return await run_in_threadpool(_sign_in, state, request, form)


async def link(request: Request) -> Response:
    state = dashboard_of(request)
    if request.method == "GET":
        return await run_in_threadpool(_link_page, state, request)
    try:
        form = await read_form(request)
    except ApiError as exc:
        return error_page(exc)
    return await run_in_threadpool(_use_link, state, request, form)


def sign_out(ctx: Context) -> Response:
    ctx.state.sessions.sign_out(ctx.who)
    response = RedirectResponse("/dashboard/sign-in", 303, headers=HEADERS)
    clear_session_cookie(response)
    return response


routes = [
    Route("/dashboard/sign-in", sign_in, methods=["GET", "POST"]),
    Route("/dashboard/link/{token}", link, methods=["GET", "POST"]),
    Route("/dashboard/sign-out", guarded(sign_out), methods=["POST"]),
]
