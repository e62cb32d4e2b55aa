"""``hotline chat``: the dialogue engine as a text console.

Type what the caller says; ``#0912345678`` sends keypad digits, ``/silence``, ``/timeout`` and
``/hangup`` send those events, an empty line is silence and end of input is a hang-up. The bot's words
are printed as they would be spoken; at the end the draft (or the filed ticket) is printed as JSON.
With ``--create`` the report is filed through the ticket service; without it nothing is written.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from commands.db import services
from commands.errors import UserError
from nlu.dialogue import actions as act
from nlu.dialogue import events as ev
from nlu.dialogue.draft import Draft
from nlu.dialogue.engine import DialogueEngine
from nlu.dialogue.ports import Interpreter
from nlu.dialogue.runner import CallPorts, Runner
from nlu.interpreter import Tally
from nlu.knowledge import default_index
from nlu.scenarios import parse_turn
from reference import CITIES
from ticketing.dossiers import DossierSource, DossierTable, TableError
from wiring import Services


@dataclass
class DryRunPorts:
    """The console without ``--create``: lookups in the dossier source, nothing filed or queued."""

    dossiers: DossierSource

    def lookup_dossier(self, code: str) -> ev.DossierResult:
        found = self.dossiers.lookup(code)
        if found is None:
            return ev.DossierResult(code, False)
        return ev.DossierResult(found.code, True, found.status, found.procedure, found.due_date)

    def lookup_ticket(self, code: str) -> ev.TicketStatus:
        raise RuntimeError("ticket lookups need the database (--create)")

    def create_ticket(self, draft: Draft, complete: bool) -> str | None:
        return None  # dry run: the draft is printed instead

    def send_procedure_sms(self, sms: act.SendProcedureSms) -> bool:
        return False  # dry run


def dossier_table(path: Path) -> DossierSource:
    """A dossier table given on the command line (CSV as for `hotline dossiers import`), checked now."""
    table = DossierTable(path)
    try:
        table.rows()
    except (TableError, UnicodeDecodeError, OSError) as exc:
        raise UserError(f"Không đọc được bảng hồ sơ / cannot read dossier table {path}: {exc}") from exc
    return table


def console_ports(root: Services, dossiers: Path | None, create: bool) -> CallPorts:
    """The console's ports: as a live call's (the filing service, the outbox, the configured dossier
    source) with ``create``; else a dry run. ``dossiers`` replaces the dossier source."""
    source = dossier_table(dossiers) if dossiers is not None else root.dossiers
    if not create:
        return DryRunPorts(source)
    from commands.db import services

    services()  # the database must exist and be migrated
    return root.call_ports(source)


def build_interpreter(kind: str, city: str, root: Services) -> Interpreter:
    """Rasa (with the server's token), the rule-based fallback, or Rasa with the fallback behind it."""
    return root.interpreter_for(kind, city)


interpreter_option = click.option(
    "--interpreter",
    "interpreter_kind",
    type=click.Choice(["auto", "rasa", "fallback"]),
    default="auto",
    show_default=True,
    help="auto: Rasa when it answers, else the rule-based fallback.",
)


def print_actions(actions: list[act.Action], verbose: bool) -> None:
    for a in actions:
        if isinstance(a, act.Say):
            click.echo(f"Tổng đài: {a.text}")
        elif isinstance(a, act.Transfer):
            flag = ", khẩn / urgent" if a.urgent else ""
            click.echo(f"[chuyển tổng đài viên / transfer: {a.reason}{flag}]")
        elif isinstance(a, act.Hangup):
            click.echo("[kết thúc cuộc gọi / hang-up]")
        elif isinstance(a, act.SendProcedureSms):
            click.echo(f"[tin nhắn hướng dẫn / guidance SMS to {a.phone}: {a.title}]")
        elif isinstance(a, act.CreateTicket) and not a.complete:
            click.echo("[lưu bản nháp để gọi lại / incomplete draft kept for a call-back]")
        elif verbose:
            click.echo(f"[{a}]")


@click.command(
    "chat",
    epilog="""\b
Examples:
  hotline chat
  hotline chat --interpreter fallback --caller-id 0912345678
  printf 'tôi muốn phản ánh rác thải ở ngõ 5 hàng bông\\n/hangup\\n' | hotline chat --interpreter fallback
  hotline chat --create --dossiers demo_dossiers.csv""",
)
@interpreter_option
@click.option(
    "--caller-id", default="", help="The calling number the PBX would see (read back for confirmation)."
)
@click.option(
    "--city",
    type=click.Choice(CITIES),
    default=None,
    help="Defaults to the setting.",
)
@click.option(
    "--create", is_flag=True, help="File the report through the ticket service (needs the database)."
)
@click.option(
    "--dossiers",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="CSV table of dossiers (code,status,procedure,due_date) answering dossier lookups "
    "(default: the configured source).",
)
@click.option("--show-actions", is_flag=True, help="Also print Listen/Lookup actions.")
def chat_command(
    interpreter_kind: str,
    caller_id: str,
    city: str | None,
    create: bool,
    dossiers: Path | None,
    show_actions: bool,
) -> None:
    """Talk to the AI operator in the terminal, as a caller would on the phone."""
    root = services(database=False)
    settings = root.settings
    city = city or settings.city
    ports = console_ports(root, dossiers, create)
    interpreter = build_interpreter(interpreter_kind, city, root)
    click.echo(root.nlu_status(interpreter), err=True)
    tally = Tally(interpreter)
    engine = DialogueEngine(
        tally,
        default_index(),
        caller_id=caller_id,
        city=city,
        hotline=settings.pbx.hotline_number,
    )
    runner = Runner(engine, ports)
    print_actions(runner.start(), show_actions)
    while not runner.finished:
        line = sys.stdin.readline()
        event = parse_turn(line) if line else ev.Hangup()
        if isinstance(event, ev.Heard):
            click.echo(f"Người gọi: {event.text}")
        try:
            print_actions(runner.send(event), show_actions)
        except Exception as exc:
            raise UserError(f"Lỗi khi xử lý / error while handling {event}: {exc}") from exc
        if not line:
            break
    if create and engine.review_items:  # the learning loop: turns for a supervisor (hotline nlu review)
        from nlu.review import ReviewQueue

        ReviewQueue(settings.data_dir).add(engine.review_items, city=city)
    result: dict[str, Any] = {"draft": (runner.dry_run_draft or engine.draft).to_dict()}
    result["tickets"] = [{"code": code, "complete": complete} for code, complete in runner.created]
    click.echo(tally.summary(), err=True)
    if runner.dry_run_draft is not None:
        click.echo("[chưa tạo phiếu; dùng --create để tạo / not filed; use --create]")
    click.echo(json.dumps(result, ensure_ascii=False, indent=2, default=str))
