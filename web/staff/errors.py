"""How the staff pages answer refusals: no session -> /login, not found -> 404 page, forbidden -> 403,
a refused step -> back to the page with the one-line reason, a bad CSRF token -> 403."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from starlette.responses import RedirectResponse, Response

from ticketing.domain.errors import DomainError
from ticketing.service import TicketNotFound
from ticketing.staff import Forbidden
from web.staff.deps import BadCsrf, NotLoggedIn, flash, render


def _back(request: Request) -> str:
    path = request.url.path
    if request.method == "POST" and path.startswith("/tickets/"):
        return "/".join(path.split("/")[:3])
    return request.headers.get("referer", "") if request.method == "POST" else path


def install(app: FastAPI) -> None:
    @app.exception_handler(NotLoggedIn)
    async def not_logged_in(request: Request, exc: NotLoggedIn) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(TicketNotFound)
    async def not_found(request: Request, exc: TicketNotFound) -> Response:
        return render(request, "error.html", {"title": "Không tìm thấy", "message": str(exc)}, 404)

    @app.exception_handler(BadCsrf)
    async def bad_csrf(request: Request, exc: BadCsrf) -> Response:
        message = "Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ. Hãy tải lại trang và thử lại."
        return render(request, "error.html", {"title": "Biểu mẫu không hợp lệ", "message": message}, 403)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        if request.method == "POST" and "uid" in request.session:
            flash(request, str(exc), "error")
            return RedirectResponse(_back(request) or "/", status_code=303)
        return render(request, "error.html", {"title": "Không có quyền", "message": str(exc)}, 403)

    @app.exception_handler(DomainError)
    async def refused(request: Request, exc: DomainError) -> Response:
        if request.method == "POST" and "uid" in request.session:
            flash(request, str(exc), "error")
            return RedirectResponse(_back(request) or "/", status_code=303)
        return render(request, "error.html", {"title": "Yêu cầu không hợp lệ", "message": str(exc)}, 400)
