"""``hotline journal``: tickets and messages buffered in the local journal while the database was down."""

from __future__ import annotations

import click

from commands.db import settings, ticket_service, user_errors
from ticketing.journal import MessageJournal, TicketJournal, journal_path, messages_path


@click.group("journal")
def journal_group() -> None:
    """The local journal of tickets and messages (filled when the database is down during a call)."""


@journal_group.command("list", epilog="Example:\n\n  hotline journal list")
def list_cmd() -> None:
    """List the journaled tickets and messages not yet in the database."""
    data_dir = settings().data_dir
    pending = TicketJournal(journal_path(data_dir)).pending()
    for entry in pending:
        data = entry.data
        caller = data.get("caller", {})
        click.echo(
            f"{entry.id}\t{entry.at}\t{data.get('category', '')}\t{caller.get('phone', '')}\t"
            f"{len(entry.recordings)} recording(s)"
        )
    messages = MessageJournal(messages_path(data_dir)).pending()
    for entry_id, message in messages:
        fields = (message.get(k, "") for k in ("kind", "channel", "recipient"))
        click.echo("\t".join((entry_id, *fields)))
    click.echo(f"{len(pending)} phiếu, {len(messages)} tin nhắn chờ ghi / tickets, messages pending")


@journal_group.command("replay", epilog="Example:\n\n  hotline journal replay")
def replay_cmd() -> None:
    """File every journaled ticket (with its recordings) and queue every journaled message; safe to
    run again."""
    from commands.outbox import outbox_repository
    from pbx.ai_operator.ports import journal_writer, message_enqueuer
    from ticketing.ports import SystemClock

    data_dir = settings().data_dir
    journal = TicketJournal(journal_path(data_dir))
    messages = MessageJournal(messages_path(data_dir))
    with user_errors():
        report = journal.replay(journal_writer(ticket_service()))
        queued = messages.replay(message_enqueuer(outbox_repository(), SystemClock()))
    for entry_id, code in report.filed + queued.filed:
        click.echo(f"{entry_id} -> {code}")
    for entry_id, error in report.failed + queued.failed:
        click.echo(f"{entry_id}: chưa ghi được / not filed: {error}", err=True)
    click.echo(
        f"{len(report.filed)} phiếu, {len(queued.filed)} tin nhắn đã ghi / filed; "
        f"{len(journal.pending())} phiếu, {len(messages.pending())} tin nhắn chờ / pending"
    )
