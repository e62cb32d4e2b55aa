"""The web app factory: one FastAPI app over :class:`wiring.Services`, with its middleware and routers.

``create_app(services)`` is what ``hotline web run`` (and ``hotline up``) serve with uvicorn. Routers are
included in :data:`ROUTERS` order below; another front door (public pages, REST API, Open311, metrics)
adds its router with one ``include_router`` line in :func:`create_app`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from ops.metrics import metrics_app
from web.api.app import create_api
from web.open311.router import router as open311_router
from web.public.router import router as public_router
from web.security import Csrf, LoginThrottle, SecurityHeaders, session_secret
from web.staff import admin, auth, errors, pages, review
from web.staff.live import LiveFeed
from wiring import Services

STATIC_DIR = Path(__file__).parent / "static"


def create_app(services: Services, *, secret_key: str = "", live: LiveFeed | None = None) -> FastAPI:
    settings = services.settings
    web = settings.web
    secret = secret_key or session_secret(settings.data_dir, web.secret_key)
    feed = live if live is not None else LiveFeed.from_settings(settings)
    app = FastAPI(
        title="Hotline",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=feed.lifespan,
    )
    app.state.services = services
    app.state.web = web
    app.state.csrf = Csrf(secret, secure=web.https)
    app.state.throttle = LoginThrottle(web.login_attempts, web.login_window_minutes * 60)
    app.state.live = feed

    # Outermost last: headers on every answer, the session cookie for the staff pages.
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie="hotline_session",
        max_age=int(web.session_hours * 3600),
        same_site="lax",
        https_only=web.https,
    )
    app.add_middleware(SecurityHeaders, https=web.https)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    errors.install(app)
    app.include_router(auth.router)
    app.include_router(pages.router)
    app.include_router(pages.live_router)
    app.include_router(admin.router)
    app.include_router(review.router)
    app.include_router(public_router)
    app.include_router(open311_router)
    app.mount("/api", create_api(services))
    # Prometheus metrics of the whole hotline (read from the database), loopback clients only
    # (an ASGI app, not a request handler: Starlette calls it as it is)
    app.add_route("/metrics", cast(Any, metrics_app(services.engine, settings)), include_in_schema=False)
    return app


def from_settings() -> FastAPI:
    """The app over the configured settings: the factory of each worker of ``hotline web run
    --workers N`` (uvicorn imports it in every worker process)."""
    import wiring
    from config.settings import get_settings

    return create_app(wiring.build(get_settings()))
