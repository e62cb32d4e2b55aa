"""The staff pages: agency queue, ticket page and its actions, hotline-centre queue, operator's live
page (server-sent events), dashboards and the monthly report download.

Every handler asks :class:`ticketing.staff.StaffService` with the acting user; nothing here decides
who may see or do what. Form posts carry the CSRF token and answer with a redirect (post/redirect/get).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, RedirectResponse, Response, StreamingResponse

import reference
from ticketing.access import Actor, Permission
from ticketing.domain.errors import ValidationError
from ticketing.domain.model import AttachmentKind, Status
from ticketing.service import TicketNotFound
from ticketing.staff import STEP_PERMISSIONS, Forbidden, QueueFilter, StaffService
from web.security import CSRF_COOKIE, Csrf
from web.staff import uploads
from web.staff.deps import TEMPLATES, check_csrf, current_actor, flash, render, services
from web.staff.live import DELIVERED, LiveCall, LiveFeed

router = APIRouter()
live_router = APIRouter()
ActorDep = Annotated[Actor, Depends(current_actor)]
STATUS_NAMES = {s.name.lower(): s for s in Status}
SORTS = {"created_desc": "Mới nhất", "created_asc": "Cũ nhất", "due_asc": "Sắp đến hạn"}
_AGENCY_CACHE: dict[int, tuple[float, dict[str, str]]] = {}


def staff(request: Request) -> StaffService:
    return services(request).staff


def agency_names(request: Request) -> dict[str, str]:
    """Agency code -> name of the configured city (cached for five minutes)."""
    svc = services(request)
    hit = _AGENCY_CACHE.get(id(svc))
    if hit is not None and time.monotonic() - hit[0] < 300:
        return hit[1]
    names = {a.code: a.name for a in svc.admin.agencies(city=svc.settings.city)}
    _AGENCY_CACHE[id(svc)] = (time.monotonic(), names)
    return names


# --- agency queue ---------------------------------------------------------------------------------------


@router.get("/queue")
def queue_page(
    request: Request,
    actor: ActorDep,
    agency: str = "",
    status: str = "",
    category: str = "",
    ward: str = "",
    overdue: bool = False,
    mine: bool = False,
    sort: str = "created_desc",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    svc = staff(request)
    statuses = (STATUS_NAMES[status],) if status in STATUS_NAMES else ()
    f = QueueFilter(
        agency=agency,
        statuses=statuses,
        closed_too=status == "all",
        category=category.strip().upper(),
        ward_code=ward.strip(),
        overdue=overdue,
        mine=mine,
        sort=sort if sort in SORTS else "created_desc",
        page=page,
    )
    result = svc.queue(actor, f)
    allowed = svc.queue_agencies(actor)
    names = agency_names(request)
    params = {
        "agency": result.agency,
        "status": status,
        "category": f.category,
        "ward": f.ward_code,
        "overdue": "1" if overdue else "",
        "mine": "1" if mine else "",
        "sort": f.sort,
    }
    return render(
        request,
        "queue.html",
        {
            "page": result,
            "f": f,
            "params": params,
            "status_key": status,
            "statuses": [(k, s.value) for k, s in STATUS_NAMES.items()],
            "categories": reference.categories(),
            "sorts": SORTS,
            "agencies": [(c, names.get(c, c)) for c in allowed] if allowed else [],
            "agency_name": names.get(result.agency, result.agency or "Toàn thành phố"),
            "can_assign": actor.can(Permission.TICKET_ASSIGN, result.agency or None),
            "can_accept": actor.can(Permission.TICKET_ACCEPT, result.agency or None),
        },
    )


@router.post("/queue/bulk", dependencies=[Depends(check_csrf)])
def queue_bulk(
    request: Request,
    actor: ActorDep,
    codes: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI's form default
    action: str = Form(""),
    assignee: str = Form(""),
    back: str = Form("/queue"),
) -> Response:
    svc = staff(request)
    users = services(request).users
    if action == "accept":
        results = svc.bulk(actor, codes, lambda c: svc.accept(actor, c))
    elif action == "assign":

        def lookup(name: str) -> Actor | None:
            try:
                return users.get(name).actor()
            except ValueError:
                return None

        results = svc.bulk(actor, codes, lambda c: svc.assign(actor, c, assignee.strip(), lookup))
    else:
        raise ValidationError("Chọn thao tác / choose an action")
    done = [c for c, err in results.items() if not err]
    failed = {c: err for c, err in results.items() if err}
    text = f"Đã xử lý {len(done)} phiếu."
    if failed:
        text += " Không xử lý được: " + "; ".join(f"{c}: {e.split(' / ')[0]}" for c, e in failed.items())
    flash(request, text, "error" if failed else "ok")
    target = back if back.startswith("/queue") else "/queue"
    return RedirectResponse(target, status_code=303)


# --- ticket page ----------------------------------------------------------------------------------------


@router.get("/tickets/{code}")
def ticket_page(request: Request, code: str, actor: ActorDep) -> Response:
    svc = staff(request)
    try:
        view = svc.view(actor, code)
    except TicketNotFound:
        raise
    except ValidationError as exc:  # a malformed tracking code is "not found" too
        raise TicketNotFound(str(exc)) from None
    names = agency_names(request)
    t = view.ticket
    due, left, state = svc.time_left(t, svc.tickets.now())
    recordings = [a for a in t.attachments if a.kind is AttachmentKind.RECORDING]
    others = [a for a in t.attachments if a.kind is not AttachmentKind.RECORDING]
    category = reference.categories().get(t.category)
    return render(
        request,
        "ticket.html",
        {
            "v": view,
            "t": t,
            "due": due,
            "left": left,
            "state": state,
            "recordings": recordings,
            "files": others,
            "category": category.name if category else t.category,
            "agency": names.get(t.lead_agency, t.lead_agency),
            "names": names,
            "agency_choices": sorted(names.items(), key=lambda kv: kv[1]),
            "max_upload_mb": request.app.state.web.max_upload_mb,
        },
    )


@router.get("/tickets/{code}/files/{sha256}")
def ticket_file(request: Request, code: str, sha256: str, actor: ActorDep) -> Response:
    try:
        att, path = staff(request).attachment(actor, code, sha256)
    except ValidationError as exc:
        raise TicketNotFound(str(exc)) from None
    inline = att.media_type.startswith(("audio/", "image/")) or att.media_type == "application/pdf"
    return FileResponse(
        path,
        media_type=att.media_type or "application/octet-stream",
        filename=att.filename,
        content_disposition_type="inline" if inline else "attachment",
    )


@router.post("/tickets/{code}/draft_result", dependencies=[Depends(check_csrf)])
async def draft_result(
    request: Request,
    code: str,
    actor: ActorDep,
    text: str = Form(""),
    evidence: Annotated[list[UploadFile], File()] = [],  # noqa: B006 - FastAPI's form default
) -> Response:
    max_bytes = int(request.app.state.web.max_upload_mb * 1_000_000)
    files: list[tuple[str, bytes]] = []
    for item in evidence:
        if not item.filename:
            continue
        data = await item.read(max_bytes + 1)
        files.append(await run_in_threadpool(uploads.clean, item.filename, data, max_bytes))
    svc = staff(request)
    await run_in_threadpool(svc.draft_result, actor, code, text, files)
    flash(request, "Đã trình kết quả, chờ lãnh đạo đơn vị phê duyệt.")
    return RedirectResponse(f"/tickets/{code}", status_code=303)


_DONE = {
    "accept": "Đã tiếp nhận phiếu.",
    "reject": "Đã từ chối phiếu.",
    "add_coordinator": "Đã thêm đơn vị phối hợp.",
    "post_part": "Đã gửi phần phối hợp.",
    "transfer": "Đã chuyển đơn vị xử lý.",
    "extend": "Đã gia hạn.",
    "approve": "Đã phê duyệt kết quả.",
    "send_back": "Đã trả lại để xử lý lại.",
    "publish": "Đã duyệt công khai kết quả.",
    "dispatch": "Đã chuyển xử lý.",
    "mark_duplicate": "Đã đánh dấu trùng.",
    "assign": "Đã giao phiếu.",
    "complete_draft": "Đã hoàn thiện phiếu.",
}


@router.post("/tickets/{code}/{step}", dependencies=[Depends(check_csrf)])
def ticket_step(
    request: Request,
    code: str,
    step: str,
    actor: ActorDep,
    note: str = Form(""),
    reason: str = Form(""),
    text: str = Form(""),
    agency: str = Form(""),
    days: int = Form(0),
    original: str = Form(""),
    assignee: str = Form(""),
    name: str = Form(""),
    phone: str = Form(""),
    address: str = Form(""),
    ward: str = Form(""),
    content: str = Form(""),
    category: str = Form(""),
) -> Response:
    if step not in STEP_PERMISSIONS:
        raise TicketNotFound("Không có thao tác này / no such action")
    svc = staff(request)
    users = services(request).users
    if step == "accept":
        svc.accept(actor, code, note)
    elif step == "reject":
        svc.reject(actor, code, reason)
    elif step == "add_coordinator":
        svc.add_coordinator(actor, code, agency.strip(), note)
    elif step == "post_part":
        svc.post_part(actor, code, text)
    elif step == "transfer":
        svc.transfer(actor, code, agency.strip(), reason)
    elif step == "extend":
        svc.extend(actor, code, days, reason)
    elif step == "approve":
        svc.approve(actor, code, note)
    elif step == "send_back":
        svc.send_back(actor, code, reason)
    elif step == "publish":
        svc.publish(actor, code)
    elif step == "dispatch":
        svc.dispatch(actor, code, agency.strip(), note)
    elif step == "mark_duplicate":
        svc.mark_duplicate(actor, code, original.strip())
    elif step == "assign":

        def lookup(username: str) -> Actor | None:
            try:
                return users.get(username).actor()
            except ValueError:
                return None

        svc.assign(actor, code, assignee.strip(), lookup)
    elif step == "complete_draft":
        data: dict[str, Any] = {}
        caller = {k: v.strip() for k, v in (("name", name), ("phone", phone)) if v.strip()}
        if caller:
            data["caller"] = caller
        place = {k: v.strip() for k, v in (("address", address), ("ward_name", ward)) if v.strip()}
        if place:
            data["place"] = place
        if content.strip():
            data["content"] = content.strip()
        if category.strip():
            data["category"] = category.strip().upper()
        svc.complete_draft(actor, code, data)
    else:  # draft_result has its own handler (uploads)
        raise Forbidden("Thao tác không hợp lệ / invalid action")
    flash(request, _DONE.get(step, "Đã lưu."))
    return RedirectResponse(f"/tickets/{code}", status_code=303)


# --- hotline centre -------------------------------------------------------------------------------------


@router.get("/centre")
def centre_page(request: Request, actor: ActorDep) -> Response:
    items = staff(request).centre_queue(actor)
    names = agency_names(request)
    return render(
        request,
        "centre.html",
        {
            "items": items,
            "names": names,
            "can_dispatch": actor.has(Permission.TICKET_DISPATCH),
        },
    )


# --- operator's live page -------------------------------------------------------------------------------


def _live_context(request: Request, actor: Actor, call: LiveCall) -> dict[str, Any]:
    view = None
    if call.draft and not call.draft.startswith("J-"):
        try:
            view = staff(request).view(actor, call.draft)
        except ValidationError:
            view = None
    missing = []
    if view is not None:
        t = view.ticket
        missing = [
            label
            for label, value in (
                ("họ tên", t.caller.name),
                ("điện thoại", t.caller.phone),
                ("phường/xã", t.place.ward_name),
                ("nội dung", t.content),
            )
            if not value
        ]
    csrf: Csrf = request.app.state.csrf
    value = request.cookies.get(CSRF_COOKIE, "")
    return {"call": call, "v": view, "missing": missing, "csrf_token": csrf.token(value) if value else ""}


@live_router.get("/live")
def live_page(request: Request, actor: ActorDep) -> Response:
    if not actor.has(Permission.QUEUE_CITYWIDE):
        raise Forbidden("Trang cuộc gọi dành cho tổng đài viên / the live page is for operators")
    feed: LiveFeed = request.app.state.live
    calls = [_live_context(request, actor, c) for c in reversed(feed.recent_for(actor.name))]
    return render(request, "live.html", {"calls": calls, "connected": feed.connected})


@live_router.get("/live/events")
async def live_events(request: Request) -> Response:
    actor = await run_in_threadpool(current_actor, request)
    if not actor.has(Permission.QUEUE_CITYWIDE):
        raise Forbidden("Trang cuộc gọi dành cho tổng đài viên / the live page is for operators")
    feed: LiveFeed = request.app.state.live
    queue = feed.subscribe(actor.name)
    env = TEMPLATES.env

    async def stream() -> AsyncIterator[str]:
        try:
            yield "retry: 2000\n: connected\n\n"
            while True:
                try:
                    call = await asyncio.wait_for(queue.get(), 15)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    if await request.is_disconnected():
                        return
                    continue
                ctx = await run_in_threadpool(_live_context, request, actor, call)
                html = env.get_template("live_call.html").render(**ctx)
                event = "call" if call.kind == DELIVERED else "waiting"
                data = "".join(f"data: {line}\n" for line in html.splitlines())
                yield f"event: {event}\n{data}\n"
        finally:
            feed.unsubscribe(actor.name, queue)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


# --- dashboards -----------------------------------------------------------------------------------------


def _period(month: str) -> Any:
    from ticketing.reports import periods

    text = month.strip() or date.today().strftime("%Y-%m")
    try:
        return periods.month(text)
    except periods.PeriodError as exc:
        raise ValidationError(str(exc)) from None


@router.get("/dashboard")
def dashboard(request: Request, actor: ActorDep, agency: str = "", month: str = "") -> Response:
    svc = staff(request)
    period = _period(month)
    report = svc.report(actor, period, agency)
    allowed = svc.dashboard_agencies(actor)
    names = agency_names(request)
    overdue = None
    if svc.queue_agencies(actor) != ():  # the overdue list, for whoever may list these tickets
        overdue = svc.overdue_list(actor, report.agency)
    return render(
        request,
        "dashboard.html",
        {
            "r": report,
            "t": report.tickets,
            "month": f"{period.first:%Y-%m}",
            "agency": report.agency,
            "agency_name": names.get(report.agency, "Toàn thành phố"),
            "agencies": [(c, names.get(c, c)) for c in allowed] if allowed else [],
            "names": names,
            "overdue": overdue,
            "can_download": svc.may_download(actor, report.agency),
            "nlu_review": actor.has(Permission.NLU_REVIEW),
        },
    )


@router.get("/dashboard/report")
def report_download(
    request: Request, actor: ActorDep, month: str = "", agency: str = "", fmt: str = "xlsx"
) -> Response:
    from ticketing.reports import render as renderers

    svc = staff(request)
    if fmt not in ("xlsx", "html", "csv"):
        raise ValidationError("Định dạng: xlsx, html hoặc csv / format: xlsx, html or csv")
    report = svc.report(actor, _period(month), agency)
    if not svc.may_download(actor, report.agency):
        raise Forbidden("Không có quyền tải báo cáo / no permission to download reports")
    body = renderers.render(report, fmt)
    media = {
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "html": "text/html; charset=utf-8",
        "csv": "text/csv; charset=utf-8",
    }[fmt]
    name = f"bao-cao-{report.period.slug}{'-' + report.agency if report.agency else ''}.{fmt}"
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})
