"""``hotline chat``: the dialogue engine as a text console.

Type what the caller says; ``#0912345678`` sends keypad digits, ``/silence``, ``/timeout`` and
``/hangup`` send those events, an empty line is silence and end of input is a hang-up. The bot's words
are printed as they would be spoken; at the end the draft (or the filed ticket) is printed as JSON.
With ``--create`` the report is filed through the ticket service; without it nothing is written.
"""

from __future__ import annotations

import json
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import click

from commands.errors import UserError
from config.settings import Settings, get_settings
from nlu.dialogue import actions as act
from nlu.dialogue import events as ev
from nlu.dialogue.draft import Draft
from nlu.dialogue.engine import DialogueEngine
from nlu.dialogue.ports import Interpreter
from nlu.dialogue.runner import Runner
from nlu.knowledge import default_index


def parse_line(line: str) -> ev.Event:
    """One console line as an engine event."""
    text = line.strip()
    if text.startswith("#"):
        return ev.Digits(text[1:].strip())
    command = text.lower()
    if command == "/hangup":
        return ev.Hangup()
    if command == "/timeout":
        return ev.Timeout()
    if command in ("/silence", ""):
        return ev.Silence()
    return ev.Heard(text, 1.0)


class DossierTable:
    """Dossier lookups from a local JSON table ``{code: {status, procedure, due_date}}`` (demo, tests).

    Codes match in full or by their 10-digit ``YYMMDDXXXX`` tail, as keyed on the phone.
    """

    def __init__(self, rows: dict[str, dict[str, str]]) -> None:
        self.rows = rows

    @classmethod
    def load(cls, path: Path | None) -> DossierTable:
        if path is None:
            return cls({})
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UserError(f"Không đọc được bảng hồ sơ / cannot read dossier table {path}: {exc}") from exc
        if not isinstance(data, dict):
            raise UserError(
                f"Bảng hồ sơ phải là đối tượng JSON / dossier table must be a JSON object: {path}"
            )
        return cls(data)

    def lookup(self, code: str) -> ev.DossierResult:
        wanted = code.upper().replace(" ", "")
        tail = "".join(ch for ch in wanted if ch.isdigit())[-10:]
        for key, row in self.rows.items():
            digits = "".join(ch for ch in key if ch.isdigit())[-10:]
            if key.upper() == wanted or (len(tail) == 10 and digits == tail):
                return ev.DossierResult(
                    key, True, row.get("status", ""), row.get("procedure", ""), row.get("due_date", "")
                )
        return ev.DossierResult(code, False)


@dataclass
class ConsolePorts:
    """Lookups and filing for the console: dossier table, and the ticket service when ``--create``."""

    dossiers: DossierTable
    service: Any | None  # ticketing.service.TicketService, built only with --create
    outbox: Any | None = None  # ticketing.db.outbox.SqlOutboxRepository, only with --create

    def lookup_dossier(self, code: str) -> ev.DossierResult:
        return self.dossiers.lookup(code)

    def lookup_ticket(self, code: str) -> ev.TicketStatus:
        if self.service is None:
            raise RuntimeError("ticket lookups need the database (--create)")
        from ticketing.service import TicketNotFound

        try:
            t = self.service.get(code)
        except TicketNotFound:
            return ev.TicketStatus(code, False)
        return ev.TicketStatus(t.code, True, str(t.status), t.lead_agency, t.result)

    def create_ticket(self, draft: Draft, complete: bool) -> str | None:
        if self.service is None:
            return None  # dry run: the draft is printed instead
        created = self.service.create(draft.ticket_data(complete=complete), "ai-operator")
        return str(created.ticket.code)

    def send_procedure_sms(self, sms: act.SendProcedureSms) -> bool:
        if self.outbox is None:
            return False  # dry run
        from ticketing.notify import procedure_answer_sms
        from ticketing.ports import SystemClock

        message = procedure_answer_sms(sms.phone, sms.title, sms.summary, key=uuid.uuid4().hex)
        self.outbox.enqueue(message, SystemClock().now())
        return True


def console_ports(settings: Settings, dossiers: Path | None, create: bool) -> ConsolePorts:
    """The console's ports: the dossier table, and with ``create`` the ticket service and the outbox."""
    table = DossierTable.load(dossiers)
    if not create:
        return ConsolePorts(table, None)
    from ticketing import calendar_config
    from ticketing.attachments import FileAttachmentStore
    from ticketing.db.engine import make_engine, make_session_factory
    from ticketing.db.outbox import SqlOutboxRepository
    from ticketing.db.repositories import SqlUnitOfWork
    from ticketing.ports import SystemClock, UnitOfWork
    from ticketing.service import TicketService

    factory = make_session_factory(make_engine(settings.database_url, create_dir=True))

    def uow() -> UnitOfWork:
        return cast(UnitOfWork, SqlUnitOfWork(factory))

    service = TicketService(
        uow,
        FileAttachmentStore(settings.attachments_dir),
        SystemClock(),
        lambda city: calendar_config.calendar_for(city, settings),
        lambda city: calendar_config.preset_for(city, settings),
        city=settings.city,
    )
    return ConsolePorts(table, service, SqlOutboxRepository(factory))


def build_interpreter(kind: str, city: str, settings: Settings) -> Interpreter:
    """Rasa, the rule-based fallback, or Rasa with the fallback behind it (``auto``)."""
    from nlu.interpreter import FallbackInterpreter, RasaInterpreter, ResilientInterpreter

    fallback = FallbackInterpreter(city)
    if kind == "fallback":
        return fallback
    nlu = settings.nlu
    rasa = RasaInterpreter(nlu.rasa_url, nlu.rasa_token, nlu.rasa_timeout_s, city)
    if kind == "rasa":
        return rasa
    return ResilientInterpreter(rasa, fallback)


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
  hotline chat --create --dossiers demo_dossiers.json""",
)
@interpreter_option
@click.option(
    "--caller-id", default="", help="The calling number the PBX would see (read back for confirmation)."
)
@click.option(
    "--city",
    type=click.Choice(["hanoi", "haiphong", "cantho"]),
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
    help="JSON table of dossiers {code: {status, procedure, due_date}} answering dossier lookups.",
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
    settings = get_settings()
    city = city or settings.city
    ports = console_ports(settings, dossiers, create)
    engine = DialogueEngine(
        build_interpreter(interpreter_kind, city, settings),
        default_index(),
        caller_id=caller_id,
        city=city,
        hotline=settings.pbx.hotline_number,
    )
    runner = Runner(engine, ports)
    print_actions(runner.start(), show_actions)
    while not runner.finished:
        line = sys.stdin.readline()
        event = parse_line(line) if line else ev.Hangup()
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
    if runner.dry_run_draft is not None:
        click.echo("[chưa tạo phiếu; dùng --create để tạo / not filed; use --create]")
    click.echo(json.dumps(result, ensure_ascii=False, indent=2, default=str))
