"""``hotline agi``: the FastAGI server for the DTMF-only fallback (dossier-code lookup)."""

from __future__ import annotations

import asyncio

import click

from commands.errors import UserError, load_settings
from config.settings import SettingsError


def _ready(port: int) -> None:
    click.echo(f"hotline agi: FastAGI ready on port {port}", err=True)


@click.group("agi")
def agi_group() -> None:
    """FastAGI server for the dialplan's DTMF-only path when the AI app is down."""


@agi_group.command(
    "run",
    epilog="Example:\n\n  HOTLINE_PBX__FASTAGI_URL=agi://127.0.0.1:4573/dtmf hotline agi run",
)
def run_agi() -> None:
    """Serve FastAGI on the host and port of pbx.fastagi_url until SIGTERM/SIGINT.

    Dossier statuses come from the configured source (call.dossier_url, else <data_dir>/dossiers.csv).
    """
    from agi.app import run

    try:
        asyncio.run(run(load_settings(), ready=_ready))
    except SettingsError as exc:
        raise UserError(f"Cấu hình không hợp lệ / invalid configuration: {exc}") from exc
    except OSError as exc:
        raise UserError(f"Không khởi động được FastAGI / cannot start FastAGI: {exc}") from exc
