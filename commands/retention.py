"""``hotline retention``: erase personal data past its retention and sweep unreferenced blobs.

A dry run unless ``--apply`` is given: it prints what would be erased and removed.
"""

from __future__ import annotations

import json

import click

from commands.db import services, user_errors


def _mb(n: int) -> str:
    return f"{n / 1_048_576:.1f} MB"


@click.command(
    "retention",
    epilog="""\b
Examples:
  hotline retention                 # dry run: what is past retention, and orphan blobs
  hotline retention --apply         # erase and remove it
  hotline retention --days 730 --json""",
)
@click.option("--apply", "apply_", is_flag=True, help="Erase and remove (default: only report).")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=None,
    help="Retention in days (default: retention.days in the settings, 1825).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def retention_cmd(apply_: bool, days: int | None, as_json: bool) -> None:
    """Erase the personal data of tickets closed longer ago than the retention (caller, transcript,
    recordings, the audit values quoting them) and of calls that ended that long ago (number,
    Asterisk recording), and remove attachment blobs no ticket refers to. The tickets themselves stay
    for the statistics. Dry run unless --apply."""
    with user_errors():
        report = services().retention.run(apply=apply_, days=days)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "applied": report.applied,
                    "cutoff": report.cutoff.isoformat(),
                    "tickets": [t.code for t in report.tickets],
                    "ticket_recordings": sum(t.recordings for t in report.tickets),
                    "calls": len(report.calls),
                    "call_recordings": [str(p) for p in report.call_files],
                    "orphan_blobs": [p.name for p in report.orphan_blobs],
                    "freed_bytes": report.freed_bytes,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    verb = "đã xóa / erased" if apply_ else "sẽ xóa / would erase"
    click.echo(f"hạn lưu trữ / retention cutoff: {report.cutoff:%Y-%m-%d %H:%M}")
    click.echo(
        f"phiếu quá hạn lưu trữ / tickets past retention: {len(report.tickets)} "
        f"({sum(t.recordings for t in report.tickets)} ghi âm, bản ghi lời / recordings, transcripts)"
    )
    for t in report.tickets[:20]:
        click.echo(f"  {t.code}  đóng / closed {t.closed_at:%Y-%m-%d}")
    click.echo(
        f"cuộc gọi / calls past retention: {len(report.calls)} ({len(report.call_files)} tệp ghi âm / files)"
    )
    click.echo(f"tệp không còn được tham chiếu / unreferenced blobs: {len(report.orphan_blobs)}")
    if apply_:
        click.echo(f"{verb}; giải phóng / freed {_mb(report.freed_bytes)}")
    else:
        click.echo("chạy thử, chưa xóa gì / dry run, nothing changed; add --apply to erase")
