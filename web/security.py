"""Browser-facing protections of the web app: security headers, CSRF tokens, login throttling and the
session secret.

CSRF uses the signed double-submit pattern: a random value in an HttpOnly, SameSite=Strict cookie, and
in every form a token that is that value signed (itsdangerous) with the app's secret; a post whose
token does not match its cookie is refused. Login throttling counts failures per user name and per
client address in a moving window (``limits``, in memory: the portal runs as one process).
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer
from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSRF_COOKIE = "hotline_csrf"
CSRF_FIELD = "csrf_token"
CSRF_MAX_AGE_S = 12 * 3600
SESSION_COOKIE = "hotline_session"
KEY_FILE = Path("secrets") / "web_session_key"


def session_secret(data_dir: Path, configured: str = "") -> str:
    """The configured key, else the one generated once into ``<data_dir>/secrets`` (mode 0600)."""
    if configured.strip():
        if len(configured.strip()) < 32:
            raise ValueError("web.secret_key must have at least 32 characters")
        return configured.strip()
    path = Path(data_dir) / KEY_FILE
    if path.is_file():
        return path.read_text("utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_text("utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    return key


class Csrf:
    def __init__(self, secret: str, secure: bool) -> None:
        self.signer = URLSafeTimedSerializer(secret, salt="hotline-csrf")
        self.secure = secure

    def cookie_value(self, request: Request) -> tuple[str, bool]:
        """The browser's CSRF value, or a new one (``True``: it must be set on the response)."""
        value = request.cookies.get(CSRF_COOKIE, "")
        if len(value) >= 32:
            return value, False
        return secrets.token_urlsafe(32), True

    def token(self, value: str) -> str:
        return self.signer.dumps(value)

    def valid(self, request: Request, token: str) -> bool:
        value = request.cookies.get(CSRF_COOKIE, "")
        if not value or not token:
            return False
        try:
            signed = self.signer.loads(token, max_age=CSRF_MAX_AGE_S)
        except BadSignature:
            return False
        return isinstance(signed, str) and hmac.compare_digest(signed, value)

    def set_cookie(self, response: Response, value: str) -> None:
        response.set_cookie(
            CSRF_COOKIE, value, max_age=CSRF_MAX_AGE_S, httponly=True, samesite="strict", secure=self.secure
        )


class LoginThrottle:
    """At most ``attempts`` failures per key (user name, address) within a moving window (``limits``)."""

    def __init__(self, attempts: int = 5, window_s: float = 900.0) -> None:
        self.rule = RateLimitItemPerSecond(attempts, max(1, int(window_s)))
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def blocked(self, *keys: str) -> bool:
        return any(not self.limiter.test(self.rule, "login", k) for k in keys)

    def fail(self, *keys: str) -> None:
        for k in keys:
            self.limiter.hit(self.rule, "login", k)

    def succeed(self, *keys: str) -> None:
        for k in keys:
            self.limiter.clear(self.rule, "login", k)


CSP = (
    "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class SecurityHeaders:
    """Pure ASGI middleware (streams such as server-sent events pass through untouched)."""

    def __init__(self, app: ASGIApp, https: bool = False) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self._headers(static):
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _headers(self, static: bool) -> list[tuple[str, str]]:
        out = [
            ("Content-Security-Policy", CSP),
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "same-origin"),
            ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
            ("Cross-Origin-Opener-Policy", "same-origin"),
        ]
        if not static:
            out.append(("Cache-Control", "no-store"))
        if self.https:
            out.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
        return out
