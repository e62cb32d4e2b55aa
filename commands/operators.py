"""``hotline operators``: human operators' SIP endpoints (add, list, remove) and the operator queues.

Adding or removing an operator re-renders the Asterisk configuration and reloads a running Asterisk,
so the softphone can register at once and the queues get the new member.
"""

from __future__ import annotations

import json

import click

from commands.db import actor_option
from commands.errors import UserError, load_settings
from commands.pbx import db_session, render_current
from config.settings import Settings
from pbx.process import AsteriskProcess, PbxError
from pbx.render import rendered_dir
from ticketing.db.operators import OperatorExists, OperatorRepository
from ticketing.operators import OperatorError, new_endpoint, validate_name


def _apply(settings: Settings) -> None:
    """Re-render, and reload Asterisk if it runs."""
    lay = render_current(settings)
    proc = AsteriskProcess(lay)
    if proc.is_running():
        try:
            proc.reload(rendered_dir(lay))
        except PbxError as exc:
            raise UserError(f"saved, but reloading Asterisk failed: {exc}") from exc
        click.echo("Asterisk reloaded")


@click.group("operators")
def operators_group() -> None:
    """Human operators: SIP endpoints for softphones and members of the operator queues.

    \b
    Examples:
      hotline operators add op1001 --display "Nguyễn Thị Lan"
      hotline operators list
      hotline operators remove op1001
    """


@operators_group.command("add")
@click.argument("name")
@click.option("--display", default="", help="Name shown to colleagues (caller id), Vietnamese allowed.")
@actor_option
def add_cmd(name: str, display: str, actor: str) -> None:
    """Create an operator endpoint; its SIP password is printed once and never stored.

    \b
    Example:
      hotline operators add op1001 --display "Nguyễn Thị Lan"
    """
    settings = load_settings()
    try:
        endpoint, password = new_endpoint(name, display)
    except OperatorError as exc:
        raise UserError(str(exc)) from exc
    try:
        with db_session(settings, write=True) as session:
            OperatorRepository(session).add(endpoint, actor=actor)
    except OperatorExists as exc:
        raise UserError(f"operator {name} already exists (tổng đài viên đã tồn tại)") from exc
    _apply(settings)
    pbx = settings.pbx
    click.echo(f"operator {name} created; SIP account for the softphone (shown once):")
    click.echo(f"  server:   {pbx.bind_host}:{pbx.sip_port} (UDP)")
    click.echo(f"  user:     {name}")
    click.echo(f"  password: {password}")


@operators_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_cmd(as_json: bool) -> None:
    """List operators (names only; passwords are not stored).

    \b
    Example:
      hotline operators list --json
    """
    settings = load_settings()
    with db_session(settings) as session:
        rows = [(r.name, r.display_name, r.created_at.isoformat()) for r in OperatorRepository(session).all()]
    if as_json:
        click.echo(
            json.dumps(
                [{"name": n, "display_name": d, "created_at": c} for n, d, c in rows], ensure_ascii=False
            )
        )
        return
    if not rows:
        click.echo("no operators (chưa có tổng đài viên); add one with: hotline operators add NAME")
    for name, display, created in rows:
        click.echo(f"{name}\t{display}\t{created}")


@operators_group.command("remove")
@click.argument("name")
@actor_option
def remove_cmd(name: str, actor: str) -> None:
    """Remove an operator's endpoint and queue membership.

    \b
    Example:
      hotline operators remove op1001
    """
    settings = load_settings()
    try:
        validate_name(name)
    except OperatorError as exc:
        raise UserError(str(exc)) from exc
    with db_session(settings, write=True) as session:
        removed = OperatorRepository(session).remove(name, actor=actor)
    if not removed:
        raise UserError(f"no operator named {name} (không có tổng đài viên này)")
    _apply(settings)
    click.echo(f"operator {name} removed")
