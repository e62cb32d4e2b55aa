"""``/api``: the REST API for staff scripts and other systems, mounted on the web app.

``/api/v1/...`` authenticates a personal access token (``Authorization: Bearer hpat_...``, made with
``hotline tokens create``) as its staff user and calls the same permission-checked service as the
portal (:class:`ticketing.staff.StaffService`): an officer of agency A gets 404 for agency B's
ticket here too. The OpenAPI document is generated (``/api/v1/openapi.json``); the interactive docs
are at ``/api/docs`` with Swagger UI served from the ``swagger-ui-bundle`` package (no CDN).

Errors are JSON ``{"detail": "..."}`` with 400/401/403/404/413/429; never a traceback.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, File, Form, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, model_validator

from ticketing.access import Actor
from ticketing.credentials import CredentialKind
from ticketing.domain.errors import DomainError
from ticketing.domain.model import Status
from ticketing.service import TicketNotFound
from ticketing.staff import Forbidden, QueueFilter
from web.api import schemas
from web.public.guard import RateLimited, check_rate, client_address
from web.public.intake import file_report
from web.public.photos import PhotoError, clean
from wiring import Services

log = logging.getLogger(__name__)
DOCS_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
MAX_EVIDENCE = 5
MAX_EVIDENCE_BYTES = 8 * 1024 * 1024


BEARER = HTTPBearer(auto_error=False, description="Token cá nhân: hotline tokens create --user NAME")


class Unauthorized(Exception):
    pass


def _services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def current_actor(
    request: Request, bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]
) -> Actor:
    """The staff user a bearer token acts as (checked on every call: a revoked token or a disabled
    user stops working at once)."""
    check_rate(request, "api")
    secret = bearer.credentials if bearer is not None else ""
    if not secret.strip():
        raise Unauthorized("Cần token: Authorization: Bearer hpat_... / a bearer token is required")
    svc = _services(request)
    cred = svc.credentials.authenticate(CredentialKind.TOKEN, secret.strip())
    if cred is None:
        log.info("API: refused token from %s", client_address(request))
        raise Unauthorized("Token không hợp lệ, đã thu hồi hoặc hết hạn / invalid, revoked or expired token")
    try:
        user = svc.users.get(cred.owner)
    except DomainError:
        raise Unauthorized("Người dùng của token không còn / the token's user is gone") from None
    if not user.active:
        raise Unauthorized("Người dùng của token đã bị khóa / the token's user is disabled")
    return user.actor()


ActorDep = Annotated[Actor, Depends(current_actor)]


class Note(BaseModel):
    note: str = Field("", max_length=5000, description="Ghi chú (tuỳ chọn)")


class Reason(BaseModel):
    reason: str = Field(..., min_length=1, max_length=5000, description="Lý do")


class Coordinate(BaseModel):
    agency: str = Field(..., min_length=1, max_length=32, description="Mã đơn vị phối hợp")
    note: str = Field("", max_length=5000)


class Transfer(BaseModel):
    to: str = Field(..., min_length=1, max_length=32, description="Mã đơn vị nhận")
    reason: str = Field(..., min_length=1, max_length=5000)


class Dispatch(BaseModel):
    agency: str = Field("", max_length=32, description="Mã đơn vị chủ trì (mặc định: theo định tuyến)")
    note: str = Field("", max_length=5000)


class NewReport(BaseModel):
    category: str = Field(..., max_length=16, description="Mã lĩnh vực, ví dụ VSMT")
    content: str = Field(..., min_length=1, max_length=5000)
    ward_code: str = Field("", max_length=8, description="Mã xã/phường 5 chữ số")
    address: str = Field("", max_length=300)
    lat: float | None = Field(None, ge=-90, le=90, description="Vĩ độ WGS 84 (độ), nếu có")
    long: float | None = Field(None, ge=-180, le=180, description="Kinh độ WGS 84 (độ), nếu có")
    caller_name: str = Field("", max_length=100)
    caller_phone: str = Field("", max_length=32)
    confidential: bool = False
    priority: str = Field("normal", pattern="^(normal|urgent|complex)$")

    @model_validator(mode="after")
    def _both_coordinates(self) -> NewReport:
        if (self.lat is None) != (self.long is None):
            raise ValueError("lat và long phải đi cùng nhau / lat and long go together")
        return self


def create_api(services: Services) -> FastAPI:
    api = FastAPI(
        title="Hotline REST API",
        version="1",
        description="Phiếu phản ánh, quy trình xử lý của đơn vị, báo cáo và tra cứu hồ sơ. "
        "Xác thực: `Authorization: Bearer <token>` (tạo bằng `hotline tokens create --user NAME`).",
        docs_url=None,
        redoc_url=None,
        openapi_url="/v1/openapi.json",
    )
    # Swagger UI 4 (the version the swagger-ui-bundle wheel ships) reads OpenAPI 3.0 documents only;
    # the generated document uses nothing of 3.1 but JSON-Schema "null" types, which it shows as-is.
    api.openapi_version = "3.0.3"
    api.state.services = services

    @api.exception_handler(Unauthorized)
    async def _unauthorized(request: Request, exc: Unauthorized) -> Response:
        return JSONResponse({"detail": str(exc)}, 401, headers={"WWW-Authenticate": "Bearer"})

    @api.exception_handler(RateLimited)
    async def _limited(request: Request, exc: RateLimited) -> Response:
        return JSONResponse({"detail": "Quá nhiều yêu cầu / too many requests"}, 429)

    @api.exception_handler(TicketNotFound)
    async def _missing(request: Request, exc: TicketNotFound) -> Response:
        return JSONResponse({"detail": str(exc)}, 404)

    @api.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return JSONResponse({"detail": str(exc)}, 403)

    @api.exception_handler(DomainError)  # the most specific handler wins: not found 404, forbidden 403
    async def _refused(request: Request, exc: DomainError) -> Response:
        return JSONResponse({"detail": str(exc)}, 400)

    @api.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        parts = [f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors()]
        return JSONResponse({"detail": "; ".join(parts) or "invalid request"}, 400)

    @api.exception_handler(Exception)
    async def _crashed(request: Request, exc: Exception) -> Response:
        log.exception("API request failed")
        return JSONResponse({"detail": "Lỗi máy chủ / internal error"}, 500)

    _docs(api)
    api.include_router(_v1())
    return api


def _docs(api: FastAPI) -> None:
    import swagger_ui_bundle

    assets = Path(swagger_ui_bundle.swagger_ui_path)
    here = Path(__file__).parent / "docs"

    @api.get("/docs", include_in_schema=False)
    def docs() -> Response:
        html = (here / "index.html").read_text("utf-8")
        return HTMLResponse(html, headers={"Content-Security-Policy": DOCS_CSP})

    @api.get("/docs/{name}", include_in_schema=False)
    def docs_asset(name: str) -> Response:
        allowed = {"swagger-ui-bundle.js": assets, "swagger-ui.css": assets, "init.js": here}
        if name not in allowed:
            return JSONResponse({"detail": "not found"}, 404)
        return FileResponse(allowed[name] / name, headers={"Cache-Control": "public, max-age=86400"})


def _v1() -> APIRouter:
    v1 = APIRouter(prefix="/v1")

    @v1.get("/me", response_model=schemas.Me, summary="Người dùng của token")
    def me(actor: ActorDep) -> Any:
        return schemas.me(actor)

    @v1.get("/tickets", response_model=schemas.QueuePageOut, summary="Hàng đợi phiếu của tôi")
    def tickets(
        request: Request,
        actor: ActorDep,
        agency: str = "",
        status: Annotated[list[str] | None, Query()] = None,
        category: str = "",
        ward_code: str = "",
        overdue: bool = False,
        mine: bool = False,
        sort: str = "created_desc",
        page: int = 1,
        per_page: int = 50,
    ) -> Any:
        statuses = tuple(_status(s) for s in status or [])
        f = QueueFilter(
            agency=agency,
            statuses=statuses,
            category=category,
            ward_code=ward_code,
            overdue=overdue,
            mine=mine,
            sort=sort if sort in ("created_desc", "created_asc", "due_asc") else "created_desc",
            page=max(1, page),
            per_page=max(1, min(per_page, 200)),
        )
        return schemas.queue_page(_services(request).staff.queue(actor, f))

    @v1.post("/tickets", status_code=201, response_model=schemas.CreatedOut, summary="Tạo phiếu (kênh api)")
    def create(request: Request, actor: ActorDep, body: NewReport) -> Any:
        from ticketing.access import Permission

        if not actor.has(Permission.TICKET_CREATE):
            raise Forbidden("Không có quyền tạo phiếu / no permission to create tickets")
        svc = _services(request)
        data = {
            "channel": "api",
            "category": body.category,
            "priority": body.priority,
            "caller": {
                "name": body.caller_name,
                "phone": body.caller_phone,
                "confidential": body.confidential,
            },
            "place": {
                "address": body.address,
                "ward_code": body.ward_code,
                "city": svc.settings.city,
                **({"lat": body.lat, "lon": body.long} if body.lat is not None else {}),  # both or neither
            },
            "content": body.content,
        }
        filed = file_report(svc, data, actor.name)
        if filed.journaled:
            return JSONResponse({"code": filed.code, "status": "journaled"}, 202)
        return {"code": filed.code, "status": svc.tickets.get(filed.code).status.value}

    @v1.get(
        "/tickets/{code}", response_model=schemas.TicketOut, summary="Một phiếu (dữ liệu cá nhân theo quyền)"
    )
    def show(request: Request, actor: ActorDep, code: str) -> Any:
        return schemas.ticket(_services(request).staff.view(actor, code))

    def _step(request: Request, actor: Actor, code: str) -> Any:
        return schemas.ticket(_services(request).staff.view(actor, code))

    @v1.post("/tickets/{code}/accept", response_model=schemas.TicketOut, summary="Tiếp nhận")
    def accept(request: Request, actor: ActorDep, code: str, body: Note) -> Any:
        _services(request).staff.accept(actor, code, body.note)
        return _step(request, actor, code)

    @v1.post("/tickets/{code}/reject", response_model=schemas.TicketOut, summary="Từ chối có lý do")
    def reject(request: Request, actor: ActorDep, code: str, body: Reason) -> Any:
        _services(request).staff.reject(actor, code, body.reason)
        return _step(request, actor, code)

    @v1.post("/tickets/{code}/coordinate", response_model=schemas.TicketOut, summary="Thêm đơn vị phối hợp")
    def coordinate(request: Request, actor: ActorDep, code: str, body: Coordinate) -> Any:
        _services(request).staff.add_coordinator(actor, code, body.agency, body.note)
        return _step(request, actor, code)

    @v1.post("/tickets/{code}/transfer", response_model=schemas.MovedOut, summary="Chuyển đơn vị")
    def transfer(request: Request, actor: ActorDep, code: str, body: Transfer) -> Any:
        # the ticket leaves the actor's agency: answer what changed, not a view they may no longer have
        t = _services(request).staff.transfer(actor, code, body.to, body.reason)
        return {"code": t.code, "status": t.status.value, "lead_agency": t.lead_agency}

    @v1.post("/tickets/{code}/dispatch", response_model=schemas.TicketOut, summary="Chuyển xử lý")
    def dispatch(request: Request, actor: ActorDep, code: str, body: Dispatch) -> Any:
        _services(request).staff.dispatch(actor, code, body.agency, body.note)
        return _step(request, actor, code)

    @v1.post(
        "/tickets/{code}/draft-result",
        response_model=schemas.TicketOut,
        summary="Dự thảo kết quả + minh chứng",
    )
    async def draft_result(
        request: Request,
        actor: ActorDep,
        code: str,
        text: Annotated[str, Form(max_length=5000)],
        evidence: Annotated[list[UploadFile] | None, File()] = None,
    ) -> Any:
        files = evidence or []
        if len(files) > MAX_EVIDENCE:
            raise DomainError(f"Tối đa {MAX_EVIDENCE} tệp minh chứng / at most {MAX_EVIDENCE} evidence files")
        cleaned: list[tuple[str, bytes]] = []
        for i, upload in enumerate(files, start=1):
            try:
                photo = clean(await upload.read(), upload.filename or "", i, MAX_EVIDENCE_BYTES)
            except PhotoError as exc:
                raise DomainError(str(exc)) from None
            cleaned.append((f"minh-chung-{i}.jpg", photo.data))
        _services(request).staff.draft_result(actor, code, text, cleaned)
        return _step(request, actor, code)

    @v1.post("/tickets/{code}/approve", response_model=schemas.TicketOut, summary="Duyệt kết quả")
    def approve(request: Request, actor: ActorDep, code: str, body: Note) -> Any:
        _services(request).staff.approve(actor, code, body.note)
        return _step(request, actor, code)

    @v1.post("/tickets/{code}/send-back", response_model=schemas.TicketOut, summary="Trả lại dự thảo")
    def send_back(request: Request, actor: ActorDep, code: str, body: Reason) -> Any:
        _services(request).staff.send_back(actor, code, body.reason)
        return _step(request, actor, code)

    @v1.post("/tickets/{code}/publish", response_model=schemas.TicketOut, summary="Duyệt công khai kết quả")
    def publish(request: Request, actor: ActorDep, code: str) -> Any:
        _services(request).staff.publish(actor, code)
        return _step(request, actor, code)

    @v1.get("/reports/{month}", summary="Báo cáo tháng (JSON hoặc XLSX)")
    def report(
        request: Request, actor: ActorDep, month: str, agency: str = "", fmt: str = "json"
    ) -> Response:
        from ticketing.reports import periods
        from ticketing.reports import render as renderers

        svc = _services(request).staff
        try:
            period = periods.month(month or date.today().strftime("%Y-%m"))
        except periods.PeriodError as exc:
            raise DomainError(str(exc)) from None
        rep = svc.report(actor, period, agency)
        if fmt == "xlsx":
            if not svc.may_download(actor, rep.agency):
                raise Forbidden("Không có quyền tải báo cáo / no permission to download reports")
            name = f"bao-cao-{month}-{rep.agency or 'thanh-pho'}.xlsx"
            return Response(
                renderers.render(rep, "xlsx"),
                media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                headers={"Content-Disposition": f'attachment; filename="{name}"'},
            )
        if fmt != "json":
            raise DomainError("fmt: json hoặc xlsx / fmt must be json or xlsx")
        return JSONResponse(schemas.report(rep))

    @v1.get("/dossiers/{code}", response_model=schemas.DossierOut, summary="Tra cứu tình trạng hồ sơ TTHC")
    def dossier(request: Request, actor: ActorDep, code: str) -> Any:
        from ticketing.dossiers import DossierLookupError

        try:
            found = _services(request).dossiers.lookup(code)
        except DossierLookupError as exc:
            raise DomainError(f"Không tra cứu được hồ sơ / dossier lookup failed: {exc}") from None
        if found is None:
            raise TicketNotFound(f"Không có hồ sơ mã {code[:40]!r} / no dossier {code[:40]!r}")
        return {
            "code": found.code,
            "status": found.status,
            "procedure": found.procedure,
            "due_date": found.due_date,
        }

    return v1


def _status(text: str) -> Status:
    for s in Status:
        if text in (s.value, s.name.lower()):
            return s
    raise DomainError(f"Trạng thái không hợp lệ: {text!r} / unknown status")
