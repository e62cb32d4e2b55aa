"""``hotline outbox``: the notification outbox — list (including dead letters), deliver, retry."""

from __future__ import annotations

import json
import socket
from datetime import datetime
from typing import Any

import click

from commands.db import services, user_errors
from commands.errors import UserError
from ticketing.notifications.outbox import OutboxEntry
from ticketing.notifications.policy import OutboxStatus
from ticketing.ports import SystemClock
from ticketing.privacy import mask


def outbox_repository() -> Any:
    return services().outbox


def _view(e: OutboxEntry, show_personal: bool) -> dict[str, Any]:
    def stamp(d: datetime | None) -> str | None:
        return d.isoformat(timespec="seconds") if d else None

    return {
        "id": e.id,
        "kind": e.kind,
        "channel": e.channel,
        "recipient": e.recipient if show_personal else mask(e.recipient),
        "status": e.status.value,
        "attempts": e.attempts,
        "ticket": e.ticket_code,
        "created_at": stamp(e.created_at),
        "next_attempt_at": stamp(e.next_attempt_at),
        "sent_at": stamp(e.sent_at),
        "last_error": e.last_error,
    }


@click.group("outbox")
def outbox_group() -> None:
    """Notification outbox: queued SMS and e-mail, retries and dead letters."""


@outbox_group.command("list", epilog="Example: hotline outbox list --dead")
@click.option("--status", type=click.Choice([s.value for s in OutboxStatus]), help="Only this status.")
@click.option("--dead", is_flag=True, help="Only dead letters (same as --status dead).")
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--show-personal", is_flag=True, help="Print recipients unmasked.")
def list_cmd(status: str | None, dead: bool, limit: int, as_json: bool, show_personal: bool) -> None:
    """List queued, sent and dead messages, newest first."""
    wanted = OutboxStatus.DEAD if dead else (OutboxStatus(status) if status else None)
    with user_errors():
        rows = [_view(e, show_personal) for e in outbox_repository().list(wanted, limit)]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        click.echo(
            f"{r['id']:>6} {r['status']:<7} {r['channel']:<5} {r['kind']:<22} {r['recipient']:<14} "
            f"{r['ticket']:<10} attempts={r['attempts']} {r['last_error']}"
        )


@outbox_group.command("deliver", epilog="Example: hotline outbox deliver --limit 500")
@click.option("--limit", default=100, show_default=True, help="Messages to claim in this run.")
def deliver_cmd(limit: int) -> None:
    """Send the messages that are due now (the scheduler does this every minute)."""
    with user_errors():
        dispatcher = services().dispatcher(worker=f"{socket.gethostname()}:cli")
        report = dispatcher.deliver_due(limit)
    click.echo(f"sent {report.sent}, failed {report.failed} (will retry), dead {report.dead}")


@outbox_group.command("retry", epilog="Example: hotline outbox retry 42")
@click.argument("entry_id", type=int)
def retry_cmd(entry_id: int) -> None:
    """Put a failed or dead message back in the queue, due now."""
    with user_errors():
        ok = outbox_repository().retry(entry_id, SystemClock().now())
    if not ok:
        raise UserError(f"không có tin chờ gửi lại số {entry_id} / no unsent message {entry_id}")
    click.echo(f"queued {entry_id}")
