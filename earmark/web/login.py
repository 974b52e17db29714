"""The login page: a user name and password give a session cookie (HttpOnly, SameSite=Lax, Secure
over https). Form posts carry a CSRF token that must match the ``earmark_csrf`` cookie (double
submit), on top of the app's same-origin rule for every write. On 127.0.0.1 without a token the
player needs no login (the owner); beyond it, pages send a browser without a session here."""

from __future__ import annotations

import asyncio
import secrets

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from earmark.accounts import LoginRefused
from earmark.web.sync_api import WEB_SESSION_COOKIE

router = APIRouter(include_in_schema=False)
CSRF_COOKIE = "earmark_csrf"


def _safe_next(value: str | None) -> str:
    """Only a path on this server (never //host or a scheme): no open redirect."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _page(
    request: Request, *, status: int = 200, error: str = "", name: str = "", user: str | None = None, next_: str | None = None
) -> Response:
    from earmark.web.pages import CSP, templates

    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = templates.TemplateResponse(
        request, "login.html",
        {"csrf": csrf, "next": _safe_next(next_ or request.query_params.get("next")), "error": error, "name": name, "user": user},
        status_code=status,
    )
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"
    response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="strict", secure=request.url.scheme == "https")
    return response


def _session_user(request: Request) -> str | None:
    accounts = request.app.state.accounts
    if (session := request.cookies.get(WEB_SESSION_COOKIE)) and (user_id := accounts.session_user(session)) is not None:
        return accounts.user(user_id).name
    return None


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _csrf_ok(request: Request, form: dict[str, str]) -> bool:
    cookie, given = request.cookies.get(CSRF_COOKIE, ""), form.get("csrf", "")
    return bool(cookie) and secrets.compare_digest(cookie.encode(), given.encode())


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> Response:  # (a def: the store is read in the threadpool)
    return _page(request, user=_session_user(request))


@router.post("/login")
async def login(request: Request) -> Response:
    form = await _form(request)
    if not _csrf_ok(request, form):
        return _page(request, status=403, error="The form expired; please log in again.", next_=form.get("next"))
    name = form.get("name", "").strip()
    address = request.client.host if request.client else "?"
    try:
        user = await asyncio.to_thread(request.app.state.authenticator.login, name, form.get("password", ""), address)
    except LoginRefused as exc:
        response = _page(request, status=429 if exc.retry_after else 401, error=str(exc).capitalize() + ".", name=name[:64],
                         next_=form.get("next"))
        if exc.retry_after:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    session = await asyncio.to_thread(request.app.state.accounts.new_session, user.id)
    response = RedirectResponse(_safe_next(form.get("next")), status_code=303)
    response.set_cookie(WEB_SESSION_COOKIE, session, httponly=True, samesite="lax", secure=request.url.scheme == "https",
                        max_age=30 * 24 * 3600)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    form = await _form(request)
    if not _csrf_ok(request, form):
        return _page(request, status=403, error="The form expired; please try again.")
    if session := request.cookies.get(WEB_SESSION_COOKIE):
        await asyncio.to_thread(request.app.state.accounts.end_session, session)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(WEB_SESSION_COOKIE)
    return response
