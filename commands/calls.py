"""``hotline calls``: the call log, newest first, with recordings as host file paths."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from commands.db import services
from commands.errors import UserError, load_settings
from config.settings import Settings
from pbx.install import InstallError, layout
from ticketing.calls import CallLog, CallRecord
from ticketing.privacy import mask


def _host_path(settings: Settings) -> Callable[[str], str]:
    """Translates a path Asterisk wrote (inside its chroot, if it runs in one) to the host's path."""
    try:
        lay = layout(settings)
    except InstallError:
        return lambda path: path
    return lambda path: str(lay.to_host(path)) if path else ""


def _call_log() -> CallLog:
    root = services(database=False)
    try:
        root.import_fallback_calls()
    except OSError as exc:  # an unreadable journal must not hide the calls already logged
        click.echo(f"Cảnh báo / warning: cannot read the fallback-call journal: {exc}", err=True)
    return root.call_log


def _as_dict(record: CallRecord, to_host: Callable[[str], str], show_personal: bool) -> dict[str, Any]:
    recording = to_host(record.recording)
    return {
        "id": record.id,
        "channel_id": record.channel_id,
        "caller": record.caller if show_personal else mask(record.caller),
        "called": record.called,
        "started_at": record.started_at.isoformat(),
        "answered_at": record.answered_at.isoformat() if record.answered_at else None,
        "ended_at": record.ended_at.isoformat() if record.ended_at else None,
        "duration_s": record.duration_s,
        "outcome": record.outcome.value if record.outcome else None,
        "recording": recording,
        "recording_exists": bool(recording) and Path(recording).is_file(),
        "ticket_code": record.ticket_code,
        "draft_id": record.draft_id,
        "node": record.node,
    }


def _one_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _load(settings: Settings, action: str) -> CallLog:
    try:
        return _call_log()
    except Exception as exc:  # database unreachable or not migrated
        raise UserError(f"Không đọc được nhật ký cuộc gọi / cannot {action}: {_one_line(exc)}") from exc


@click.group("calls")
def calls_group() -> None:
    """The call log: every call that reached the hotline and what became of it."""


@calls_group.command("list", epilog="Example:\n\n  hotline calls list --limit 20 --json")
@click.option(
    "--limit", type=click.IntRange(1, 10_000), default=50, show_default=True, help="How many calls."
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (newest first).")
@click.option("--show-personal", is_flag=True, help="Print callers' numbers unmasked.")
def list_calls(limit: int, as_json: bool, show_personal: bool) -> None:
    """List calls, newest first."""
    settings = load_settings()
    to_host = _host_path(settings)
    try:
        records = _load(settings, "list calls").recent(limit)
    except UserError:
        raise
    except Exception as exc:
        raise UserError(f"Không đọc được nhật ký cuộc gọi / cannot list calls: {_one_line(exc)}") from exc
    rows = [_as_dict(r, to_host, show_personal) for r in records]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("Chưa có cuộc gọi nào / no calls yet")
        return
    for row in rows:
        duration = f"{row['duration_s']:.0f}s" if row["duration_s"] is not None else "-"
        click.echo(
            f"{row['id']:>6}  {row['started_at'][:19]}  {row['node'] or '-':<8} {row['caller'] or '-':<14} "
            f"{row['outcome'] or 'in progress':<12} {duration:>6}  {row['recording'] or '-'}"
        )


@calls_group.command("show", epilog="Example:\n\n  hotline calls show 42")
@click.argument("call_id", type=int)
@click.option("--show-personal", is_flag=True, help="Print the caller's number unmasked.")
def show_call(call_id: int, show_personal: bool) -> None:
    """Show one call as JSON."""
    settings = load_settings()
    try:
        record = _load(settings, "show the call").get(call_id)
    except UserError:
        raise
    except Exception as exc:
        raise UserError(f"Không đọc được nhật ký cuộc gọi / cannot show the call: {_one_line(exc)}") from exc
    if record is None:
        raise UserError(f"Không có cuộc gọi số {call_id} / no call with id {call_id}")
    click.echo(
        json.dumps(_as_dict(record, _host_path(settings), show_personal), ensure_ascii=False, indent=2)
    )
