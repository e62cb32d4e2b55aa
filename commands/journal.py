"""``hotline journal``: tickets and messages buffered in the local journal while the database was down."""

from __future__ import annotations

import click

from commands.db import services, user_errors
from ticketing.privacy import mask


@click.group("journal")
def journal_group() -> None:
    """The local journal of tickets and messages (filled when the database is down during a call)."""


@journal_group.command("list", epilog="Example:\n\n  hotline journal list")
def list_cmd() -> None:
    """List the journaled tickets and messages not yet in the database."""
    root = services(database=False)
    pending = root.journal.pending()
    for entry in pending:
        data = entry.data
        caller = data.get("caller", {})
        click.echo(
            f"{entry.id}\t{entry.at}\t{data.get('category', '')}\t{mask(str(caller.get('phone', '')))}\t"
            f"{len(entry.recordings)} recording(s)"
        )
    messages = root.messages.pending()
    for entry_id, message in messages:
        fields = (message.get("kind", ""), message.get("channel", ""), mask(message.get("recipient", "")))
        click.echo("\t".join((entry_id, *fields)))
    click.echo(f"{len(pending)} phiếu, {len(messages)} tin nhắn chờ ghi / tickets, messages pending")


@journal_group.command("replay", epilog="Example:\n\n  hotline journal replay")
def replay_cmd() -> None:
    """File every journaled ticket (with its recordings) and queue every journaled message; safe to
    run again."""
    from ticketing.filing import message_enqueuer

    root = services()
    journal, messages = root.journal, root.messages
    with user_errors():
        report = root.filer.replay("ai-operator")
        queued = messages.replay(message_enqueuer(root.outbox, root.clock))
    for entry_id, code in report.filed + queued.filed:
        click.echo(f"{entry_id} -> {code}")
    for entry_id, error in report.failed + queued.failed:
        click.echo(f"{entry_id}: chưa ghi được / not filed: {error}", err=True)
    click.echo(
        f"{len(report.filed)} phiếu, {len(queued.filed)} tin nhắn đã ghi / filed; "
        f"{len(journal.pending())} phiếu, {len(messages.pending())} tin nhắn chờ / pending"
    )
