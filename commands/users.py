"""``hotline users``: staff accounts of the portal (the local administrator's tool).

Every change is audited as ``cli:<OS user>`` (the account running the command; there is no
``--actor`` to pose as someone else). A generated password is printed once and never stored.
"""

from __future__ import annotations

import getpass
import json
import sys

import click

from commands.db import require_database, user_errors
from commands.errors import UserError
from commands.errors import load_settings as settings
from ticketing.access import Role
from ticketing.users import UserService


def os_actor() -> str:
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return f"cli:{who}"


def _service() -> UserService:
    import wiring

    s = settings()
    require_database(s.database_url)
    services = wiring.build(s)
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.call_on_close(services.close)
    return services.users


def _read_password() -> str:
    text = sys.stdin.readline()
    if not text:
        raise UserError("Không đọc được mật khẩu từ stdin / no password on standard input")
    return text.rstrip("\r\n")


@click.group("users")
def users_group() -> None:
    """Staff accounts of the web portal: roles operator, supervisor, officer, head, leader, admin.

    \b
    Examples:
      hotline users add lan.nt --role officer --agency UBND-00070
      echo 'a-long-passphrase' | hotline users add hung.pv --role head --agency UBND-00070 --password-stdin
      hotline users list
      hotline users reset-password lan.nt
      hotline users disable lan.nt
    """


@users_group.command(
    "add",
    epilog="\b\nExamples:\n  hotline users add lan.nt --role officer --agency UBND-00070\n"
    "  hotline users add mai.lt --role operator --name 'Lê Thị Mai'\n"
    "  echo 'passphrase-of-12+' | hotline users add an.nv --role leader --password-stdin",
)
@click.argument("name")
@click.option(
    "--role",
    required=True,
    type=click.Choice([r.value for r in Role]),
    help="operator, supervisor (hotline centre), officer, head (one agency), leader, admin.",
)
@click.option(
    "--agency", default=None, help="Agency code (see 'hotline agencies list'); officer and head only."
)
@click.option("--name", "display_name", default="", help="Full name shown in the portal (Vietnamese).")
@click.option("--password-stdin", is_flag=True, help="Read the password (12+ characters) from stdin.")
def add_cmd(name: str, role: str, agency: str | None, display_name: str, password_stdin: bool) -> None:
    """Add a user with one role; without --password-stdin a password is generated and printed once."""
    password = _read_password() if password_stdin else None
    svc = _service()
    with user_errors():
        user, plain = svc.add(
            name, role, os_actor(), agency=agency, display_name=display_name, password=password
        )
    grant = user.grants[0]
    click.echo(f"Đã thêm / added {user.username}: {grant.label}")
    if not password_stdin:
        click.echo(f"Mật khẩu (chỉ hiện một lần) / password (shown once): {plain}")


@users_group.command("list", epilog="\b\nExamples:\n  hotline users list\n  hotline users list --json")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_cmd(as_json: bool) -> None:
    """List users with their roles, agencies and state (never a password or a hash)."""
    with user_errors():
        users = _service().list()
    if as_json:
        click.echo(
            json.dumps(
                [{**u.public(), "created_at": u.created_at.isoformat()} for u in users],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    for u in users:
        roles = ", ".join(f"{g.role.value}{'@' + g.agency if g.agency else ''}" for g in u.grants)
        state = "hoạt động / active" if u.active else "đã khóa / disabled"
        click.echo(f"{u.username:<20} {roles:<28} {state:<20} {u.display_name}")
    click.echo(f"{len(users)} users")


@users_group.command("disable", epilog="\b\nExample:\n  hotline users disable lan.nt")
@click.argument("name")
def disable_cmd(name: str) -> None:
    """Disable a user: no more logins, and open sessions end at once."""
    with user_errors():
        _service().disable(name, os_actor())
    click.echo(f"Đã khóa / disabled {name}")


@users_group.command(
    "reset-password",
    epilog="\b\nExamples:\n  hotline users reset-password lan.nt\n"
    "  echo 'new-passphrase-12' | hotline users reset-password lan.nt --password-stdin",
)
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the new password (12+ characters) from stdin.")
def reset_cmd(name: str, password_stdin: bool) -> None:
    """Set a new password (generated and printed once unless --password-stdin); sessions end."""
    password = _read_password() if password_stdin else None
    with user_errors():
        plain = _service().reset_password(name, os_actor(), password)
    click.echo(f"Đã đặt lại mật khẩu / password reset for {name}")
    if not password_stdin:
        click.echo(f"Mật khẩu mới (chỉ hiện một lần) / new password (shown once): {plain}")
