"""The public pages (no login), in Vietnamese:

* ``/phan-anh`` - the hotline number, what it takes and refuses, and the web form (channel ``web``);
* ``/tra-cuu`` and ``/tra-cuu/{code}`` - tracking by code; after a one-time SMS code the reporter sees
  their personal details, rates the result and may ask for a clarification within 2 days;
* ``/ket-qua`` and ``/ket-qua/{code}`` - the published results (filters: category, ward, month) and
  the evidence photos of approved results.

Every page shows tickets through :func:`ticketing.public.public_view` (never the caller) except the
reporter's own details behind the grant. Errors are pages with a one-line reason, never a traceback.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

import reference
from ticketing.domain import tracking
from ticketing.domain.errors import DomainError
from ticketing.domain.model import AttachmentKind, Rating, Status, Ticket
from ticketing.domain.workflow import clarification_deadline
from ticketing.ports import TicketQuery
from ticketing.privacy import mask
from ticketing.public import is_public_attachment, public_view
from ticketing.service import NewAttachment, TicketNotFound
from web.public import guard
from web.public.cache import KeptBody, answers
from web.public.followup import CITIZEN_ACTOR, GRANT_COOKIE, send_code
from web.public.guard import RateLimited, check_rate, services
from web.public.intake import file_report, in_filing_thread
from web.public.photos import CleanPhoto, PhotoError, clean

log = logging.getLogger(__name__)
router = APIRouter(tags=["Trang công khai"], include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
PAGE_SIZE = 20
HONEYPOT = "website"


def _stamp(dt: datetime | None) -> str:
    return dt.strftime("%H:%M %d/%m/%Y") if dt else ""


templates.env.filters["stamp"] = _stamp


def _page(request: Request, name: str, ctx: dict[str, Any], status: int = 200) -> HTMLResponse:
    s = services(request).settings
    base = {"hotline": s.notify.hotline_label, "city": s.city}
    return templates.TemplateResponse(request, name, {**base, **ctx}, status_code=status)


def _error(request: Request, title: str, message: str, status: int) -> HTMLResponse:
    return _page(request, "public_error.html", {"title": title, "message": message}, status)


def _too_many(request: Request) -> HTMLResponse:
    return _error(
        request, "Quá nhiều yêu cầu", "Bạn đã gửi quá nhiều yêu cầu. Vui lòng thử lại sau ít phút.", 429
    )


def _categories() -> list[tuple[str, str]]:
    return [(c.code, c.name) for c in reference.categories().values()]


def _wards(city: str) -> list[tuple[str, str]]:
    return sorted(((u.code, u.name) for u in reference.units(city)), key=lambda p: p[1])


def _agency_names(request: Request) -> dict[str, str]:
    return guard.agency_names(request)


def _ticket(request: Request, code: str) -> Ticket | None:
    """The ticket of a tracking code as typed (spaces, dashes allowed), drafts never."""
    norm = tracking.normalize(code)
    if not tracking.is_valid(norm):
        return None
    try:
        ticket = services(request).tickets.get(norm)
    except TicketNotFound:
        return None
    return None if ticket.status is Status.DRAFT else ticket


# --- home and the web form --------------------------------------------------------------------------


def _form_page(
    request: Request, values: dict[str, str], errors: list[str], status: int = 200
) -> HTMLResponse:
    city = services(request).settings.city
    ctx = {
        "values": values,
        "errors": errors,
        "categories": _categories(),
        "wards": _wards(city),
        "max_photos": guard.MAX_PHOTOS,
        "max_photo_mb": guard.MAX_PHOTO // (1024 * 1024),
    }
    return _page(request, "home.html", ctx, status)


@router.get("/phan-anh")
def home(request: Request) -> Response:
    return _form_page(request, {}, [])


def _check_form(values: dict[str, str], city: str) -> list[str]:
    import phonenumbers

    errors = []
    if not values["name"]:
        errors.append("Vui lòng nhập họ và tên.")
    try:
        parsed = phonenumbers.parse(values["phone"], "VN")
        if not phonenumbers.is_valid_number(parsed):
            raise ValueError
        values["phone"] = "0" + str(parsed.national_number)
    except (phonenumbers.NumberParseException, ValueError):
        errors.append("Số điện thoại không hợp lệ (ví dụ 0912 345 678).")
    if values["category"] not in reference.categories():
        errors.append("Vui lòng chọn lĩnh vực.")
    if values["ward"] not in reference.ward_codes(city):
        errors.append("Vui lòng chọn xã/phường nơi xảy ra sự việc.")
    if len(values["content"]) < 10:
        errors.append("Vui lòng mô tả sự việc (ít nhất 10 ký tự).")
    for key, limit in (("name", 100), ("address", 300), ("content", guard.MAX_TEXT)):
        if len(values[key]) > limit:
            errors.append(f"Nội dung quá dài (tối đa {limit} ký tự).")
    return errors


@router.post("/phan-anh")
async def submit(request: Request) -> Response:
    try:
        check_rate(request, "form")
    except RateLimited:
        return _too_many(request)
    if guard.body_too_large(request):
        return _error(request, "Dữ liệu quá lớn", "Tổng dung lượng gửi lên vượt quá giới hạn cho phép.", 413)
    try:
        form = await request.form(
            max_files=guard.MAX_PHOTOS, max_fields=30, max_part_size=guard.MAX_PHOTO + 1024
        )
    except Exception:  # the multipart parser refuses too many files or too large parts
        return _error(
            request,
            "Dữ liệu không hợp lệ",
            f"Tối đa {guard.MAX_PHOTOS} ảnh, mỗi ảnh không quá {guard.MAX_PHOTO // (1024 * 1024)} MB.",
            413,
        )
    svc = services(request)
    city = svc.settings.city
    fields = ("name", "phone", "category", "ward", "address", "content")
    values = {k: str(form.get(k) or "").strip() for k in fields}
    values["confidential"] = "1" if form.get("confidential") else ""
    if form.get(HONEYPOT):
        log.info("web form: honeypot filled, dropped")
        return _error(request, "Không gửi được", "Biểu mẫu không hợp lệ.", 400)
    errors = _check_form(values, city)
    photos: list[CleanPhoto] = []
    uploads = [f for f in form.getlist("photos") if isinstance(f, UploadFile) and f.filename]
    if len(uploads) > guard.MAX_PHOTOS:
        errors.append(f"Tối đa {guard.MAX_PHOTOS} ảnh.")
    for index, upload in enumerate(uploads[: guard.MAX_PHOTOS], start=1):
        try:
            raw = await upload.read()
            name = upload.filename or ""
            photos.append(await run_in_threadpool(clean, raw, name, index, guard.MAX_PHOTO))
        except PhotoError as exc:
            errors.append(str(exc) + ".")
    if errors:
        if uploads:
            errors.append("Vì lý do an toàn, vui lòng chọn lại ảnh trước khi gửi lại.")
        return _form_page(request, values, errors, 400)
    unit = reference.all_units()[values["ward"]]
    data = {
        "channel": "web",
        "category": values["category"],
        "caller": {
            "name": values["name"],
            "phone": values["phone"],
            "confidential": bool(values["confidential"]),
        },
        "place": {"address": values["address"], "ward_code": unit.code, "ward_name": unit.name, "city": city},
        "content": values["content"],
    }
    files = [
        NewAttachment(p.filename, AttachmentKind.PHOTO, data=p.data, media_type="image/jpeg") for p in photos
    ]
    try:
        filed = await in_filing_thread(
            request.app.state, lambda: file_report(svc, data, CITIZEN_ACTOR, files)
        )
    except DomainError as exc:
        return _form_page(request, values, [str(exc)], 400)
    if filed.journaled:  # the database is down: the report waits in the journal, the code follows by SMS
        return _page(request, "received_later.html", {"phone_hint": mask(values["phone"])})
    query = urlencode({"moi": "1"})
    return RedirectResponse(f"/tra-cuu/{filed.code}?{query}", status_code=303)


# --- tracking and the reporter's follow-up ----------------------------------------------------------


@router.get("/tra-cuu")
def track_lookup(request: Request, ma: str = "") -> Response:
    if ma:
        try:
            check_rate(request, "track")
        except RateLimited:
            return _too_many(request)
        ticket = _ticket(request, ma)
        if ticket is not None:
            return RedirectResponse(f"/tra-cuu/{ticket.code}", status_code=303)
        return _page(request, "track_lookup.html", {"code": ma, "not_found": True}, 404)
    return _page(request, "track_lookup.html", {"code": "", "not_found": False})


def _granted(request: Request, code: str) -> bool:
    grant = request.cookies.get(GRANT_COOKIE, "")
    return bool(grant) and services(request).credentials.granted(grant, code)


def _track_page(
    request: Request, ticket: Ticket, *, notice: str = "", error: str = "", status: int = 200
) -> HTMLResponse:
    svc = services(request)
    granted = _granted(request, ticket.code)
    view = public_view(ticket, bool(svc.publication.published([ticket.code])))
    now = svc.clock.now()
    can_rate = granted and ticket.status.is_closed and ticket.rating is None
    can_clarify = (
        granted
        and ticket.status is Status.DONE
        and not ticket.clarification_request
        and ticket.closed_at is not None
        and now.date() <= clarification_deadline(ticket.closed_at)
    )
    timeline = [
        (e.at, e.to_status.value) for e in ticket.history if e.to_status is not None and e.action != "rate"
    ]
    ctx = {
        "t": view,
        "agency": _agency_names(request).get(view.lead_agency, view.lead_agency),
        "timeline": timeline,
        "granted": granted,
        "caller": ticket.caller if granted else None,
        "own_content": ticket.content if granted else "",
        "own_result": (ticket.result or ticket.rejection_reason) if granted else "",
        "phone_hint": mask(ticket.caller.phone) if ticket.caller.phone else "",
        "can_rate": can_rate,
        "can_clarify": can_clarify,
        "clarify_until": clarification_deadline(ticket.closed_at) if ticket.closed_at else None,
        "ratings": [r.value for r in Rating],
        "my_rating": ticket.rating.value if ticket.rating else "",
        "my_clarification": ticket.clarification_request if granted else "",
        "notice": notice,
        "error": error,
        "new": request.query_params.get("moi") == "1",
        "code_sent": request.query_params.get("da-gui-ma") == "1",
    }
    return _page(request, "track.html", ctx, status)


def _not_found(request: Request, code: str) -> HTMLResponse:
    return _error(request, "Không tìm thấy", f"Không có phiếu nào mang mã số theo dõi {code[:20]!r}.", 404)


@router.get("/tra-cuu/{code}")
def track(request: Request, code: str) -> Response:
    try:
        check_rate(request, "track")
    except RateLimited:
        return _too_many(request)
    ticket = _ticket(request, code)
    if ticket is None:
        return _not_found(request, code)
    return _track_page(request, ticket)


@router.post("/tra-cuu/{code}/gui-ma")
def ask_code(request: Request, code: str) -> Response:
    ticket = _ticket(request, code)
    if ticket is None:
        return _not_found(request, code)
    try:
        check_rate(request, "code")
        masked = send_code(services(request), ticket)
    except RateLimited:
        return _too_many(request)
    except DomainError as exc:
        return _track_page(request, ticket, error=str(exc), status=400)
    log.info("one-time code queued for ticket %s (phone %s)", ticket.code, masked)
    return RedirectResponse(f"/tra-cuu/{ticket.code}?da-gui-ma=1", status_code=303)


@router.post("/tra-cuu/{code}/xac-minh")
async def verify_code(request: Request, code: str) -> Response:
    ticket = _ticket(request, code)
    if ticket is None:
        return _not_found(request, code)
    try:
        check_rate(request, "code")
    except RateLimited:
        return _too_many(request)
    form = await request.form(max_files=0, max_fields=5, max_part_size=1024)
    grant = services(request).credentials.check_code(ticket.code, str(form.get("otp") or ""))
    if grant is None:
        return _track_page(
            request, ticket, error="Mã xác minh không đúng hoặc đã hết hạn. Hãy yêu cầu mã mới.", status=400
        )
    response = RedirectResponse(f"/tra-cuu/{ticket.code}", status_code=303)
    response.set_cookie(
        GRANT_COOKIE,
        grant,
        max_age=30 * 60,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/tra-cuu",
    )
    return response


async def _follow_up(request: Request, code: str, field: str, step: str) -> Response:
    ticket = _ticket(request, code)
    if ticket is None:
        return _not_found(request, code)
    if not _granted(request, ticket.code):
        return _track_page(request, ticket, error="Vui lòng xác minh bằng mã gửi qua SMS trước.", status=403)
    form = await request.form(max_files=0, max_fields=5, max_part_size=guard.MAX_TEXT * 4)
    value = str(form.get(field) or "").strip()[: guard.MAX_TEXT]
    tickets = services(request).tickets
    try:
        if step == "rate":
            ticket = tickets.rate(ticket.code, value, CITIZEN_ACTOR)
            notice = "Cảm ơn bạn đã đánh giá kết quả giải quyết."
        else:
            ticket = tickets.request_clarification(ticket.code, value, CITIZEN_ACTOR)
            notice = "Yêu cầu làm rõ đã được gửi tới đơn vị xử lý."
    except DomainError as exc:
        return _track_page(request, ticket, error=str(exc), status=400)
    return _track_page(request, ticket, notice=notice)


@router.post("/tra-cuu/{code}/danh-gia")
async def rate(request: Request, code: str) -> Response:
    return await _follow_up(request, code, "rating", "rate")


@router.post("/tra-cuu/{code}/lam-ro")
async def clarify(request: Request, code: str) -> Response:
    return await _follow_up(request, code, "text", "clarify")


# --- published results ------------------------------------------------------------------------------


def _month(text: str) -> tuple[datetime, datetime] | None:
    try:
        start = datetime.strptime(text, "%Y-%m")
    except ValueError:
        return None
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


@router.get("/ket-qua")
async def published(
    request: Request, linh_vuc: str = "", phuong: str = "", thang: str = "", trang: int = 1
) -> Response:
    try:
        check_rate(request, "track")
    except RateLimited:
        return _too_many(request)
    svc = services(request)
    city = svc.settings.city
    tz = svc.clock.now().tzinfo
    span = _month(thang) if thang else None
    page = max(1, min(trang, 500))
    query = TicketQuery(
        category=linh_vuc if linh_vuc in reference.categories() else "",
        ward_code=phuong if phuong in reference.ward_codes(city) else "",
        created_from=span[0].replace(tzinfo=tz) if span else None,
        created_to=span[1].replace(tzinfo=tz) if span else None,
        limit=PAGE_SIZE + 1,
        offset=(page - 1) * PAGE_SIZE,
    )

    def render() -> KeptBody:
        names = _agency_names(request)
        found = svc.publication.views(query, published_only=True)
        rows = [(v, names.get(v.lead_agency, v.lead_agency)) for v in found[:PAGE_SIZE]]
        filters = {"linh_vuc": query.category, "phuong": query.ward_code, "thang": thang if span else ""}
        base = {k: v for k, v in filters.items() if v}
        more = len(found) > PAGE_SIZE
        ctx = {
            "rows": rows,
            "filters": filters,
            "categories": _categories(),
            "wards": _wards(city),
            "page": page,
            "prev_url": f"/ket-qua?{urlencode({**base, 'trang': page - 1})}" if page > 1 else "",
            "next_url": f"/ket-qua?{urlencode({**base, 'trang': page + 1})}" if more else "",
        }
        return KeptBody.of(_page(request, "published_list.html", ctx))

    # the rendered page is reused while nothing public changed (web/public/cache.py); it depends
    # on the filters and the page alone (no session, no per-visitor part)
    key = (query.category, query.ward_code, query.created_from, query.created_to, thang if span else "", page)
    cache = answers(request.app.state, "published")
    stamp = svc.publication.kept_stamp()
    kept: KeptBody | None = cache.peek(key, stamp, svc.clock.now()) if stamp is not None else None
    if kept is None:  # computed in a worker thread (the database and the masking)
        found: KeptBody = await run_in_threadpool(
            lambda: cache.get(key, svc.publication.stamp(), svc.clock.now(), render)
        )
        return found.response(request)
    return kept.response(request)


@router.get("/ket-qua/{code}")
def published_one(request: Request, code: str) -> Response:
    ticket = _ticket(request, code)
    if ticket is None or not services(request).publication.published([ticket.code]):
        return _error(request, "Không tìm thấy", "Kết quả này chưa được công khai hoặc không tồn tại.", 404)
    view = public_view(ticket, True)
    agency = _agency_names(request).get(view.lead_agency, view.lead_agency)
    return _page(request, "published.html", {"t": view, "agency": agency})


@router.get("/ket-qua/{code}/anh/{sha256}")
def published_photo(request: Request, code: str, sha256: str) -> Response:
    ticket = _ticket(request, code)
    att = next((a for a in ticket.attachments if a.sha256 == sha256), None) if ticket else None
    published = ticket is not None and bool(services(request).publication.published([ticket.code]))
    if ticket is None or att is None or not is_public_attachment(att, published):
        return Response("Không tìm thấy", status_code=404, media_type="text/plain; charset=utf-8")
    try:  # re-encoded on the way out too: an officer's camera leaves its position in the file
        photo = clean(services(request).attachments.read(att.sha256), att.filename, 1, 64 * 1024 * 1024)
    except PhotoError:
        return Response("Không tìm thấy", status_code=404, media_type="text/plain; charset=utf-8")
    return Response(photo.data, media_type="image/jpeg", headers={"Cache-Control": "public, max-age=86400"})
