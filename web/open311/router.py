"""``/open311/v2``: discovery, services, service definitions, service requests (read and write) and
tokens, each as ``.json`` or ``.xml``. Errors keep the spec's shape with the matching HTTP status.

Reading needs no key and shows no personal data; writing needs an API key (``hotline api-keys
create``) and files the ticket through the one intake path (channel ``api``, the key's client as the
actor).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

import reference
from ticketing.credentials import CredentialKind
from ticketing.domain import tracking
from ticketing.domain.errors import DomainError
from ticketing.domain.model import Status
from ticketing.ports import TicketQuery
from ticketing.service import TicketNotFound
from web.open311 import formats, spec
from web.open311.spec import MAX_DAYS, MAX_RESULTS, Open311Error
from web.public.cache import KeptBody, answers
from web.public.guard import RateLimited, agency_names, body_too_large, check_rate, services
from web.public.intake import file_report, in_filing_thread

log = logging.getLogger(__name__)
router = APIRouter(prefix="/open311/v2", tags=["Open311 GeoReport v2"])
MEDIA_BASE = "/ket-qua"
_OPEN = [s for s in Status if not s.is_closed and s is not Status.DRAFT]
_CLOSED = [Status.DONE, Status.REJECTED]
_FIELDS = {"api_key", "jurisdiction_id", "service_code", "lat", "long", "address_string", "address_id"}
_FIELDS |= {"email", "device_id", "account_id", "first_name", "last_name", "phone", "description"}
_FIELDS |= {"media_url"}


def _fmt(fmt: str) -> str:
    if fmt not in formats.FORMATS:
        raise Open311Error(404, f"Định dạng không hỗ trợ: {fmt!r} (json, xml) / unsupported format {fmt!r}")
    return fmt


def _answer(fmt: str, root: str, work: Callable[[], Any], status: int = 200) -> Response:
    """Run ``work`` and render its data (unless it is a response already); every failure becomes a
    spec-shaped error, never a traceback."""
    shape = fmt if fmt in formats.FORMATS else "json"
    try:
        data = work()
        if isinstance(data, Response):
            return data
        return formats.render(_fmt(fmt), root, data, status)
    except Open311Error as exc:
        return formats.render(shape, "errors", exc.body(), exc.status)
    except RateLimited:
        err = Open311Error(429, "Quá nhiều yêu cầu, vui lòng thử lại sau / too many requests")
        return formats.render(shape, "errors", err.body(), 429)
    except DomainError as exc:
        return formats.render(shape, "errors", Open311Error(400, str(exc)).body(), 400)
    except Exception:
        log.exception("Open311 request failed")
        err = Open311Error(500, "Lỗi máy chủ, vui lòng thử lại sau / internal error")
        return formats.render(shape, "errors", err.body(), 500)


def _agency_names(request: Request) -> dict[str, str]:
    return agency_names(request)


def _date(value: str, name: str, tz: Any) -> datetime:
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, f"{name} không hợp lệ (ISO 8601) / malformed {name}: {value!r}") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=tz)


@router.get("/discovery.{fmt}", summary="Endpoints and formats of this server")
def get_discovery(request: Request, fmt: str) -> Response:
    return _answer(fmt, "discovery", lambda: spec.discovery(str(request.base_url)))


@router.get("/services.{fmt}", summary="Every report category as a service")
def get_services(request: Request, fmt: str) -> Response:
    def work() -> Any:
        check_rate(request, "api")
        return spec.services(services(request).settings.city)

    return _answer(fmt, "services", work)


@router.get("/services/{service_code}.{fmt}", summary="A service's definition (its attributes)")
def get_service_definition(request: Request, service_code: str, fmt: str) -> Response:
    def work() -> Any:
        check_rate(request, "api")
        return spec.service_definition(service_code, services(request).settings.city)

    return _answer(fmt, "service_definition", work)


@router.get("/requests.{fmt}", summary="Service requests (tickets), newest first")
async def get_requests(request: Request, fmt: str) -> Response:
    svc = services(request)
    # the rendered answer is reused while nothing public changed (web/public/cache.py)
    key = (fmt, tuple(sorted(request.query_params.multi_items())))
    cache = answers(request.app.state, "open311_requests")
    stamp = svc.publication.kept_stamp()
    kept: KeptBody | None = cache.peek(key, stamp, svc.clock.now()) if stamp is not None else None
    if kept is not None:  # served on the event loop: no database, no worker thread

        def hit() -> Response:
            check_rate(request, "api")
            assert kept is not None
            return kept.response(request)

        return _answer(fmt, "service_requests", hit)

    def cached() -> Response:
        check_rate(request, "api")
        found: KeptBody = cache.get(key, svc.publication.stamp(), svc.clock.now(), render)
        return found.response(request)

    def render() -> KeptBody:
        return KeptBody.of(formats.render(_fmt(fmt), "service_requests", work()))

    def work() -> Any:
        q = request.query_params
        names = _agency_names(request)
        ids = [i.strip() for i in q.get("service_request_id", "").split(",") if i.strip()]
        if ids:
            if len(ids) > MAX_RESULTS:
                raise Open311Error(400, f"Tối đa {MAX_RESULTS} mã / at most {MAX_RESULTS} ids")
            codes = [tracking.normalize(i) for i in ids if tracking.is_valid(tracking.normalize(i))]
            views = {v.code: v for v in svc.publication.views(TicketQuery(codes=codes, limit=MAX_RESULTS))}
            return [
                spec.service_request(views[c], names, MEDIA_BASE) for c in dict.fromkeys(codes) if c in views
            ]
        tz = svc.clock.now().tzinfo
        end = _date(q["end_date"], "end_date", tz) if q.get("end_date") else None
        start = _date(q["start_date"], "start_date", tz) if q.get("start_date") else None
        if start is None and end is None:
            end = svc.clock.now()
        if start is None:
            assert end is not None
            start = end - timedelta(days=MAX_DAYS)
        if end is None:
            end = min(start + timedelta(days=MAX_DAYS), svc.clock.now())
        if end < start:
            raise Open311Error(400, "end_date trước start_date / end_date is before start_date")
        if end - start > timedelta(days=MAX_DAYS):
            raise Open311Error(
                400, f"Khoảng thời gian tối đa {MAX_DAYS} ngày / the span is at most {MAX_DAYS} days"
            )
        status = q.get("status", "").strip().lower()
        statuses: list[Status] = []
        for part in (s.strip() for s in status.split(",") if s.strip()):
            if part == "open":
                statuses += _OPEN
            elif part == "closed":
                statuses += _CLOSED
            else:
                raise Open311Error(
                    400, f"status phải là open hoặc closed / status must be open or closed: {part!r}"
                )
        codes = [c.strip() for c in q.get("service_code", "").split(",") if c.strip()]
        unknown = [c for c in codes if c not in reference.categories()]
        if unknown:
            raise Open311Error(400, f"Không có dịch vụ mã {', '.join(unknown)} / unknown service_code")
        found = []
        for code in codes or [""]:
            query = TicketQuery(
                statuses=statuses,
                category=code,
                created_from=start,
                created_to=end,
                limit=MAX_RESULTS,
            )
            found += svc.publication.views(query)
        found.sort(key=lambda t: t.created_at, reverse=True)
        return [spec.service_request(v, names, MEDIA_BASE) for v in found[:MAX_RESULTS]]

    return await run_in_threadpool(_answer, fmt, "service_requests", cached)


def _find(svc: Any, code: str) -> Any:
    if not tracking.is_valid(tracking.normalize(code)):
        return None
    try:
        ticket = svc.tickets.get(code)
    except TicketNotFound:
        return None
    return None if ticket.status is Status.DRAFT else ticket


@router.get("/requests/{service_request_id}.{fmt}", summary="One service request")
def get_request(request: Request, service_request_id: str, fmt: str) -> Response:
    def work() -> Any:
        check_rate(request, "api")
        code = tracking.normalize(service_request_id)
        views = []
        if tracking.is_valid(code):
            views = services(request).publication.views(TicketQuery(codes=[code], limit=1))
        if not views:
            raise Open311Error(
                404, f"Không có yêu cầu mã {service_request_id[:20]!r} / no such service request"
            )
        return [spec.service_request(views[0], _agency_names(request), MEDIA_BASE)]

    return _answer(fmt, "service_requests", work)


@router.get("/tokens/{token}.{fmt}", summary="The service request a token became")
def get_token(request: Request, token: str, fmt: str) -> Response:
    # Requests are filed synchronously: the token handed back is the tracking code itself.
    def work() -> Any:
        check_rate(request, "api")
        svc = services(request)
        if token.startswith("J-") and len(token) <= 40:  # journaled while the database was down
            known = any(e.id == token for e in svc.journal.pending()) or svc.journal.replayed_code(token)
            if not known:
                raise Open311Error(404, f"Không có token {token[:40]!r} / unknown token")
            return [{"service_request_id": svc.journal.replayed_code(token) or None, "token": token}]
        ticket = _find(svc, token)
        if ticket is None:
            raise Open311Error(404, f"Không có token {token!r} / unknown token")
        return [{"service_request_id": ticket.code, "token": token}]

    return _answer(fmt, "service_requests", work)


async def _form(request: Request) -> dict[str, str]:
    if body_too_large(request, 64 * 1024):
        raise Open311Error(413, "Yêu cầu quá lớn / request too large")
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        raise Open311Error(
            400, "Cần dữ liệu dạng form (application/x-www-form-urlencoded) / form data expected"
        )
    form = await request.form(max_files=0, max_fields=100, max_part_size=64 * 1024)
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _ticket_data(f: dict[str, str], city: str) -> dict[str, Any]:
    code = f.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, "Thiếu service_code / service_code is required")
    if code not in reference.categories():
        raise Open311Error(404, f"Không có dịch vụ mã {code!r} / unknown service_code {code!r}")
    description = f.get("description", "").strip()
    if not description:
        raise Open311Error(400, "Thiếu description (nội dung phản ánh) / description is required")
    if len(description) > 4000:
        raise Open311Error(400, "description tối đa 4000 ký tự / description is at most 4000 characters")
    unknown = sorted(
        k for k in f if k not in _FIELDS and not (k.startswith("attribute[") and k.endswith("]"))
    )
    if unknown:
        raise Open311Error(400, f"Tham số không hợp lệ: {', '.join(unknown)} / unknown parameters")
    attrs = {k[len("attribute[") : -1]: v.strip() for k, v in f.items() if k.startswith("attribute[")}
    address = f.get("address_string", "").strip()
    lat, lon = f.get("lat", "").strip(), f.get("long", "").strip()
    unit = None
    position: dict[str, float] = {}
    if attrs.get("ward"):
        unit = spec.resolve_ward(attrs["ward"], city)
        if unit is None:
            raise Open311Error(400, f"Không có xã/phường {attrs['ward']!r} / unknown ward")
    elif address:
        unit = spec.ward_in_address(address, city)
    if lat or lon:
        try:
            la, lo = float(lat), float(lon)
        except ValueError:
            raise Open311Error(400, "lat/long không hợp lệ / malformed lat/long") from None
        if not (-90 <= la <= 90 and -180 <= lo <= 180):
            raise Open311Error(400, "lat/long ngoài phạm vi / lat/long out of range")
        address = f"{address} (toạ độ {la:.6f}, {lo:.6f})".strip()  # for people reading it
        position = {"lat": la, "lon": lo}  # and as numbers (Open311 answers, maps)
    if not (address or unit):
        raise Open311Error(
            400, "Cần vị trí: address_string, lat/long hoặc attribute[ward] / a location is required"
        )
    urgency = attrs.get("urgency", "normal") or "normal"
    if urgency not in spec.URGENCY:
        raise Open311Error(
            400, "attribute[urgency] phải là normal hoặc urgent / urgency must be normal or urgent"
        )
    confidential = attrs.get("confidential", "false").lower() in ("true", "1", "yes", "có")
    name = " ".join(p for p in (f.get("first_name", "").strip(), f.get("last_name", "").strip()) if p)
    media = f.get("media_url", "").strip()
    content = description + (f"\nẢnh: {media}" if media else "")
    data: dict[str, Any] = {
        "channel": "api",
        "category": code,
        "priority": urgency,
        "caller": {
            "name": name,
            "phone": f.get("phone", "").strip(),
            "email": f.get("email", "").strip(),
            "confidential": confidential,
        },
        "place": {
            "address": address,
            "ward_code": unit.code if unit else "",
            "ward_name": unit.name if unit else "",
            "city": city,
            **position,
        },
        "content": content,
    }
    if attrs.get("incident_time"):
        try:  # checked here: a client's bad date is a 400, not a report kept for a call-back
            datetime.fromisoformat(attrs["incident_time"].replace("Z", "+00:00"))
        except ValueError:
            raise Open311Error(
                400, "attribute[incident_time] không hợp lệ (ISO 8601) / malformed incident_time"
            ) from None
        data["incident_time"] = attrs["incident_time"]
    return data


@router.post("/requests.{fmt}", status_code=201, summary="File a service request (needs an api_key)")
async def post_request(request: Request, fmt: str) -> Response:
    shape = fmt if fmt in formats.FORMATS else "json"
    try:
        _fmt(fmt)
        check_rate(request, "api_write")
        f = await _form(request)
    except Open311Error as exc:
        return formats.render(shape, "errors", exc.body(), exc.status)
    except RateLimited:
        return formats.render(
            shape, "errors", Open311Error(429, "Quá nhiều yêu cầu / too many requests").body(), 429
        )

    svc = services(request)

    def work() -> Any:
        # the key is checked first (no key, no other answer), in the worker thread of the filing
        key = svc.credentials.authenticate(CredentialKind.API_KEY, f.get("api_key", ""))
        if key is None:
            raise Open311Error(403, "api_key thiếu hoặc không hợp lệ / a valid api_key is required")
        data = _ticket_data(f, svc.settings.city)
        filed = file_report(svc, data, f"api:{key.name}")
        if filed.journaled:  # the database is down: filed later; the spec's token stands in for the id
            notice = "Đã tiếp nhận; mã số theo dõi sẽ được cấp khi hệ thống xử lý xong."
            return [{"token": filed.code, "service_notice": notice, "account_id": None}]
        notice = (
            f"Đã tiếp nhận, mã số theo dõi {filed.code}. "
            f"Hạn xử lý theo quy định được tính từ khi chuyển đơn vị."
        )
        return [{"service_request_id": filed.code, "service_notice": notice, "account_id": None}]

    return await in_filing_thread(request.app.state, lambda: _answer(fmt, "service_requests", work, 201))
