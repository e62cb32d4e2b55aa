"""The administrator's pages: users, agencies' contacts, routing rules, SLA settings and categories.

Every handler asks :class:`ticketing.admin_portal.AdminPortal` with the acting user; the permission
checks live there. Form posts carry the CSRF token; a generated password is shown once in the answer
to the post (never put in the session or a redirect) and the page is not cached.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from ticketing.access import AGENCY_ROLES, ROLE_LABELS, Actor, Role
from ticketing.admin_portal import AdminPortal
from ticketing.domain.errors import ValidationError
from ticketing.domain.model import Priority
from ticketing.staff import Forbidden
from ticketing.users import UserError
from web.staff.deps import check_csrf, current_actor, flash, render, services

router = APIRouter(prefix="/admin")
ActorDep = Annotated[Actor, Depends(current_actor)]
CSRF = [Depends(check_csrf)]
KIND_LABELS = {
    "ward_committee": "UBND xã/phường",
    "department": "Sở, ngành",
    "centre": "Trung tâm",
    "police": "Công an",
    "utility": "Doanh nghiệp dịch vụ",
}


CITY_NAMES = {"hanoi": "Hà Nội", "haiphong": "Hải Phòng", "cantho": "Cần Thơ"}


def working_time(d: timedelta) -> str:
    """A working duration in Vietnamese: whole working days (8 h) as days and hours, otherwise hours."""
    hours = d / timedelta(hours=1)
    if hours >= 8 and hours % 8 == 0:
        return f"{hours / 8:g} ngày làm việc ({hours:g} giờ)"
    return f"{hours:g} giờ làm việc"


def portal(request: Request) -> AdminPortal:
    return services(request).admin_portal


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused(request: Request, exc: Exception, back: str) -> Response:
    flash(request, str(exc), "error")
    return RedirectResponse(back, status_code=303)


@router.get("")
def admin_home(actor: ActorDep) -> Response:
    return RedirectResponse("/admin/users", status_code=303)


# --- users ----------------------------------------------------------------------------------------------


def _users_page(request: Request, actor: Actor, **extra: object) -> Response:
    svc = portal(request)
    ctx = {
        "users": svc.users(actor),
        "roles": [(r.value, ROLE_LABELS[r]) for r in Role],
        "agency_roles": sorted(r.value for r in AGENCY_ROLES),
        "agencies": svc.agencies(actor),
        "form": {},
        **extra,
    }
    return render(request, "admin/users.html", ctx)


@router.get("/users")
def users_page(request: Request, actor: ActorDep) -> Response:
    return _users_page(request, actor)


@router.post("/users", dependencies=CSRF)
def user_add(
    request: Request,
    actor: ActorDep,
    username: str = Form(""),
    role: str = Form(""),
    agency: str = Form(""),
    display_name: str = Form(""),
) -> Response:
    svc = portal(request)
    agency = agency.strip() if role in {r.value for r in AGENCY_ROLES} else ""
    try:
        user, password = svc.add_user(actor, username, role, agency, display_name)
    except Forbidden:
        raise
    except (UserError, ValidationError) as exc:
        form = {"username": username, "role": role, "agency": agency, "display_name": display_name}
        response = _users_page(request, actor, form=form, error=str(exc))
        response.status_code = 400
        return response
    ctx = {"user": user, "password": password, "what": "Đã tạo tài khoản"}
    return _no_store(render(request, "admin/password.html", ctx))


@router.post("/users/{username}/reset-password", dependencies=CSRF)
def user_reset(request: Request, username: str, actor: ActorDep) -> Response:
    svc = portal(request)
    try:
        password = svc.reset_password(actor, username)
    except Forbidden:
        raise
    except UserError as exc:
        return _refused(request, exc, "/admin/users")
    user = next(u for u in svc.users(actor) if u.username == username)
    ctx = {"user": user, "password": password, "what": "Đã đặt lại mật khẩu"}
    return _no_store(render(request, "admin/password.html", ctx))


@router.post("/users/{username}/{step}", dependencies=CSRF)
def user_state(request: Request, username: str, step: str, actor: ActorDep) -> Response:
    svc = portal(request)
    try:
        if step == "disable":
            svc.disable_user(actor, username)
            flash(request, f"Đã khóa tài khoản {username}; các phiên đăng nhập của người này đã kết thúc.")
        elif step == "enable":
            svc.enable_user(actor, username)
            flash(request, f"Đã mở khóa tài khoản {username}.")
        else:
            raise UserError("Thao tác không hợp lệ / unknown action")
    except Forbidden:
        raise
    except UserError as exc:
        return _refused(request, exc, "/admin/users")
    return RedirectResponse("/admin/users", status_code=303)


# --- agencies -------------------------------------------------------------------------------------------


@router.get("/agencies")
def agencies_page(request: Request, actor: ActorDep, kind: str = "", q: str = "") -> Response:
    svc = portal(request)
    rows = svc.agencies(actor, kind if kind in KIND_LABELS else "")
    needle = q.strip().casefold()
    if needle:
        rows = [a for a in rows if needle in a.code.casefold() or needle in a.name.casefold()]
    missing = sum(1 for a in rows if not a.focal_phone and not a.focal_email)
    ctx = {"agencies": rows, "kinds": KIND_LABELS, "kind": kind, "q": q, "missing": missing}
    return render(request, "admin/agencies.html", ctx)


@router.get("/agencies/{code}")
def agency_page(request: Request, code: str, actor: ActorDep) -> Response:
    svc = portal(request)
    try:
        agency = svc.agency(actor, code)
    except UserError as exc:
        return render(request, "error.html", {"title": "Không tìm thấy", "message": str(exc)}, 404)
    return render(request, "admin/agency.html", {"agency": agency, "kinds": KIND_LABELS})


@router.post("/agencies/{code}", dependencies=CSRF)
def agency_save(
    request: Request,
    code: str,
    actor: ActorDep,
    focal_name: str = Form(""),
    focal_phone: str = Form(""),
    focal_email: str = Form(""),
    head_name: str = Form(""),
    head_phone: str = Form(""),
    head_email: str = Form(""),
) -> Response:
    svc = portal(request)
    back = f"/admin/agencies/{code}"
    try:
        svc.set_contact(actor, code, role="focal", name=focal_name, phone=focal_phone, email=focal_email)
        svc.set_contact(actor, code, role="head", name=head_name, phone=head_phone, email=head_email)
    except Forbidden:
        raise
    except (UserError, ValidationError) as exc:
        return _refused(request, exc, back)
    flash(request, "Đã lưu đầu mối liên hệ của đơn vị.")
    return RedirectResponse(back, status_code=303)


# --- routing --------------------------------------------------------------------------------------------


@router.get("/routing")
def routing_page(request: Request, actor: ActorDep, category: str = "", ward: str = "") -> Response:
    svc = portal(request)
    decision, error = None, ""
    if category.strip():
        try:
            decision = svc.test_route(actor, category, ward)
        except Forbidden:
            raise
        except ValidationError as exc:
            error = str(exc)
    wards = svc.wards(actor)
    ctx = {
        "rules": svc.rules(actor),
        "categories": {c.code: c.name for c in svc.categories(actor)},
        "wards": {w.code: w.name for w in wards},
        "agency_names": {a.code: a.name for a in svc.agencies(actor)},
        "decision": decision,
        "test": {"category": category.strip().upper(), "ward": ward.strip()},
        "error": error,
    }
    return render(request, "admin/routing.html", ctx)


@router.post("/routing", dependencies=CSRF)
def routing_add(
    request: Request,
    actor: ActorDep,
    category: str = Form(""),
    ward: str = Form(""),
    agency: str = Form(""),
    priority: str = Form("0"),
) -> Response:
    svc = portal(request)
    try:
        try:
            level = int(priority or "0")
        except ValueError:
            raise UserError(f"Độ ưu tiên phải là số nguyên: {priority!r}") from None
        rule = svc.add_rule(actor, category, ward, agency, level)
    except Forbidden:
        raise
    except (UserError, ValidationError) as exc:
        return _refused(request, exc, "/admin/routing")
    where = "mọi xã/phường" if rule.ward_code == "*" else f"xã/phường {rule.ward_code}"
    flash(request, f"Đã lưu quy tắc: {rule.category}, {where} → {rule.agency}.")
    return RedirectResponse("/admin/routing", status_code=303)


# --- SLA settings and categories (read-only) ------------------------------------------------------------


@router.get("/settings")
def settings_page(request: Request, actor: ActorDep) -> Response:
    svc = portal(request)
    sla = svc.sla(actor)
    ctx = {
        "sla": sla,
        "categories": svc.categories(actor),
        "city_name": CITY_NAMES.get(sla.city, sla.city),
        "priorities": list(Priority),
        "wt": working_time,
    }
    return render(request, "admin/settings.html", ctx)
