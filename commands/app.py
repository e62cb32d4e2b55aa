"""``hotline app``: the call-control process (ARI + AudioSocket + AMI), started by ``hotline up``."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import click

from commands.errors import UserError, load_settings
from config.settings import SettingsError

if TYPE_CHECKING:
    from pbx.app import HotlineApp


def _ready(app: HotlineApp) -> None:
    click.echo(app.nlu_status, err=True)
    click.echo(f"hotline app: ready, AudioSocket on port {app.media_server.port}", err=True)


@click.group("app")
def app_group() -> None:
    """The call-control application that answers hotline calls over ARI."""


@app_group.command("run", epilog="Example:\n\n  hotline -v app run")
def run_app() -> None:
    """Run the call-control app in the foreground until SIGTERM/SIGINT.

    Needs a running Asterisk (`hotline pbx start`) with the rendered configuration; the ARI
    password comes from the settings. On stop, callers still in the app go to the operator queue.
    """
    import logging

    from pbx.app import run

    logging.getLogger("pbx.ai_operator.turns").setLevel(logging.INFO)  # which interpreter, each turn
    try:
        asyncio.run(run(load_settings(), ready=_ready))
    except SettingsError as exc:
        raise UserError(f"Cấu hình không hợp lệ / invalid configuration: {exc}") from exc
    except OSError as exc:
        raise UserError(f"Không khởi động được ứng dụng / cannot start the app: {exc}") from exc
