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
def run_cmd(host: str | None, port: int | None) -> None:
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
        app = create_app(services)
    except (ValueError, OSError) as exc:
        raise UserError(f"Không khởi động được cổng web / cannot start the portal: {exc}") from exc
    bind, listen = host or s.web.host, port or s.web.port
    click.echo(f"hotline web: http://{bind}:{listen}", err=True)
    try:
        uvicorn.run(
            app,
            host=bind,
            port=listen,
            log_level="warning",
            proxy_headers=True,
            forwarded_allow_ips="127.0.0.1",
            server_header=False,
        )
    finally:
        services.close()
