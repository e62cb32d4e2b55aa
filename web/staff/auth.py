"""Login and logout. ``POST /login`` answers 303 with the session cookie, or the form again (200) with
an error and no session; repeated failures per user name and per address are throttled."""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from ticketing.access import Permission
from web.security import Csrf, LoginThrottle
from web.staff.deps import NotLoggedIn, check_csrf, current_actor, render, services

router = APIRouter()


def home_for(request: Request) -> str:
    actor = current_actor(request)
    if actor.has(Permission.QUEUE_AGENCY):
        return "/queue"
    if actor.has(Permission.QUEUE_CITYWIDE):
        return "/centre"
    if actor.has(Permission.DASHBOARD_CITY) or actor.has(Permission.DASHBOARD_AGENCY):
        return "/dashboard"
    if actor.has(Permission.USER_MANAGE):
        return "/admin/users"
    return "/account"


def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else ""


@router.get("/login")
def login_form(request: Request, next: str = "") -> Response:
    try:
        return RedirectResponse(_safe_next(next) or home_for(request), status_code=303)
    except NotLoggedIn:
        pass
    return render(request, "login.html", {"next": _safe_next(next), "error": "", "username": ""})


@router.post("/login")
def login(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    csrf_token: str = Form(""),
    next: str = Form(""),
) -> Response:
    csrf: Csrf = request.app.state.csrf
    throttle: LoginThrottle = request.app.state.throttle
    name = username.strip().lower()[:64]
    address = request.client.host if request.client else "-"
    keys = (f"user:{name}", f"addr:{address}")

    def again(error: str, status: int = 200) -> Response:
        ctx = {"next": _safe_next(next), "error": error, "username": name}
        return render(request, "login.html", ctx, status)

    if not csrf.valid(request, csrf_token):
        return again("Biểu mẫu đã hết hạn, hãy đăng nhập lại.")
    if throttle.blocked(*keys):
        return again("Đăng nhập sai quá nhiều lần. Hãy thử lại sau ít phút.", 429)
    user = services(request).users.authenticate(name, password) if name and password else None
    if user is None or user.id is None:
        throttle.fail(*keys)
        return again("Tên đăng nhập hoặc mật khẩu không đúng.")
    throttle.succeed(*keys)
    now = int(time.time())
    request.session.clear()
    request.session.update({"uid": user.id, "sv": user.session_version, "at": now, "seen": now})
    return RedirectResponse(_safe_next(next) or "/", status_code=303)


@router.post("/logout", dependencies=[Depends(check_csrf)])
def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/")
def home(request: Request) -> Response:
    """Staff go to their work; an anonymous visitor is a citizen: the public pages' home."""
    try:
        target = home_for(request)
    except NotLoggedIn:
        target = (
            "/phan-anh"
            if any(getattr(r, "path", "") == "/phan-anh" for r in request.app.routes)
            else "/login"
        )
    return RedirectResponse(target, status_code=303)


@router.get("/account")
def account(request: Request) -> Response:
    actor = current_actor(request)
    return render(request, "account.html", {"grants": actor.grants})
