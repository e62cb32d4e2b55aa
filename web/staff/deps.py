"""Request helpers of the staff pages: the acting user from the session, CSRF checks, rendering."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fastapi import Form, Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from ticketing.access import ROLE_LABELS, Actor, Permission
from web.security import Csrf
from web.staff import filters
from wiring import Services

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent.parent / "templates"))
filters.install(TEMPLATES.env)


class NotLoggedIn(Exception):
    """No valid session: the page answers with a redirect to /login."""


class BadCsrf(Exception):
    """A form post without a valid CSRF token."""


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def current_actor(request: Request) -> Actor:
    """The logged-in user, or :class:`NotLoggedIn` (expired, disabled, password reset, no session)."""
    cached = getattr(request.state, "actor", None)
    if isinstance(cached, Actor):
        return cached
    sess = request.session
    web = request.app.state.web
    now = time.time()
    uid, version = sess.get("uid"), sess.get("sv")
    started, seen = float(sess.get("at", 0)), float(sess.get("seen", 0))
    if (
        not isinstance(uid, int)
        or not isinstance(version, int)
        or now - started > web.session_hours * 3600
        or now - seen > web.idle_minutes * 60
    ):
        sess.clear()
        raise NotLoggedIn
    user = services(request).users.session_user(uid, version)
    if user is None:
        sess.clear()
        raise NotLoggedIn
    if now - seen > 30:
        sess["seen"] = int(now)
    actor = user.actor()
    request.state.actor = actor
    return actor


def check_csrf(request: Request, csrf_token: str = Form("")) -> None:
    csrf: Csrf = request.app.state.csrf
    if not csrf.valid(request, csrf_token):
        raise BadCsrf


def nav(actor: Actor | None) -> list[tuple[str, str]]:
    if actor is None:
        return []
    items: list[tuple[str, str]] = []
    if actor.has(Permission.QUEUE_CITYWIDE):
        items += [("/centre", "Tổng đài"), ("/live", "Cuộc gọi")]
    if actor.has(Permission.QUEUE_AGENCY) or actor.has(Permission.QUEUE_CITYWIDE):
        items.append(("/queue", "Hàng đợi"))
    if actor.has(Permission.DASHBOARD_AGENCY) or actor.has(Permission.DASHBOARD_CITY):
        items.append(("/dashboard", "Thống kê"))
    if actor.has(Permission.NLU_REVIEW):
        items.append(("/nlu/review", "Rà soát AI"))
    if actor.has(Permission.USER_MANAGE):
        items.append(("/admin/users", "Người dùng"))
    if actor.has(Permission.AGENCY_MANAGE):
        items.append(("/admin/agencies", "Đơn vị"))
    if actor.has(Permission.ROUTING_MANAGE):
        items.append(("/admin/routing", "Định tuyến"))
    if actor.has(Permission.SLA_MANAGE) or actor.has(Permission.CATEGORY_MANAGE):
        items.append(("/admin/settings", "Thời hạn & lĩnh vực"))
    return items


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    csrf: Csrf = request.app.state.csrf
    value, new = csrf.cookie_value(request)
    actor = getattr(request.state, "actor", None)
    ctx = {
        "request": request,
        "csrf_token": csrf.token(value),
        "actor": actor,
        "nav": nav(actor),
        "role_labels": ROLE_LABELS,
        "flash": request.session.pop("flash", None) if "uid" in request.session else None,
        **context,
    }
    response = TEMPLATES.TemplateResponse(request, name, ctx, status_code=status)
    if new:
        csrf.set_cookie(response, value)
    return response


def flash(request: Request, text: str, kind: str = "ok") -> None:
    request.session["flash"] = {"text": text, "kind": kind}
