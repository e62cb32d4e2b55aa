"""The ``hotline`` command line: the one place where settings, adapters and services are wired together.

Each command group lives in :mod:`commands` as a thin layer over library functions; this module only
assembles the groups and turns domain errors into one-line messages with a non-zero exit.
"""

from __future__ import annotations

import logging
import sys
from typing import Literal

import click

from commands import COMMAND_GROUPS
from commands.errors import UserError
from config import log_redaction
from config.private_files import set_private_umask
from config.settings import SettingsError, get_settings
from ops.logs import configure as configure_logging
from ops.logs import configured_secrets


class HotlineGroup(click.Group):
    """Root group: known errors become ``Lỗi / Error: ...`` on stderr and exit status 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except UserError as exc:
            click.echo(f"Lỗi / Error: {exc}", err=True)
            ctx.exit(1)


@click.group(cls=HotlineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages to stderr.")
def main(verbose: bool) -> None:
    """Hotline: the AI operator, the PBX and the ticket system of a city hotline.

    \b
    Examples:
      hotline db upgrade
      hotline calendar deadline --start 2026-11-20T16:00+07:00 --hours 4
      hotline tickets list --status "Mới tạo"
    """
    # Databases, recordings, logs and secrets written by any command (or its children) are owner-only.
    set_private_umask()
    # Text or JSON lines (ops.log_format), call id and ticket code on every record, personal data
    # and secrets redacted. A broken configuration is reported by the command itself.
    fmt: Literal["text", "json"] = "text"
    secrets: list[str] = []
    try:
        s = get_settings()
        fmt, secrets = s.ops.log_format, configured_secrets(s)
    except SettingsError:
        pass
    configure_logging(logging.DEBUG if verbose else logging.WARNING, fmt, secrets, sys.stderr)
    log_redaction.install()  # credentials never reach a log line, whichever library writes it


for _group in COMMAND_GROUPS:
    main.add_command(_group)


if __name__ == "__main__":
    main()
