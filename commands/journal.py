"""``hotline journal``: tickets buffered in the local journal while the database was down."""

from __future__ import annotations

import click

from commands.db import settings, ticket_service, user_errors
from ticketing.journal import TicketJournal, journal_path


@click.group("journal")
def journal_group() -> None:
    """The local ticket journal (filled when the database is down during a call)."""


@journal_group.command("list", epilog="Example:\n\n  hotline journal list")
def list_cmd() -> None:
    """List the journaled tickets not yet filed in the database."""
    pending = TicketJournal(journal_path(settings().data_dir)).pending()
    for entry in pending:
        data = entry.data
        caller = data.get("caller", {})
        click.echo(
            f"{entry.id}\t{entry.at}\t{data.get('category', '')}\t{caller.get('phone', '')}\t"
            f"{len(entry.recordings)} recording(s)"
        )
    click.echo(f"{len(pending)} chờ ghi / pending")


@journal_group.command("replay", epilog="Example:\n\n  hotline journal replay")
def replay_cmd() -> None:
    """File every journaled ticket (with its recordings) in the database; safe to run again."""
    from pbx.ai_operator.ports import journal_writer

    journal = TicketJournal(journal_path(settings().data_dir))
    with user_errors():
        report = journal.replay(journal_writer(ticket_service()))
    for entry_id, code in report.filed:
        click.echo(f"{entry_id} -> {code}")
    for entry_id, error in report.failed:
        click.echo(f"{entry_id}: chưa ghi được / not filed: {error}", err=True)
    click.echo(f"{len(report.filed)} đã ghi / filed, {len(journal.pending())} chờ / pending")
