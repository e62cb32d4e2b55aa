"""``hotline web``: the staff portal (FastAPI + uvicorn), also started by ``hotline up``."""

from __future__ import annotations

import click

from commands.db import require_database
from commands.errors import UserError
from commands.errors import load_settings as settings


@click.group("web")
def web_group() -> None:
    """The web portal of the hotline: staff pages (and the public pages and APIs beside them)."""


@web_group.command(
    "run",
    epilog="\b\nExamples:\n  hotline web run\n  HOTLINE_WEB__PORT=8443 hotline web run\n"
    "  hotline web run --host 0.0.0.0   # only behind a TLS reverse proxy (docs/web-tls.md)",
)
@click.option("--host", default=None, help="Listen address (default: web.host, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default: web.port, 8080).")
@click.option(
    "--workers", type=click.IntRange(1, 64), default=None, help="Worker processes (default: web.workers, 1)."
)
def run_cmd(host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the portal in the foreground until SIGTERM/SIGINT.

    The session key is generated once into <data_dir>/secrets/web_session_key unless web.secret_key
    is set. Users come from 'hotline users add'.
    """
    import uvicorn

    import wiring
    from web.app import create_app

    s = settings()
    require_database(s.database_url)
    services = wiring.build(s)
    try:
        app = create_app(services)  # also checks the session key before any worker starts
    except (ValueError, OSError) as exc:
        services.close()
        raise UserError(f"Không khởi động được cổng web / cannot start the portal: {exc}") from exc
    bind, listen = host or s.web.host, port or s.web.port
    count = workers or s.web.workers
    click.echo(f"hotline web: http://{bind}:{listen} ({count} worker{'s' if count > 1 else ''})", err=True)
    options = {
        "host": bind,
        "port": listen,
        "log_level": "warning",
        "proxy_headers": True,
        "forwarded_allow_ips": "127.0.0.1",
        "server_header": False,
    }
    try:
        if count > 1:  # each worker process builds its own services from the same settings
            services.close()
            uvicorn.run("web.app:from_settings", factory=True, workers=count, **options)  # type: ignore[arg-type]
        else:
            uvicorn.run(app, **options)  # type: ignore[arg-type]
    finally:
        services.close()
